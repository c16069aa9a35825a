import { DatadogApiError } from '@app/datadog';

/** Why a delivery failed, as the `reason` tag of `incidents.delivery.errors` (bounded). */
export const DELIVERY_ERROR_REASONS = [
  'unconfigured',
  'unreachable',
  'rejected',
  'server',
  'rate_limited',
  'internal',
] as const;
export type DeliveryErrorReason = (typeof DELIVERY_ERROR_REASONS)[number];

/** The text an unconfigured Datadog leaves on a pending row. */
export const UNCONFIGURED_REASON = 'Datadog API keys not configured (set DD_API_KEY and DD_APP_KEY)';

/** A delivery call that did not answer within its share of the lease. */
export class DeliveryTimeoutError extends Error {
  constructor(operation: string, ms: number) {
    super(`Datadog ${operation}: no answer within ${ms} ms`);
    this.name = 'DeliveryTimeoutError';
  }
}

/**
 * The process is stopping and a delivery was still waiting for Datadog after the shutdown's wait: its call is aborted
 * and the row given back (released, no attempt counted), so the next process takes it at once. Not a delivery failure.
 */
export class DeliveryStoppedError extends Error {
  constructor(operation: string) {
    super(`Datadog ${operation}: given up, the process is stopping`);
    this.name = 'DeliveryStoppedError';
  }
}

/**
 * The row's lease was no longer this worker's when it was about to send a create: another replica holds the row and
 * delivers it (its key lookup finds whatever this one did). Not a delivery failure: nothing is marked or counted.
 */
export class LeaseLostError extends Error {
  constructor(outboxId: string) {
    super(`outbox ${outboxId}: lease lost before the create was sent`);
    this.name = 'LeaseLostError';
  }
}

export interface ClassifiedError {
  reason: DeliveryErrorReason;
  /** Whether a later attempt can succeed: anything but an error that says it cannot (`retryable === false`). */
  retryable: boolean;
  message: string;
  /** Datadog's HTTP status, when it answered. */
  status?: number;
}

/**
 * How a delivery failure is handled and counted: a `DatadogApiError` says itself whether it is retryable (no
 * answer, 401/403, 408, 429, 5xx) and its status gives the reason; a timeout is `unreachable`; any other error is
 * retried unless it carries `retryable: false`.
 */
export function classifyDeliveryError(error: unknown): ClassifiedError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DatadogApiError) {
    const status = error.status;
    const reason: DeliveryErrorReason =
      status === undefined ? 'unreachable' : status === 429 ? 'rate_limited' : status >= 500 ? 'server' : 'rejected';
    return { reason, retryable: error.retryable, message, ...(status === undefined ? {} : { status }) };
  }
  if (error instanceof DeliveryTimeoutError) return { reason: 'unreachable', retryable: true, message };
  const flagged = typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false;
  return { reason: 'internal', retryable: !flagged, message };
}
