import { beforeCutAtShutdown, connectionClosedReason, isCutAtShutdown } from '@app/common';
import { shuttingDownError } from './llm.errors';

/** Minimal view of the Fastify request: its raw Node request and socket. */
export interface RawRequestLike {
  headers: { accept?: string };
  raw: { socket: { once(event: 'close', fn: () => void): unknown; off(event: 'close', fn: () => void): unknown } };
}

/**
 * An AbortSignal that fires when the connection closes before the answer is done: the client went away, or the
 * server's shutdown cut it (its reason says which: `isCutAtShutdown`).
 *
 * `answerAtShutdown`: a JSON answer (not a stream, whose last event SseResponses says) still being prepared when the
 * shutdown's grace period runs out is aborted just before its connection is cut, so that its error response (503,
 * SERVER_SHUTTING_DOWN: `shutdownAnswer`) goes out first: its client learns the call was cut and by whom, instead of a
 * connection closed with no reply. The drain waits for the connection to close (the response says
 * `Connection: close`), for at most its last words' time.
 */
export function clientAbortSignal(
  request: RawRequestLike,
  options: { answerAtShutdown?: boolean } = {},
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const socket = request.raw.socket;
  const onClose = (): void => controller.abort(connectionClosedReason(socket));
  socket.once('close', onClose);
  const unregister = options.answerAtShutdown
    ? beforeCutAtShutdown(socket, () => {
        const closed = new Promise<void>((resolve) => socket.once('close', resolve));
        controller.abort(connectionClosedReason(socket));
        return closed;
      })
    : undefined;
  return {
    signal: controller.signal,
    dispose: () => {
      socket.off('close', onClose);
      unregister?.();
    },
  };
}

/**
 * What a JSON answer's failure is answered with: the shutdown's error (SERVER_SHUTTING_DOWN, naming its call) when the
 * shutdown cut it (`clientAbortSignal`'s `answerAtShutdown`), else the failure itself.
 */
export function shutdownAnswer(signal: AbortSignal, error: unknown, promptId: string | undefined): unknown {
  return signal.aborted && isCutAtShutdown(signal.reason) ? shuttingDownError(promptId) : error;
}
