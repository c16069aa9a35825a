/**
 * The TypeScript client of the LLM Reliability Control Plane. Everything under `generated/` is written by
 * `npm run client:generate` from openapi/control-plane.json (one function per operation, named by its operationId,
 * and the types of every request and answer); this file only creates the fetch client they run on.
 *
 *   const client = createControlPlaneClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.CP_API_KEY });
 *   const { data, error, response } = await qa({ client, body: { question: 'Why is the sky blue?' } });
 *
 * `data` is the documented answer of a 2xx, `error` the parsed body of anything else (problem details, or the
 * OpenAI error object on `/v1`), `response` the fetch `Response` (status, headers).
 */
import { type Client, createClient } from './generated/client';

export * from './generated';
export type { Client, Config, Options as RequestOptions, RequestResult } from './generated/client';

export interface ControlPlaneClientOptions {
  /** Where the control plane listens, without a trailing path: `http://localhost:3000`. */
  baseUrl: string;
  /**
   * An API key (`API_KEYS`), sent as `Authorization: Bearer <key>` on every request (the control plane also takes
   * it as `x-api-key`). Left out: no credentials are sent.
   */
  apiKey?: string;
  /** Headers sent with every request (a trace header, a user agent...). */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** A client for the control plane at `baseUrl`, presenting `apiKey` on every request. */
export function createControlPlaneClient(options: ControlPlaneClientOptions): Client {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined) {
    if (options.apiKey === '' || /[\r\n]/.test(options.apiKey))
      throw new Error('apiKey must be a non-empty header value');
    headers.authorization = `Bearer ${options.apiKey}`;
  }
  return createClient({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
