import { ValidateBy } from 'class-validator';

/** Where a page of `GET /optimization/recommendations` ended: its last recommendation's creation time and id. */
export interface RecommendationPosition {
  readonly createdAt: number;
  readonly id: string;
}

/**
 * The `cursor` of `GET /optimization/recommendations`: an opaque token for "the recommendations older than the last one
 * of the previous page" (keyset paging on creation time, then id, the list's order, so recommendations created
 * meanwhile never shift the pages). It is the base64url of `r1:<created_at ms>:<id>`; clients must not build one, only
 * pass back the `next_cursor` they were given.
 */
const PREFIX = 'r1:';
export const MAX_RECOMMENDATION_CURSOR_LENGTH = 128;

export function encodeRecommendationCursor(position: RecommendationPosition): string {
  return Buffer.from(`${PREFIX}${position.createdAt}:${position.id}`, 'utf8').toString('base64url');
}

/** The position a cursor pages back from, or undefined when it is not a cursor this service wrote. */
export function decodeRecommendationCursor(cursor: string): RecommendationPosition | undefined {
  if (cursor.length === 0 || cursor.length > MAX_RECOMMENDATION_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^r1:(0|[1-9][0-9]{0,15}):([A-Za-z0-9_-]{1,64})$/.exec(text);
  if (!match) return undefined;
  const position = { createdAt: Number(match[1]), id: match[2]! };
  // Only the exact encoding of a position (base64url decoding is lenient about trailing bits).
  return Number.isSafeInteger(position.createdAt) && encodeRecommendationCursor(position) === cursor
    ? position
    : undefined;
}

/** Validates a `cursor` query field: a `next_cursor` this service answered (VALIDATION_FAILED otherwise). */
export function IsRecommendationCursor(): PropertyDecorator {
  return ValidateBy({
    name: 'isRecommendationCursor',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && decodeRecommendationCursor(value) !== undefined,
      defaultMessage: () =>
        '$property must be the next_cursor of an earlier GET /optimization/recommendations answer (an opaque token, not built by hand)',
    },
  });
}
