import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Token counts a fake reply reports, in one provider-neutral shape; each fake server renders them in its own
 * wire format (Gemini `usageMetadata`, OpenAI `usage`), so the same script checks every adapter's mapping.
 */
export interface FakeUsage {
  /** All prompt tokens, cached ones included (Gemini `promptTokenCount`, OpenAI `prompt_tokens`). */
  prompt: number;
  /** Of `prompt`, those served from the provider's cache. */
  cached?: number;
  /** Visible answer tokens, reasoning excluded (Gemini `candidatesTokenCount`; OpenAI completion − reasoning). */
  output: number;
  /** Thinking/reasoning tokens (Gemini `thoughtsTokenCount`, OpenAI `reasoning_tokens`). */
  reasoning?: number;
}

interface Delayed {
  /** Wait this long before sending the status line (a slow upstream). */
  delayMs?: number;
}

/** One scripted upstream behaviour. Every variant renders for both JSON and SSE (streaming) requests. */
export type FakeReply =
  | (Delayed & {
      type: 'answer';
      /** Default: `answer from <model>`. */
      text?: string;
      /** The stream's deltas (default: `text` cut into three pieces). Non-streaming answers send `text`. */
      chunks?: string[];
      /** Pause between stream events (time-to-first-token and slow-stream tests). */
      chunkDelayMs?: number;
      /**
       * Gemini streams: the events sent at once before `chunkDelayMs` starts pausing (default 1); with a pause longer
       * than the client's timeout, a stream that stalls after this many deltas.
       */
      immediateChunks?: number;
      /** Default `{ prompt: 12, output: 5 }`; `null` reports no usage at all. */
      usage?: FakeUsage | null;
      /** The provider's own word (default STOP for Gemini, stop for OpenAI). */
      finishReason?: string;
      /** The model the response claims (Gemini `modelVersion`, OpenAI `model`); default: the requested one. */
      model?: string;
      /** Gemini only: a thought part sent before the answer (must not reach the answer text). */
      thoughts?: string;
    })
  | (Delayed & { type: 'prompt_block'; reason?: string })
  | (Delayed & {
      type: 'candidate_block';
      /** Gemini finish reason (default SAFETY); OpenAI always uses `content_filter`. */
      reason?: string;
      /** Text streamed before the block (default none). */
      text?: string;
    })
  | (Delayed & {
      type: 'error';
      status: number;
      /** Sent verbatim as the `Retry-After` header (seconds or an HTTP date). */
      retryAfter?: string;
      /** Gemini only: a `google.rpc.RetryInfo` detail in the body, e.g. `"17s"`. */
      retryDelay?: string;
      /** Replaces the provider-style error body. */
      body?: unknown;
      headers?: Record<string, string>;
    })
  /**
   * A stream that fails after it started: `text` streamed as deltas, then an error event
   * (`data: {"error": {"code": status, ...}}`). A non-streaming request gets the plain HTTP error.
   */
  | (Delayed & { type: 'stream_error'; text?: string; status?: number })
  /** 200 with a body that is not valid JSON (or an SSE event that is not). */
  | (Delayed & { type: 'malformed' })
  /**
   * 200 with a body given in the provider's own wire format (e.g. a tool call): `json` for a JSON request, `sse` for a
   * stream (one `data:` event per item, objects JSON-encoded).
   */
  | (Delayed & { type: 'raw'; json?: unknown; sse?: unknown[] })
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | { type: 'hang' }
  /** Destroys the socket without an answer (the client sees a connection reset). */
  | (Delayed & { type: 'reset' });

/** The replies a subclass renders (`hang`, `reset` and `raw` are handled by the base). */
export type RenderableReply = Exclude<FakeReply, { type: 'hang' } | { type: 'reset' } | { type: 'raw' }>;

/** A recorded request, as the fake server received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  /** Which protocol route matched; undefined for an unknown route (answered 404). */
  api: 'vertex' | 'gemini' | 'openai' | undefined;
  /** The model named in the URL (Vertex/Gemini) or the body (OpenAI). */
  model: string | undefined;
  stream: boolean;
  apiVersion?: string;
  project?: string;
  location?: string;
  remoteAddress: string | undefined;
  /** The client's source port: equal ports on successive requests mean a reused keep-alive connection. */
  remotePort: number | undefined;
  /**
   * `pending` while the answer is being written (or delayed), `completed` once fully sent, `client_closed` when
   * the client went away first (e.g. it aborted on a timeout, which cancels the upstream call), `reset` when a
   * `reset` reply dropped the connection.
   */
  outcome: 'pending' | 'completed' | 'client_closed' | 'reset';
}

