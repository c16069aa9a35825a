import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { type ErrorCodeDef, HTTP_ERRORS, type HttpErrorCode } from './error-codes';

/**
 * Declares the problem+json error responses of an operation, by error code: a generic HTTP code by name or a
 * lib's code from its table (`LLM_ERRORS.PROMPT_INJECTION`). Codes with the same status are listed together in
 * one response description.
 */
export function ApiProblems(...codes: (ErrorCodeDef | HttpErrorCode)[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) {
    const def: ErrorCodeDef = typeof code === 'string' ? HTTP_ERRORS[code] : code;
    byStatus.set(def.status, [...(byStatus.get(def.status) ?? []), `${def.code} (${def.title})`]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, labels]) =>
      ApiResponse({
        status,
        description: labels.join('; '),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetailsDto' } } },
      }),
    ),
  );
}
