/**
 * Reading values out of a provider's response, which is not trusted to match its documented types: a count
 * that is a string, negative or fractional, or a model name that is not a string, must not reach the metrics,
 * the cost or the ledger.
 */

import { headOf } from '@app/common';

/** Thrown by the count reader, caught by `readUsage`: never leaves this module. */
class UnreadableUsage extends Error {}

/**
 * Reads one token count of a usage report: the number when it is a non-negative safe integer; `absent` when it
 * is left out (undefined or null). A count that is required (no `absent` given) and left out, or that is not
 * such a number, makes the whole report unreadable (see `readUsage`).
 */
export type CountReader = (value: unknown, absent?: number) => number;

const count: CountReader = (value, absent) => {
  if (value === undefined || value === null) {
    if (absent === undefined) throw new UnreadableUsage('a required count is missing');
    return absent;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new UnreadableUsage('a count is not a non-negative integer');
};

/** Runs `read` over a usage report; undefined (the service then estimates, and says so) if a count is unreadable. */
export function readUsage<T>(read: (count: CountReader) => T): T | undefined {
  try {
    return read(count);
  } catch (error) {
    if (error instanceof UnreadableUsage) return undefined;
    throw error;
  }
}

/** The largest model name kept from a response (it appears in the metadata, the span and the log line). */
const MAX_MODEL_CHARS = 128;

/** The largest finish reason kept from a response (`stop`, `MAX_TOKENS`, ...: a few characters). */
const MAX_FINISH_REASON_CHARS = 64;

/**
 * The finish reason a response names, when it is a non-empty string, bounded; else undefined. Before, any value went
 * on as sent: a string of any length to the span, an object (typed as a string) to whatever read it.
 */
export function responseFinishReason(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const reason = value.trim();
  return reason === '' ? undefined : headOf(reason, MAX_FINISH_REASON_CHARS);
}

/** The model a response names, when it is a usable string; else the model that was asked for. */
export function responseModel(value: unknown, requested: string): string {
  if (typeof value !== 'string') return requested;
  const name = value.trim();
  return name === '' ? requested : headOf(name, MAX_MODEL_CHARS);
}
