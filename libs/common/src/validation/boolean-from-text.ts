import { Transform } from 'class-transformer';

/**
 * The spellings of a boolean that FastAPI (pydantic) takes in a query string, any case. The origin's Python
 * clients send them: `requests` writes `params={"simulate_retry": False}` as `simulate_retry=False`.
 */
const TRUE_TEXT: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE_TEXT: ReadonlySet<string> = new Set(['false', '0', 'no', 'off', 'f', 'n']);

/** `value` as a boolean when it is one or spells one (`emptyIs` for ``), else as sent, for `@IsBoolean` to refuse. */
export function booleanFromText(value: unknown, emptyIs?: boolean): unknown {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return value;
  if (value === '') return emptyIs ?? value;
  const word = value.toLowerCase();
  if (TRUE_TEXT.has(word)) return true;
  if (FALSE_TEXT.has(word)) return false;
  return value;
}

/**
 * A boolean query parameter (a query string is text): `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, `t`/`f`,
 * `y`/`n`, any case, as FastAPI took them; `emptyIs` says what `?flag=` means (else it is refused). Anything else is
 * left as sent, for `@IsBoolean()` to refuse with the field named. Query DTOs only: a JSON body's booleans are JSON
 * booleans.
 */
export function BooleanFromText(options: { emptyIs?: boolean } = {}): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => booleanFromText(value, options.emptyIs));
}
