import { SetMetadata } from '@nestjs/common';

export const SKIP_TELEMETRY = 'lrcp:skip-telemetry';

/** Opts a handler (or a whole controller) out of the per-call span, metrics and log line: liveness probes. */
export const SkipTelemetry = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_TELEMETRY, true);

export const OWN_CALL_LOG_LINE = 'lrcp:own-call-log-line';

/**
 * The handler writes its own log line for each successful call (with the HTTP fields in it), so the
 * interceptor writes none on success: one line per call, not two. Failures (4xx/5xx) still get the
 * interceptor's line. Span and metrics are unchanged.
 */
export const OwnCallLogLine = (): MethodDecorator & ClassDecorator => SetMetadata(OWN_CALL_LOG_LINE, true);
