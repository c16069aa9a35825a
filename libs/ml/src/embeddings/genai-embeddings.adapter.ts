import { createUndiciFetch, googleEndpoint } from '@app/common';
import { GoogleGenAI, type HttpOptions } from '@google/genai';
import type { AuthClient } from 'google-auth-library';
import { Agent } from 'undici';
import { EmbeddingsError, EmbeddingsPort } from './embeddings.port';
import { MAX_EMBEDDINGS_RESPONSE_BYTES } from './openai-embeddings.adapter';

export interface GenAiEmbeddingsOptions {
  model: string;
  timeoutMs: number;
  /** Gemini Developer API key (LLM_PROVIDER=gemini). */
  apiKey?: string;
  /** Vertex AI project and location (LLM_PROVIDER=vertex; credentials from Application Default Credentials). */
  vertex?: { project?: string; location: string };
  /** Override of the API base URL (LLM_BASE_URL; tests point it at a loopback server); else Google's endpoint. */
  baseUrl?: string;
  /** Vertex mode: an auth client to use instead of Application Default Credentials (tests: a fixed token). */
  authClient?: AuthClient;
}

/** Vertex AI / Gemini embeddings through @google/genai (`models.embedContent`). */
export class GenAiEmbeddingsAdapter extends EmbeddingsPort {
  readonly remote = true;
  readonly name: string;
  private readonly client: GoogleGenAI;
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 });

  constructor(private readonly options: GenAiEmbeddingsOptions) {
    super();
    this.name = `${options.vertex ? 'vertex' : 'gemini'}:${options.model}`;
    // undici's request() behind the SDK's fetch hook, as the LLM adapter does: WHATWG fetch costs several times
    // the CPU per call (bench/RESULTS.md). A non-2xx answer becomes an EmbeddingsError with its status; what is read
    // of an answer is bounded (past the limit the connection is closed and the call fails).
    const httpOptions: HttpOptions = {
      fetch: createUndiciFetch(
        this.agent,
        (status) => new EmbeddingsError(`${this.name} embeddings failed: upstream answered HTTP ${status}`, status),
        { maxResponseBytes: MAX_EMBEDDINGS_RESPONSE_BYTES },
      ),
      // Always explicit: given none, the SDK would take GOOGLE_VERTEX_BASE_URL / GOOGLE_GEMINI_BASE_URL from the environment.
      baseUrl: options.baseUrl ?? googleEndpoint(options.vertex ? 'vertex' : 'gemini', options.vertex?.location ?? ''),
    };
    this.client = options.vertex
      ? new GoogleGenAI({
          vertexai: true,
          project: options.vertex.project,
          location: options.vertex.location,
          // @google/genai bundles its own google-auth-library copy: the client is structurally the same.
          ...(options.authClient ? { googleAuthOptions: { authClient: options.authClient as never } } : {}),
          httpOptions,
        })
      : new GoogleGenAI({ apiKey: options.apiKey, httpOptions });
  }

  override close(): Promise<void> {
    return this.agent.close();
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await this.client.models.embedContent({
        model: this.options.model,
        contents: [...texts],
        config: { abortSignal },
      });
      const embeddings = response.embeddings ?? [];
      if (embeddings.length !== texts.length || embeddings.some((e) => !e.values?.length)) {
        throw new EmbeddingsError(`expected ${texts.length} embeddings, got ${embeddings.length}`);
      }
      return embeddings.map((e) => Float32Array.from(e.values!));
    } catch (error) {
      if (error instanceof EmbeddingsError) throw error;
      const status = (error as { status?: unknown }).status;
      throw new EmbeddingsError(
        `${this.name} embeddings failed: ${(error as Error).message}`,
        typeof status === 'number' ? status : undefined,
        {
          cause: error,
        },
      );
    }
  }
}
