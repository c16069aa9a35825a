/**
 * Reading values out of a provider's response, which is not trusted to match its documented types: a count
 * that is a string, negative or fractional, or a model name that is not a string, must not reach the metrics,
 * the cost or the ledger.
 */

/** Marks a usage report that has a count it cannot read: the whole report is then ignored (and estimated). */
export const UNREADABLE = Symbol('unreadable');

/**
 * One token count of a usage report: the number when it is a non-negative safe integer, `fallback` when it is
 * absent (undefined or null), UNREADABLE otherwise.
 */
export function tokenCount<F extends number | undefined>(value: unknown, fallback: F): number | F | typeof UNREADABLE {
  if (value === undefined || value === null) return fallback;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : UNREADABLE;
}

/** The largest model name kept from a response (it appears in the metadata, the span and the log line). */
const MAX_MODEL_CHARS = 128;

/** The model a response names, when it is a usable string; else the model that was asked for. */
export function responseModel(value: unknown, requested: string): string {
  if (typeof value !== 'string') return requested;
  const name = value.trim();
  return name === '' ? requested : name.slice(0, MAX_MODEL_CHARS);
}
