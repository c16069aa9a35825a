import { EmbeddingsError, EmbeddingsPort } from './embeddings.port';

export interface OpenAiEmbeddingsOptions {
  /** OPENAI_BASE_URL, with or without the trailing /v1. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

interface EmbeddingsResponse {
  data?: Array<{ index?: number; embedding?: number[] }>;
}

/** An OpenAI-compatible `POST /v1/embeddings` (OpenAI, vLLM, Ollama, llama.cpp server...). */
export class OpenAiEmbeddingsAdapter extends EmbeddingsPort {
  readonly remote = true;
  readonly name: string;
  private readonly url: string;

  constructor(private readonly options: OpenAiEmbeddingsOptions) {
    super();
    this.name = `openai:${options.model}`;
    const base = options.baseUrl.replace(/\/+$/, '');
    this.url = /\/v1$/.test(base) ? `${base}/embeddings` : `${base}/v1/embeddings`;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: this.options.model, input: texts }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      throw new EmbeddingsError(`${this.name} embeddings failed: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new EmbeddingsError(`${this.name} embeddings answered HTTP ${response.status}`, response.status);
    }
    const body = (await response.json()) as EmbeddingsResponse;
    const data = [...(body.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    if (data.length !== texts.length || data.some((d) => !d.embedding?.length)) {
      throw new EmbeddingsError(`expected ${texts.length} embeddings, got ${data.length}`);
    }
    return data.map((d) => Float32Array.from(d.embedding!));
  }
}
