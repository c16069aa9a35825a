import { SetMetadata } from '@nestjs/common';

export const SKIP_TELEMETRY = 'lrcp:skip-telemetry';

/** Opts a handler (or a whole controller) out of the per-call span, metrics and log line: liveness probes. */
export const SkipTelemetry = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_TELEMETRY, true);
