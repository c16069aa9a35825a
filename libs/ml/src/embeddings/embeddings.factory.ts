import type { AppConfig } from '@app/config';
import { EmbeddingsPort, OfflineEmbeddingsAdapter } from './embeddings.port';
import type { OfflineEmbedder } from './offline-embedder';
import { OpenAiEmbeddingsAdapter } from './openai-embeddings.adapter';

export const DEFAULT_GOOGLE_EMBEDDINGS_MODEL = 'gemini-embedding-001';
export const DEFAULT_OPENAI_EMBEDDINGS_MODEL = 'text-embedding-3-small';
const EMBEDDINGS_TIMEOUT_MS = 10_000;

type GenAiEmbeddingsModule = typeof import('./genai-embeddings.adapter');

/** Loaded only for the Google providers: @google/genai adds about 75 ms to every start otherwise. */
function genAiEmbeddings(): GenAiEmbeddingsModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./genai-embeddings.adapter') as GenAiEmbeddingsModule;
}

/**
 * The embeddings adapter for the configured LLM provider: Vertex AI or Gemini through @google/genai, an
 * OpenAI-compatible /v1/embeddings, or the offline embedder (simulated provider, or ML_REMOTE_EMBEDDINGS=false).
 */
export function createEmbeddingsPort(config: AppConfig, offline: OfflineEmbedder): EmbeddingsPort {
  const { llm, ml } = config;
  if (!ml.remoteEmbeddings) return new OfflineEmbeddingsAdapter(offline);
  const timeoutMs = Math.min(llm.timeoutMs, EMBEDDINGS_TIMEOUT_MS);
  switch (llm.provider) {
    case 'vertex':
      return new (genAiEmbeddings().GenAiEmbeddingsAdapter)({
        model: ml.embeddingsModel ?? DEFAULT_GOOGLE_EMBEDDINGS_MODEL,
        timeoutMs,
        vertex: { project: llm.vertex.project, location: llm.vertex.location },
        baseUrl: llm.baseUrl,
      });
    case 'gemini':
      return new (genAiEmbeddings().GenAiEmbeddingsAdapter)({
        model: ml.embeddingsModel ?? DEFAULT_GOOGLE_EMBEDDINGS_MODEL,
        timeoutMs,
        apiKey: llm.gemini.apiKey?.reveal(),
        baseUrl: llm.baseUrl,
      });
    case 'openai': {
      const baseUrl = llm.openai.baseUrl ?? llm.baseUrl;
      if (!baseUrl) return new OfflineEmbeddingsAdapter(offline);
      return new OpenAiEmbeddingsAdapter({
        baseUrl,
        apiKey: llm.openai.apiKey?.reveal(),
        model: ml.embeddingsModel ?? DEFAULT_OPENAI_EMBEDDINGS_MODEL,
        timeoutMs,
      });
    }
    case 'simulated':
      return new OfflineEmbeddingsAdapter(offline);
  }
}
