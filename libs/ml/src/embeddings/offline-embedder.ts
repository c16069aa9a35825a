/** One token's vector and its weight in the sentence (frequent words weigh less). */
export interface TokenVector {
  token: string;
  vector: Float32Array;
  weight: number;
}

/**
 * A synchronous in-process embedder: what the request path uses (no network, sub-millisecond).
 * Implementations: `GloveEmbedder` (pretrained word vectors shipped in models/embeddings) and
 * `HashedNgramEmbedder` (lexical floor, no data file).
 */
export abstract class OfflineEmbedder {
  abstract readonly name: string;
  abstract readonly dimensions: number;

  /** Unit vectors of the text's tokens with their weights. */
  abstract tokenVectors(text: string): TokenVector[];

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
