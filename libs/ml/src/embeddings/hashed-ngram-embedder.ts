import { fnv1a } from './tokenize';
import { OfflineEmbedder, type TokenVector } from './offline-embedder';

const DIMENSIONS = 512;

/**
 * The lexical floor: each word is its character trigrams (and itself) hashed with a sign bit into 512
 * dimensions, L2-normalised. Knows spelling, not meaning ("car" and "automobile" are unrelated).
 */
export class HashedNgramEmbedder extends OfflineEmbedder {
  readonly name = 'hashed-ngram-512';
  readonly dimensions = DIMENSIONS;
  private readonly cache = new Map<string, Float32Array>();

  vectorsOfTokens(tokens: readonly string[]): TokenVector[] {
    return tokens.map((token) => ({ token, vector: this.wordVector(token), weight: 1 }));
  }

  private wordVector(token: string): Float32Array {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const out = new Float32Array(DIMENSIONS);
    const add = (feature: string, weight: number): void => {
      const h = fnv1a(feature);
      out[h % DIMENSIONS]! += h & 0x80000000 ? -weight : weight;
    };
    add(`w:${token}`, 1);
    const padded = `<${token}>`;
    for (let i = 0; i + 3 <= padded.length; i++) add(padded.slice(i, i + 3), 0.5);
    let norm = 0;
    for (const v of out) norm += v * v;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < DIMENSIONS; i++) out[i]! *= inv;
    if (this.cache.size > 20_000) this.cache.clear();
    this.cache.set(token, out);
    return out;
  }
}
