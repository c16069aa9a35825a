import { ValidateBy } from 'class-validator';

/**
 * The `cursor` of `GET /incidents`: an opaque token for "the rows older than the last one of the previous page"
 * (keyset paging on the outbox's insertion order, so incidents recorded meanwhile never shift the pages). It is the
 * base64url of `o1:<seq>`; clients must not build one, only pass back the `next_cursor` they were given.
 */
const PREFIX = 'o1:';
const MAX_CURSOR_LENGTH = 64;

export function encodeIncidentCursor(seq: number): string {
  return Buffer.from(`${PREFIX}${seq}`, 'utf8').toString('base64url');
}

/** The seq a cursor pages back from, or undefined when it is not a cursor this service wrote. */
export function decodeIncidentCursor(cursor: string): number | undefined {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^o1:([1-9][0-9]{0,15})$/.exec(text);
  if (!match) return undefined;
  const seq = Number(match[1]);
  // Only the exact encoding of a seq (base64url decoding is lenient about trailing bits).
  return Number.isSafeInteger(seq) && encodeIncidentCursor(seq) === cursor ? seq : undefined;
}

/** Validates a `cursor` query field: a `next_cursor` this service answered (VALIDATION_FAILED otherwise). */
export function IsIncidentCursor(): PropertyDecorator {
  return ValidateBy({
    name: 'isIncidentCursor',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && decodeIncidentCursor(value) !== undefined,
      defaultMessage: () =>
        '$property must be the next_cursor of an earlier GET /incidents answer (an opaque token, not built by hand)',
    },
  });
}
