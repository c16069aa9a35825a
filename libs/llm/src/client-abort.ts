import { connectionClosedReason } from '@app/common';

/** Minimal view of the Fastify request: its raw Node request and socket. */
export interface RawRequestLike {
  headers: { accept?: string };
  raw: { socket: { once(event: 'close', fn: () => void): unknown; off(event: 'close', fn: () => void): unknown } };
}

/**
 * An AbortSignal that fires when the connection closes before the answer is done: the client went away, or the
 * server's shutdown cut it (its reason says which: `isCutAtShutdown`).
 */
export function clientAbortSignal(request: RawRequestLike): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const socket = request.raw.socket;
  const onClose = (): void => controller.abort(connectionClosedReason(socket));
  socket.once('close', onClose);
  return { signal: controller.signal, dispose: () => socket.off('close', onClose) };
}
