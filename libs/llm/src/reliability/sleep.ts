import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return;
  }
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

/** True when an abort reason means "the attempt ran out of time" (AbortSignal.timeout or the service's own timer). */
export function isTimeoutReason(reason: unknown): boolean {
  return (reason as { name?: string } | null)?.name === 'TimeoutError';
}
