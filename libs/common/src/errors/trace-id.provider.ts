/**
 * Port: the trace id of the request being handled, for error bodies. Implemented by the telemetry
 * library; absent (undefined) when tracing is off.
 */
export abstract class TraceIdProvider {
  abstract currentTraceId(): string | undefined;
}