/** A reply, or a function choosing one from the request (e.g. by model). */
export type FakeReplySource = FakeReply | ((request: RecordedRequest) => FakeReply);

export interface RouteMatch {
  api: 'vertex' | 'gemini' | 'openai';
  model: string | undefined;
  stream: boolean;
  apiVersion?: string;
  project?: string;
  location?: string;
}

const DEFAULT_REPLY: FakeReply = { type: 'answer' };

/**
 * Base of the loopback fake LLM servers: a real `node:http` server on 127.0.0.1 with an ephemeral port that
 * records every request and answers from a script. Replies are taken from the queue (`enqueue`) in arrival
 * order; when the queue is empty the default reply (`setDefault`, initially a normal answer) is used.
 * Subclasses only match routes and render the provider's wire format.
 */
export abstract class FakeLlmServer {
  /** Every request received, in arrival order (unknown routes included). */
  readonly requests: RecordedRequest[] = [];
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly sockets = new Set<Socket>();
  private queue: FakeReplySource[] = [];
  private fallback: FakeReplySource = DEFAULT_REPLY;
  private waiters: { count: number; resolve: () => void }[] = [];
  private responseCounter = 0;

  /** `http://127.0.0.1:<port>` (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return this;
  }

  /** Closes the server and every open connection (hanging requests included). */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Queues replies for the next requests, in order. */
  enqueue(...replies: FakeReplySource[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** The reply used once the queue is empty. */
  setDefault(reply: FakeReplySource): this {
    this.fallback = reply;
    return this;
  }

  /** Forgets recorded requests, queued replies and the default reply. */
  reset(): this {
    this.requests.length = 0;
    this.queue = [];
    this.fallback = DEFAULT_REPLY;
    return this;
  }

  /** Resolves once at least `count` requests have been received (a hang guard of 15 s by default, for a loaded runner). */
  waitForRequests(count: number, timeoutMs = 15_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fake server: ${this.requests.length}/${count} requests after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Matches a protocol route; undefined answers 404. */
  protected abstract route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): RouteMatch | undefined;

  /** Writes `reply` in the provider's wire format (JSON or SSE per `request.stream`). */
  protected abstract render(reply: RenderableReply, request: RecordedRequest, res: ServerResponse): Promise<void>;

  /** A response id unique within this server. */
  protected nextId(): number {
    return ++this.responseCounter;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const match = this.route(method, url.pathname, query, body);
    const request: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      headers: req.headers,
      rawBody,
      body,
      api: match?.api,
      model: match?.model,
      stream: match?.stream ?? false,
      apiVersion: match?.apiVersion,
      project: match?.project,
      location: match?.location,
      remoteAddress: req.socket.remoteAddress,
      remotePort: req.socket.remotePort,
      outcome: 'pending',
    };
    res.once('finish', () => {
      request.outcome = 'completed';
    });
    res.once('close', () => {
      if (request.outcome === 'pending') request.outcome = 'client_closed';
    });
    this.requests.push(request);
    this.notifyWaiters();
    if (match === undefined) {
      sendJson(res, 404, { error: { code: 404, message: `fake server: no route for ${method} ${url.pathname}` } });
      return;
    }
    const source = this.queue.shift() ?? this.fallback;
    const reply = typeof source === 'function' ? source(request) : source;
    if (reply.type === 'hang') return;
    if (reply.delayMs !== undefined && !(await pause(reply.delayMs, res))) return;
    if (reply.type === 'reset') {
      request.outcome = 'reset';
      req.socket.destroy();
      return;
    }
    if (reply.type === 'raw') {
      if (request.stream)
        await sendSse(
          res,
          (reply.sse ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))),
        );
      else sendJson(res, 200, reply.json ?? {});
      return;
    }
    await this.render(reply, request, res);
  }

  private notifyWaiters(): void {
    const ready = this.waiters.filter((w) => this.requests.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.requests.length < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}

/** Waits `ms`; false when the client went away meanwhile (nothing more should be written). */
export function pause(ms: number, res: ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Writes an SSE body: one `data:` event per payload. The first `immediate` events go out at once; a pause of
 * `chunkDelayMs` precedes each later one.
 */
export async function sendSse(res: ServerResponse, payloads: string[], chunkDelayMs = 0, immediate = 1): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [index, payload] of payloads.entries()) {
    if (index >= immediate && chunkDelayMs > 0 && !(await pause(chunkDelayMs, res))) return;
    if (res.destroyed) return;
    res.write(`data: ${payload}\n\n`);
  }
  res.end();
}

/** Cuts a text into (at most) `parts` pieces of similar length, never empty ones. */
export function splitText(text: string, parts = 3): string[] {
  if (text.length <= parts) return text === '' ? [] : [text];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
