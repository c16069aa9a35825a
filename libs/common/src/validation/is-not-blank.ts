import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

/**
 * A text field that must hold text: at least one character that is not whitespace ("must contain text, not only
 * whitespace"), and `minLength: 1`, `pattern: \S` in the OpenAPI document. `@MinLength(1)` alone took `"   "`, which was sent to
 * the model and billed as a question. Length limits and `required` still come from the Swagger plugin.
 */
export function IsNotBlank(): PropertyDecorator {
  return applyDecorators(
    Matches(/\S/, { message: '$property must contain text, not only whitespace' }),
    ApiProperty({ minLength: 1, pattern: '\\S' }),
  );
}
