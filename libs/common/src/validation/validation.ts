import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { RequestValidationError, type FieldProblem } from '../errors/domain-error';

/**
 * Constraints on a value's presence or type. When one of them fails, the length and range constraints of the
 * same field say nothing useful ("must be shorter than 5000 characters" about a number), so only these are given.
 */
const TYPE_CONSTRAINTS = new Set([
  'isDefined',
  'isString',
  'isInt',
  'isNumber',
  'isBoolean',
  'isArray',
  'isObject',
  'isEnum',
  'isDate',
  'nestedValidation',
]);

/**
 * Flattens class-validator errors into entries per failing field, with a dotted path: "is required" for a
 * missing field, else its type error, else each of its failed constraints.
 */
export function toFieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    return [...reasonsOf(error, field), ...toFieldProblems(error.children ?? [], field)];
  });
}

function reasonsOf(error: ValidationError, field: string): FieldProblem[] {
  const constraints = error.constraints ?? {};
  const keys = Object.keys(constraints);
  if (keys.length === 0) return [];
  if (error.value === undefined && !keys.includes('whitelistValidation'))
    return [{ field, reason: `${field} is required` }];
  const typeKeys = keys.filter((key) => TYPE_CONSTRAINTS.has(key));
  return (typeKeys.length > 0 ? typeKeys : keys).map((key) => ({ field, reason: constraints[key]! }));
}

/** How a body that is not a JSON object is described to the client. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

/**
 * The global pipe: strips nothing silently (unknown fields are refused), converts types, lists every bad field,
 * and answers a body that is not a JSON object (missing, an array, a bare string...) with one clear `body` error
 * instead of one error per array index or per missing field.
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // The value is kept for `toFieldProblems` (a missing field); it never reaches the response.
      validationError: { target: false, value: true },
      exceptionFactory: (errors) => new RequestValidationError(toFieldProblems(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && this.toValidate(metadata) && !isJsonObject(value)) {
      throw new RequestValidationError([
        {
          field: 'body',
          reason:
            value === undefined
              ? 'a JSON object is required (Content-Type: application/json)'
              : `must be a JSON object, not ${kindOf(value)}`,
        },
      ]);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe();
}
