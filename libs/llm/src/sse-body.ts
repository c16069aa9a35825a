import { Readable, type Writable } from 'node:stream';
import { Injectable, Logger, StreamableFile } from '@nestjs/common';
import { beforeCutAtShutdown } from '@app/common';
import { AppConfig } from '@app/config';

/** An SSE comment: every client skips it (the EventSource spec, the openai SDK's decoder). */
export const SSE_PING = ': ping\n\n';

export interface SseBodyOptions {
  /** A `: ping` comment after this long without a write (SSE_KEEPALIVE_MS); 0: none. */
  keepAliveMs: number;
  /** How long the client may take nothing while the body has events for it (SSE_WRITE_TIMEOUT_MS). */
  writeTimeoutMs: number;
  /** The write timeout ran out: the caller closes the connection (the call is then the client's abandonment). */
  onWriteTimeout(): void;
}

/**
 * A Server-Sent Events response body read from `events` at the pace of its client:
 *
 * - An event is pulled only when the response has room for it, so a client that reads slowly holds at most the
 *   socket's buffers and one event here (the stream's own queue then stops reading the provider).
 * - While an event is awaited (a model thinking before its first token, or between tokens), a `: ping` comment is
 *   written every `keepAliveMs` without a write, so proxies that close idle connections (often after 60 s) keep it.
 * - A client that takes nothing for `writeTimeoutMs` while events wait for it (it stopped reading without closing)
 *   is cut: `onWriteTimeout`.
 *
 * When the body ends early (the connection closed), `events` is told (`return`) even if it was never read, so the
 * call under it is recorded and releases what it holds.
 *
 * `endWith` ends it early with a last event of its own (the server is shutting down: SseResponses).
 */
export class SseBody extends Readable {
  private readonly source: AsyncIterator<string>;
  private pulling = false;
  /** The response asked for data and was not given any yet (a ping may go out). */
  private wanted = false;
  private started = false;
  private pending?: Promise<IteratorResult<string>>;
  private readonly keepAlive?: NodeJS.Timeout;
  private writeTimer?: NodeJS.Timeout;
  /** Where the body is piped (the response), to know when its last event is written. */
  private destination?: Writable;
  /** Set by `endWith`: no event of `events` is written any more, and `events` is told only once this settles. */
  private held?: Promise<void>;

  constructor(
    events: AsyncIterable<string>,
    private readonly options: SseBodyOptions,
  ) {
    // A small buffer: backpressure reaches the events as soon as the socket is full.
    super({ highWaterMark: 1024 });
    this.source = events[Symbol.asyncIterator]();
    if (options.keepAliveMs > 0) {
      this.keepAlive = setTimeout(() => this.ping(), options.keepAliveMs);
      this.keepAlive.unref();
    }
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    this.destination = destination as unknown as Writable;
    return super.pipe(destination, options);
  }

  /**
   * Ends the body now with `text`, its last event, instead of the rest of `events`; settles when the response has
   * written it (never for a client that reads nothing: the caller bounds the wait). `events` is told (`return`) only
   * once `release` settles (the connection's close), so the call under it is recorded as ended by that, not as
   * left unread by its client.
   */
  endWith(text: string, release: Promise<void>): Promise<void> {
    if (this.held || this.destroyed || this.readableEnded) return Promise.resolve();
    this.held = release;
    this.clearTimers();
    const destination = this.destination;
    const written = new Promise<void>((resolve) => {
      if (!destination || destination.writableFinished || destination.destroyed) return resolve();
      destination.once('finish', resolve);
      destination.once('close', resolve);
    });
    this.push(text);
    this.push(null);
    return written;
  }

