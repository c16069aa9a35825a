import { HttpException } from '@nestjs/common';
import { DomainError } from './domain-error';
import { codeForStatus } from './error-codes';

/** The HTTP status an error will be answered with (same rules as the problem builder). */
export function statusOfError(error: unknown): number {
  if (error instanceof DomainError) return error.status;
  if (error instanceof HttpException) return error.getStatus();
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return statusCode;
  return 500;
}

/**
 * A bounded error code for tags: the domain code (from a lib's declared table), or the generic code of the
 * status class.
 */
export function codeOfError(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  return codeForStatus(statusOfError(error));
}
