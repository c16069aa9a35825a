/** Minimal view of the Fastify request: its raw Node request and socket. */
export interface RawRequestLike {
  headers: { accept?: string };
  raw: { socket: { once(event: 'close', fn: () => void): unknown; off(event: 'close', fn: () => void): unknown } };
}

/** An AbortSignal that fires when the client's connection closes before the answer is done. */
export function clientAbortSignal(request: RawRequestLike): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const socket = request.raw.socket;
  const onClose = (): void => controller.abort(new DOMException('client closed the connection', 'AbortError'));
  socket.once('close', onClose);
  return { signal: controller.signal, dispose: () => socket.off('close', onClose) };
}
