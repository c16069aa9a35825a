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
  /**
   * INCIDENTS_WEBHOOK_SECRET, sent as `X-Webhook-Secret` on `incidentWebhook` only (the operation's `webhook-secret`
   * security scheme; no API key replaces it). Left out: that call sends none, unless given in its `headers`.
   */
  webhookSecret?: string;
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
  const webhookSecret = options.webhookSecret;
  if (webhookSecret !== undefined && (webhookSecret === '' || /[\r\n]/.test(webhookSecret)))
    throw new Error('webhookSecret must be a non-empty header value');
  return createClient({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers,
    // The generated functions ask for the credential of their security scheme by name: only the webhook's is given
    // here (the API key is the `authorization` header above, which every other operation's scheme finds set).
    ...(webhookSecret !== undefined
      ? { auth: (scheme: { name?: string }) => (scheme.name === 'X-Webhook-Secret' ? webhookSecret : undefined) }
      : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
