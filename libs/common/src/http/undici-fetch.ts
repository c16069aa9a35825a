import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { UpstreamConnectionError } from './upstream-connection.error';

/** The `fetch` signature `@google/genai` accepts in `httpOptions.fetch`. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How the caller's adapter turns a non-2xx answer into its own error type. */
export type StatusErrorFactory = (status: number, headers: IncomingHttpHeaders, body: string) => Error;

/** Upper bound on what is read from an error body (it only feeds a truncated message and retry hints). */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;

/**
 * How much of a longer error body is read and dropped, so that the keep-alive connection can be reused; past it
 * the connection is closed instead (an endless error body must not keep the call waiting).
 */
export const MAX_ERROR_DRAIN_BYTES = 1024 * 1024;

/** What `createUndiciFetch` reads of one successful response at most, unless told otherwise. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * A request header the caller of the SDK sets per call (`httpOptions.headers`) to lower the response limit of that
 * call; `createUndiciFetch` reads it and never sends it.
 */
export const RESPONSE_LIMIT_HEADER = 'x-lrcp-max-response-bytes';

/**
 * An upstream answer (a JSON body, or a whole stream) longer than the limit of the call: reading stopped there and
 * the connection was closed. Nothing past the limit was kept in memory.
 */
export class UpstreamResponseTooLargeError extends Error {
  constructor(
    readonly limitBytes: number,
    readonly streamed: boolean,
  ) {
    super(`the upstream ${streamed ? 'stream' : 'response body'} exceeded ${limitBytes} bytes`);
    this.name = 'UpstreamResponseTooLargeError';
  }
}

export interface UndiciFetchOptions {
  /**
   * The most read of one successful response: a JSON body, or the whole of a `text/event-stream` body (default
   * `DEFAULT_MAX_RESPONSE_BYTES`). A request may lower it with the `RESPONSE_LIMIT_HEADER` header.
   */
  maxResponseBytes?: number;
}

/**
 * A minimal `fetch` for SDKs that accept one (`@google/genai` `httpOptions.fetch`), built on an undici
 * dispatcher's `request()` rather than on WHATWG fetch: measured here, the SDK's default path (global fetch)
 * costs about twice the CPU per call of this one.
 *
 * Differences from fetch, on purpose:
 * - a non-2xx answer is not returned: its body is read (bounded) and the error `errorForStatus` makes of it is
 *   thrown (the SDK's own `ApiError` keeps only the status; the LLM adapter keeps the `Retry-After` delay too);
 * - a request that gets no answer at all rejects with `UpstreamConnectionError` (the transport error as cause);
 * - a `text/event-stream` body is handed over as a stream; any other body is read fully first;
 * - what is read of a successful answer is bounded (`maxResponseBytes`, or the lower `RESPONSE_LIMIT_HEADER` of the
 *   request), for a JSON body and for a whole stream alike: past it the connection is closed and the body (or the
 *   stream's next read) fails with `UpstreamResponseTooLargeError`. A runaway upstream cannot fill the heap;
 * - no redirects, no cookies, no CORS: it talks to one API.
 */
export function createUndiciFetch(
  dispatcher: Dispatcher,
  errorForStatus: StatusErrorFactory,
  options: UndiciFetchOptions = {},
): FetchLike {
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : new URL(input.url);
    const requestHeaders = plainHeaders(init.headers);
    const limit = responseLimit(requestHeaders, maxResponseBytes);
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: init.method ?? 'GET',
        headers: requestHeaders,
        body: requestBody(init.body),
        signal: init.signal ?? undefined,
      });
    } catch (error) {
      throw init.signal?.aborted ? error : new UpstreamConnectionError(error);
    }
    const { statusCode, headers, body } = response;
    if (statusCode < 200 || statusCode >= 300) {
      throw errorForStatus(statusCode, headers, await readBounded(body, MAX_ERROR_BODY_BYTES));
    }
    const responseHeaders = webHeaders(headers);
    if (statusCode === 204 || statusCode === 205) {
      body.resume();
      return new Response(null, { status: statusCode, headers: responseHeaders });
    }
    if (responseHeaders.get('content-type')?.includes('text/event-stream')) {
      const stream = Readable.toWeb(body) as ReadableStream<Uint8Array>;
      limitStream(body, limit);
      return new Response(stream, { status: statusCode, headers: responseHeaders });
    }
    return new Response(await readLimited(body, limit, headers), { status: statusCode, headers: responseHeaders });
  };
}