  override _read(): void {
    this.wanted = true;
    if (this.writeTimer) {
      clearTimeout(this.writeTimer);
      this.writeTimer = undefined;
    }
    if (!this.pulling) void this.pull();
  }

  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      for (;;) {
        this.started = true;
        this.pending = this.source.next();
        const next = await this.pending;
        this.pending = undefined;
        if (this.destroyed || this.held) return;
        if (next.done) {
          this.finish();
          return;
        }
        if (!this.write(next.value)) return;
      }
    } catch (error) {
      if (!this.held) this.destroy(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.pulling = false;
    }
  }

  /** Pushes `text`; false once the response is full (the write timeout then runs until it asks for more). */
  private write(text: string): boolean {
    this.keepAlive?.refresh();
    if (this.push(text)) return true;
    this.wanted = false;
    this.writeTimer ??= setTimeout(() => this.options.onWriteTimeout(), this.options.writeTimeoutMs);
    return false;
  }

  private ping(): void {
    if (this.destroyed || this.readableEnded || this.held) return;
    // A response that is full has bytes in flight already: no ping, and the write timeout is running.
    if (this.wanted) this.write(SSE_PING);
    else this.keepAlive?.refresh();
  }

  private finish(): void {
    this.clearTimers();
    this.push(null);
  }

  private clearTimers(): void {
    if (this.keepAlive) clearTimeout(this.keepAlive);
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearTimers();
    // Ended by `endWith`: its events are told, and it closes (what its request's own listeners wait for), only once
    // the connection has closed, so the call under it is aborted by that close first.
    if (this.held)
      void this.held.then(() => {
        this.release();
        callback(error);
      });
    else {
      this.release();
      callback(error);
    }
  }

  /** Tells `events` that nothing more is read (`return`), so the call under it is recorded. */
  private release(): void {
    // A generator that never ran would skip its `finally` on `return`: it runs up to its first event first.
    const settled = this.pending ?? (this.started ? Promise.resolve(undefined) : this.source.next());
    settled
      .then(() => this.source.return?.())
      .catch(() => undefined)
      .finally(() => undefined);
  }
}

/**
 * The events of a stream whose start is still awaited when its response must begin (its keep-alive pings go out
 * before the first event): a failure to start becomes the stream's error event (`failure`), as after its first
 * event, since the status line has gone out.
 */
export async function* afterStart(
  started: Promise<AsyncIterable<string>>,
  failure: (error: unknown) => string,
): AsyncGenerator<string> {
  let events: AsyncIterable<string>;
  try {
    events = await started;
  } catch (error) {
    yield failure(error);
    return;
  }
  yield* events;
}

/** `started` if it settles within `ms` (then a failure is a normal error response), else undefined. */
export async function settledWithin<T>(started: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  if (ms <= 0) return { value: await started };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([started.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the SSE response needs of the request: its socket, closed when the client stops reading. */
export interface SseRequestLike {
  raw: { socket: { destroy(): void; once(event: 'close', fn: () => void): unknown } };
}

/** How a stream's response ends other than by its events. */
export interface SseEndings {
  /** The error event of a failure to start once the response has begun (a model slower than the keep-alive). */
  failure(error: unknown): string;
  /**
   * The last event of a stream still open when the shutdown cuts its connection (SHUTDOWN_GRACE_MS ran out): the
   * error event saying the server is shutting down.
   */
  shuttingDown(): string;
  /** The response begins before the stream started (its headers: what is known then). */
  onLate?(): void;
}

/**
 * Opens the Server-Sent Events responses of `/qa`, `/reason`, `/stress` and `/v1/chat/completions` (`SseBody`), with
 * SSE_KEEPALIVE_MS and SSE_WRITE_TIMEOUT_MS.
 */
@Injectable()
export class SseResponses {
  private readonly logger = new Logger('SseResponses');

  constructor(private readonly config: AppConfig) {}

  /**
   * The response of a stream being started (`started`: its events, once its first one came). Started within the
   * keep-alive interval (or failed: thrown, a normal error response), it goes out as it is; a model that takes
   * longer before its first token gets its response begun (`onLate`, headers of what is known then) and pings while
   * it thinks, and a failure then is its `failure` event. Still open when the shutdown cuts its connection, it ends
   * with its `shuttingDown` event first (create-app's drain).
   */
  async open(
    request: SseRequestLike,
    started: Promise<AsyncIterable<string>>,
    endings: SseEndings,
  ): Promise<StreamableFile> {
    const { keepAliveMs, writeTimeoutMs } = this.config.http.sse;
    const first = await settledWithin(started, keepAliveMs);
    if (!first) endings.onLate?.();
    const socket = request.raw.socket;
    const body = new SseBody(first ? first.value : afterStart(started, (error) => endings.failure(error)), {
      keepAliveMs,
      writeTimeoutMs,
      onWriteTimeout: () => {
        this.logger.log(`stream client cut: it read nothing for ${writeTimeoutMs} ms (SSE_WRITE_TIMEOUT_MS)`);
        socket.destroy();
      },
    });
    // Its call is told after the connection's close, which aborts it as cut by the shutdown (clientAbortSignal).
    const unregister = beforeCutAtShutdown(socket, () =>
      body.endWith(endings.shuttingDown(), new Promise<void>((resolve) => socket.once('close', resolve))),
    );
    body.once('close', unregister);
    return new StreamableFile(body, { type: 'text/event-stream; charset=utf-8' });
  }
}
