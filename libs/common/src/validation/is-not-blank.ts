import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

/**
 * At least one character that is neither whitespace nor an invisible format character (zero-width space and joiners,
 * soft hyphen, byte-order mark, bidirectional marks: Unicode category Cf).
 */
const VISIBLE = /[^\s\p{Cf}]/u;

/**
 * A text field that must hold text: at least one visible character ("must contain text, not only whitespace or
 * invisible characters"), and `minLength: 1`, `pattern: \S` in the OpenAPI document (JSON Schema patterns have no
 * Unicode classes: the server's check is the stricter). `@MinLength(1)` alone took `"   "`, and `\S` alone took
 * `"\u200b"`, each sent to the model and billed as a question. Length limits and `required` still come from the
 * Swagger plugin.
 */
export function IsNotBlank(): PropertyDecorator {
  return applyDecorators(
    Matches(VISIBLE, { message: '$property must contain text, not only whitespace or invisible characters' }),
    ApiProperty({ minLength: 1, pattern: '\\S' }),
  );
}
