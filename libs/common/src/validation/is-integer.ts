import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsInt } from 'class-validator';

/**
 * An integer field: class-validator's `@IsInt()` ("must be an integer number") and `type: integer` in the OpenAPI
 * document. The Swagger plugin documents a TypeScript `number` as `type: number`, so without this a generated client
 * takes 1.5 where the service refuses it. Required, nullable, minimum and maximum still come from the plugin (the
 * `?`, `| null`, `@Min`, `@Max`). test/openapi-integers.spec.ts fails on a field validated with a bare `@IsInt()`.
 */
export function IsInteger(): PropertyDecorator {
  return applyDecorators(IsInt(), ApiProperty({ type: 'integer' }));
}