/** An undici response body. */
type BodyReadable = Dispatcher.ResponseData['body'];

/**
 * Reads a whole undici body as UTF-8, failing with `UpstreamResponseTooLargeError` (and closing the connection) past
 * `limit` bytes. With a `content-length` (from `headers`): over the limit it fails at once, without reading; within
 * it, undici's own `text()` reads it (its fastest path; the parser reads no byte past the declared length). Without
 * one (chunked), the bytes are counted as they come and it fails at the chunk that crosses the limit. Nothing is
 * copied but the one concatenation a full read needs anyway.
 */
export function readLimited(body: BodyReadable, limit: number, headers?: IncomingHttpHeaders): Promise<string> {
  const length = headers?.['content-length'];
  if (length !== undefined) {
    const declared = Number(length);
    if (declared <= limit) return body.text();
    if (declared > limit) {
      body.on('error', () => undefined);
      body.destroy();
      return Promise.reject(new UpstreamResponseTooLargeError(limit, false));
    }
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        body.destroy(new UpstreamResponseTooLargeError(limit, false));
        return;
      }
      chunks.push(chunk);
    });
    body.on('error', reject);
    body.once('end', () => {
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    });
  });
}

/**
 * Counts the bytes of a streamed body as they arrive; past `limit` the body is destroyed with
 * `UpstreamResponseTooLargeError`, which the reader sees on its next read. Adds a listener, no copy.
 */
export function limitStream(body: Readable, limit: number): void {
  let size = 0;
  body.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) body.destroy(new UpstreamResponseTooLargeError(limit, true));
  });
}

/**
 * Reads at most `limit` bytes of a body as UTF-8. The rest is read and dropped up to `drainLimit` bytes in all (the
 * connection can then be reused); a longer body is cut there and its connection closed.
 */
export function readBounded(body: Readable, limit: number, drainLimit = MAX_ERROR_DRAIN_BYTES): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, kept).toString('utf8'));
    };
    body.on('data', (chunk: Buffer) => {
      if (done) return;
      seen += chunk.length;
      if (kept < limit) {
        const part = chunk.subarray(0, limit - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (seen > drainLimit) {
        finish();
        body.destroy();
      }
    });
    body.on('error', (error) => {
      if (!done) reject(error);
    });
    body.once('end', finish);
  });
}

/** The limit of one call: the configured one, or the lower one its `RESPONSE_LIMIT_HEADER` asks for (removed). */
function responseLimit(headers: Record<string, string>, configured: number): number {
  const asked = headers[RESPONSE_LIMIT_HEADER];
  if (asked === undefined) return configured;
  delete headers[RESPONSE_LIMIT_HEADER];
  const value = Number(asked);
  return Number.isSafeInteger(value) && value > 0 && value < configured ? value : configured;
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  if (Array.isArray(headers)) {
    for (const [key, value] of headers) if (key !== undefined && value !== undefined) out[key.toLowerCase()] = value;
  } else if (typeof (headers as { forEach?: unknown }).forEach === 'function') {
    // A Headers object (duck-typed: it may come from another realm or undici copy).
    (headers as unknown as Headers).forEach((value, key) => {
      out[key] = value;
    });
  } else {
    for (const [key, value] of Object.entries(headers as Record<string, string | undefined>)) {
      if (value !== undefined) out[key.toLowerCase()] = value;
    }
  }
  return out;
}

function requestBody(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('undici fetch: only string and byte request bodies are supported');
}

function webHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) out.append(key, item);
    else out.append(key, value);
  }
  return out;
}
