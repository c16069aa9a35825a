import { readLimited, UpstreamResponseTooLargeError } from '@app/common';
import { type Dispatcher, Pool } from 'undici';
import { EmbeddingsError, EmbeddingsPort } from './embeddings.port';

export interface OpenAiEmbeddingsOptions {
  /** OPENAI_BASE_URL, with or without the trailing /v1. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

/**
 * The most read of one embeddings answer (it is parsed whole). A few texts of a few thousand dimensions are a few
 * hundred KB of JSON; past this the answer is not one (a runaway or misrouted upstream) and the connection is closed.
 */
export const MAX_EMBEDDINGS_RESPONSE_BYTES = 8 * 1024 * 1024;

interface EmbeddingsResponse {
  data?: Array<{ index?: number; embedding?: number[] }>;
}

/**
 * An OpenAI-compatible `POST /v1/embeddings` (OpenAI, vLLM, Ollama, llama.cpp server...) on an undici
 * Pool: the global `fetch` costs several times the CPU per call (bench/RESULTS.md).
 */
export class OpenAiEmbeddingsAdapter extends EmbeddingsPort {
  readonly remote = true;
  readonly name: string;
  private readonly path: string;
  private readonly pool: Pool;

  constructor(private readonly options: OpenAiEmbeddingsOptions) {
    super();
    this.name = `openai:${options.model}`;
    const url = new URL(options.baseUrl);
    const prefix = url.pathname.replace(/\/+$/, '');
    this.path = `${prefix.endsWith('/v1') ? prefix : `${prefix}/v1`}/embeddings`;
    this.pool = new Pool(url.origin, {
      connections: 4,
      keepAliveTimeout: 30_000,
      // A backstop only: the signal below enforces the timeout first.
      headersTimeout: options.timeoutMs + 5_000,
      bodyTimeout: options.timeoutMs + 5_000,
    });
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        path: this.path,
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
    if (response.statusCode < 200 || response.statusCode >= 300) {
      response.body.resume();
      throw new EmbeddingsError(`${this.name} embeddings answered HTTP ${response.statusCode}`, response.statusCode);
    }
    let body: EmbeddingsResponse;
    try {
      body = JSON.parse(
        await readLimited(response.body, MAX_EMBEDDINGS_RESPONSE_BYTES, response.headers),
      ) as EmbeddingsResponse;
    } catch (error) {
      if (error instanceof UpstreamResponseTooLargeError) {
        throw new EmbeddingsError(`${this.name} embeddings: ${error.message}; the connection was closed`, undefined, {
          cause: error,
        });
      }
      throw new EmbeddingsError(`${this.name} embeddings: unreadable answer: ${(error as Error).message}`);
    }
    const data = [...(body.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    if (data.length !== texts.length || data.some((d) => !d.embedding?.length)) {
      throw new EmbeddingsError(`expected ${texts.length} embeddings, got ${data.length}`);
    }
    return data.map((d) => Float32Array.from(d.embedding!));
  }

  override close(): Promise<void> {
    return this.pool.close();
  }
}
