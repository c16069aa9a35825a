/** What the global filter knows of a request that failed before any controller ran (404, 413, 415, bad JSON). */
export interface UnroutedOutcome {
  method: string;
  /** The matched route template when the router found one (e.g. a 413 on `/qa`), else undefined. */
  route: string | undefined;
  status: number;
  code: string;
  durationMs: number | undefined;
}

/**
 * Port: records the metrics and the log line of requests that never reached a controller, so that every
 * request is counted even when no interceptor ran. Implemented by the telemetry library.
 */
export abstract class RequestOutcomeRecorder {
  abstract recordUnrouted(outcome: UnroutedOutcome): void;
}
