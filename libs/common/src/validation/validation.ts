import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { RequestValidationError, type FieldProblem } from '../errors/domain-error';
import { headOf } from '../text/truncate';

/** The most unknown fields named one by one in a refusal; the rest are counted. */
const MAX_UNKNOWN_LISTED = 20;
/** The most characters of an unknown field's name quoted back. */
const MAX_FIELD_NAME_CHARS = 100;

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
 *
 * Unknown top-level fields of a body or query are taken out before class-transformer and class-validator see
 * the value, so whatever they hold is never walked; they are refused along with the other fields' problems,
 * first, as class-validator's `forbidNonWhitelisted` would list them (at most MAX_UNKNOWN_LISTED by name, each
 * name cut to MAX_FIELD_NAME_CHARS).
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
    const known = metadata.type === 'body' || metadata.type === 'query' ? knownFields(metadata.metatype) : undefined;
    if (known === undefined || !isJsonObject(value)) return super.transform(value, metadata) as Promise<unknown>;
    const unknown = Object.keys(value).filter((key) => !known.has(key));
    // A query field given more than once (`?state=pending&state=failed`) arrives as an array: said so, not as a type
    // error ("state must be one of the following values" about two values that both are).
    const repeated =
      metadata.type === 'query'
        ? Object.keys(value).filter((key) => known.has(key) && Array.isArray(value[key]) && !takesList(metadata, key))
        : [];
    if (unknown.length === 0 && repeated.length === 0) return super.transform(value, metadata) as Promise<unknown>;
    const problems = [
      ...unknownFieldProblems(unknown, metadata.type === 'body' ? 'body' : 'query'),
      ...repeated.map((key) => ({
        field: key,
        reason: `${key} was given ${(value[key] as unknown[]).length} times: give it once (one value)`,
      })),
    ];
    const rest = Object.fromEntries(Object.entries(value).filter(([key]) => known.has(key) && !repeated.includes(key)));
    try {
      await super.transform(rest, metadata);
    } catch (error) {
      if (!(error instanceof RequestValidationError)) throw error;
      problems.push(...error.errors);
    }
    throw new RequestValidationError(problems);
  }
}

/** Whether a query DTO's field takes several values (`@IsArray()`): none does today. */
function takesList(metadata: ArgumentMetadata, property: string): boolean {
  if (typeof metadata.metatype !== 'function') return false;
  return getMetadataStorage()
    .getTargetValidationMetadatas(metadata.metatype, '', false, false)
    .some((m) => m.propertyName === property && (m.name === 'isArray' || m.each === true));
}

/** The properties a DTO class declares through class-validator decorators (undefined: not a validated class). */
const knownFieldsCache = new WeakMap<object, ReadonlySet<string> | undefined>();

function knownFields(metatype: ArgumentMetadata['metatype']): ReadonlySet<string> | undefined {
  if (typeof metatype !== 'function') return undefined;
  if (knownFieldsCache.has(metatype)) return knownFieldsCache.get(metatype);
  const names = getMetadataStorage()
    .getTargetValidationMetadatas(metatype, '', false, false)
    .map((m) => m.propertyName);
  const known = names.length > 0 ? new Set(names) : undefined;
  knownFieldsCache.set(metatype, known);
  return known;
}

/** `property x should not exist` for each unknown field (at most MAX_UNKNOWN_LISTED named, then how many more). */
export function unknownFieldProblems(unknown: string[], where: 'body' | 'query'): FieldProblem[] {
  const problems = unknown.slice(0, MAX_UNKNOWN_LISTED).map((key) => {
    const field = key.length > MAX_FIELD_NAME_CHARS ? `${headOf(key, MAX_FIELD_NAME_CHARS)}…` : key;
    return { field, reason: `property ${field} should not exist` };
  });
  const more = unknown.length - problems.length;
  if (more > 0) problems.push({ field: where, reason: `${more} more unknown fields` });
  return problems;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe();
}
