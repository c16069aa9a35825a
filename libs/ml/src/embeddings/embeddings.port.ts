/**
 * Port: text embeddings, possibly from a remote API. The request path never awaits it (QualityScorer uses
 * the synchronous OfflineEmbedder); remote adapters are used off the response path by QualityRefiner.
 */
export abstract class EmbeddingsPort {
  abstract readonly name: string;
  /** True when `embed` makes a network call (and may cost money). */
  abstract readonly remote: boolean;
  abstract embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;

  /** Releases connections (at shutdown). */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The offline embedder behind the port (the default when no remote provider is configured). */
export class OfflineEmbeddingsAdapter extends EmbeddingsPort {
  readonly remote = false;
  readonly name: string;

  constructor(private readonly embedder: { readonly name: string; embed(text: string): Float32Array }) {
    super();
    this.name = `offline:${embedder.name}`;
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map((t) => this.embedder.embed(t)));
  }
}

/** A remote embedding call failed; `status` is the HTTP status when there was one. */
export class EmbeddingsError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmbeddingsError';
  }
}
