/**
 * Text as every store can hold it: NUL (`\u0000`, which JSON lets a request carry) as U+FFFD. PostgreSQL's `text`
 * refuses NUL (`invalid byte sequence for encoding "UTF8": 0x00`), so a value holding one failed its statement: a
 * 500 for the request, a flush failed for ever. The SQLite stores apply it too, so both answer the same.
 */
export const storableText = (value: string): string =>
  value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value;

/** A statement's parameters with `storableText` applied to each string (numbers, null and the rest unchanged). */
export function storableParams<T>(values: readonly T[]): T[] {
  return values.map((value) => (typeof value === 'string' ? (storableText(value) as T) : value));
}
