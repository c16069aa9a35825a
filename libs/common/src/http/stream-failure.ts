/**
 * Streams that failed after their response began: their status (200) and headers had gone out, so the failure is an
 * error event in the body. The HTTP server span would say 200 and no error, and APM's error rate of the route would
 * miss them; the span's end hook (libs/telemetry dd-trace.init) reads this mark and flags the span as an error with
 * the event's code. Marked per request (the raw Node request), by the controllers as they write the error event.
 */
const failedStreams = new WeakMap<object, string>();

/** Marks `request`'s stream as failed after its response began, with the code its error event carries. */
export function markStreamFailed(request: object, code: string): void {
  failedStreams.set(request, code);
}

/** The code of the error event that ended `request`'s stream after its response began, else undefined. */
export function streamFailure(request: object | undefined): string | undefined {
  return request === undefined ? undefined : failedStreams.get(request);
}
