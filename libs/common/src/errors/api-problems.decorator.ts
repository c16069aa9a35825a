import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_TITLES, type ErrorCode, ERROR_STATUS } from './error-codes';

/**
 * Declares the problem+json error responses of an operation, by error code; codes with the same status
 * are listed together in one response description.
 */
export function ApiProblems(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), `${code} (${ERROR_TITLES[code]})`]);
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
