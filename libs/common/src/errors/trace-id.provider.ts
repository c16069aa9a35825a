/**
 * Port: the trace id of the request being handled, for error bodies. Implemented by the observability
 * library; absent (undefined) when tracing is off.
 */
export abstract class TraceIdProvider {
  abstract currentTraceId(): string | undefined;
}
