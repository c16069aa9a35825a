import { Transform } from 'class-transformer';

/**
 * A decimal number as text: `24`, `-1.5`, `1e3`. Not `0x10`, `0b1`, `Infinity`, ``, ` ` (which `Number()` takes).
 * `\d+(?:\.\d*)?`, not `\d+\.?\d*`: that split a run of digits in every way before failing, quadratic (a
 * 15,000-digit `?hours=` held the event loop 0.23 s per request).
 */
export const DECIMAL_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A number field that also takes its value as decimal text (a query string is text): `"24"` becomes 24. Anything
 * else is left as sent, for the number validators to refuse: `@Type(() => Number)` turned `true` into 1,
 * `"0x10"` into 16, `[]` into 0 and `" "` into 0, so a body `{"days": true}` was a one-day report.
 *
 * Query DTOs only: a JSON body's numbers are JSON numbers, and `{"days": "7"}` is refused as on every body route (a
 * route that takes the same fields in both, like the ROI report, gives the query form a subclass that adds this).
 */
export function NumberFromText(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL_TEXT.test(value) ? Number(value) : value,
  );
}
