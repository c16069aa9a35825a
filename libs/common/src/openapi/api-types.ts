import { ApiProperty } from '@nestjs/swagger';

/**
 * A response field holding a moment as an ISO 8601 UTC date-time (`Date.prototype.toISOString()`:
 * `2026-03-01T14:00:00.000Z`): `type: string, format: date-time` in the OpenAPI document, so a generated client knows
 * it is a date-time and not any text. The Swagger plugin documents a TypeScript `string` as a bare string.
 * Required and nullable still come from the plugin (the `?`, `| null`). test/openapi-response-types.spec.ts fails
 * on a response field that says it is ISO 8601, or is named like a moment, without it; the client e2e suite
 * (test/client-contract.ts) fails on a value that is not a date-time.
 */
export function ApiDateTime(): PropertyDecorator {
  return ApiProperty({ type: 'string', format: 'date-time' });
}

/**
 * A response field that is always a whole number (a count, a status code, whole milliseconds): `type: integer` in
 * the OpenAPI document. The Swagger plugin documents a TypeScript `number` as `type: number`, which a generated
 * client in a typed language reads as a float. Required and nullable still come from the plugin.
 * For a request field, `@IsInteger()` (which also validates it) is the one to use.
 */
export function ApiInteger(): PropertyDecorator {
  return ApiProperty({ type: 'integer' });
}
