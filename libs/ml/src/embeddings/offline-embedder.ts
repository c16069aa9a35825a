import { tokenize } from './tokenize';

/** One token's vector and its weight in the sentence (frequent words weigh less). */
export interface TokenVector {
  readonly token: string;
  readonly vector: Float32Array;
  readonly weight: number;
}

/**
 * A synchronous in-process embedder: what the request path uses (no network, sub-millisecond).
 * Implementations: `GloveEmbedder` (pretrained word vectors shipped in models/embeddings) and
 * `HashedNgramEmbedder` (lexical floor, no data file).
 */
export abstract class OfflineEmbedder {
  abstract readonly name: string;
  abstract readonly dimensions: number;

  /** Unit vectors of tokens (as `tokenize` makes them) with their weights (shared objects: never mutate them). */
  abstract vectorsOfTokens(tokens: readonly string[]): TokenVector[];

  /** Unit vectors of the text's tokens with their weights. */
  tokenVectors(text: string): TokenVector[] {
    return this.vectorsOfTokens(tokenize(text));
  }

  /** The sentence vector: the weighted sum of the token vectors (not normalised; compare with cosine). */
  embed(text: string): Float32Array {
    return this.pool(this.tokenVectors(text));
  }

  pool(tokens: readonly TokenVector[]): Float32Array {
    const out = new Float32Array(this.dimensions);
    for (const { vector, weight } of tokens) for (let d = 0; d < out.length; d++) out[d]! += weight * vector[d]!;
    return out;
  }
}
