import { DomainError } from '../errors/domain-error';
import { HTTP_ERRORS } from '../errors/error-codes';

/**
 * Connections the server cut itself: when SHUTDOWN_GRACE_MS runs out during a graceful stop, the connections still
 * open are closed (create-app's drain). A call on one was not abandoned by its client, and its records must not say
 * so: the request is a 503 and the call's `error_type` is `shutdown`, where a client that closed its own connection
 * gives 499 and `client_abort` (docs/telemetry.md). Marked per socket, just before the cut.
 */
const cutSockets = new WeakSet<object>();
const cutReasons = new WeakSet<object>();

/** The status of a request whose connection the server cut at shutdown (nothing was answered: unavailable). */
export const CUT_AT_SHUTDOWN_STATUS = 503;

/** Marks the sockets about to be cut by the server's shutdown. */
export function markCutAtShutdown(sockets: Iterable<object>): void {
  for (const socket of sockets) cutSockets.add(socket);
}

/** Whether this socket was cut by the server's shutdown (false for a client that closed its own connection). */
export function cutAtShutdown(socket: object | undefined): boolean {
  return socket !== undefined && cutSockets.has(socket);
}

/** The abort reason of a call whose connection closed: a client's abandonment, or the server's shutdown. */
export function connectionClosedReason(socket: object): DOMException {
  if (!cutAtShutdown(socket)) return new DOMException('client closed the connection', 'AbortError');
  const reason = new DOMException('the server cut the connection at shutdown (SHUTDOWN_GRACE_MS)', 'AbortError');
  cutReasons.add(reason);
  return reason;
}

/** Whether an abort reason (an AbortSignal's) is the server's shutdown cutting the connection. */
export function isCutAtShutdown(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && cutReasons.has(reason);
}

/**
 * What a response still says before the shutdown cuts its connection (a stream's last event: the server is shutting
 * down), registered per socket; settles once said (or never, for a client that reads nothing: create-app's drain
 * bounds the wait).
 */
type LastWords = () => Promise<void>;
const lastWords = new WeakMap<object, Set<LastWords>>();

/** Registers `words` to be said on `socket` before the shutdown cuts it; returns its removal. */
export function beforeCutAtShutdown(socket: object, words: LastWords): () => void {
  let registered = lastWords.get(socket);
  if (!registered) lastWords.set(socket, (registered = new Set()));
  registered.add(words);
  return () => registered.delete(words);
}

/** Says the last words registered on `sockets` (about to be cut); what settles when they are said. */
export function sayLastWords(sockets: Iterable<object>): Promise<void>[] {
  const said: Promise<void>[] = [];
  for (const socket of sockets)
    for (const words of lastWords.get(socket) ?? []) said.push(words().catch(() => undefined));
  return said;
}

/**
 * The answer to a request that arrives while the server stops (after the stop signal, on a connection still open: a
 * request pipelined behind one in flight, or whose headers were still arriving): 503 problem+json
 * `SERVER_SHUTTING_DOWN`, `Retry-After: 1` (another instance takes the retry) and `Connection: close`. Fastify's own
 * answer (`return503OnClosing`) was a bare JSON 503 with neither, no `code`, no `traceId` and no security headers.
 */
export function refusedWhileStopping(): DomainError {
  return new DomainError(
    HTTP_ERRORS.SERVER_SHUTTING_DOWN,
    'The server is shutting down and takes no new request; retry it (another instance takes it)',
    { retryAfterSeconds: 1 },
    { 'retry-after': '1', connection: 'close' },
  );
}
