import { ERROR_STATUS, type ErrorCode } from './error-codes';

/** One invalid field of a request and why. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** Extra members of a problem+json body (RFC 9457 extension members). Values must be JSON. */
export type ProblemExtensions = Record<string, string | number | boolean | null | readonly unknown[] | object>;

/**
 * The base of every error the domain raises on purpose. The global filter maps its code to an HTTP status
 * and renders it as application/problem+json; `extensions` become extra members of the body.
 */
export class DomainError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extensions: ProblemExtensions = {},
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = new.target.name;
    this.status = ERROR_STATUS[code];
  }
}

/** 400 with every bad field listed. */
export class RequestValidationError extends DomainError {
  constructor(readonly errors: FieldProblem[]) {
    super(
      'VALIDATION_FAILED',
      errors.length === 1
        ? `${errors[0]!.field}: ${errors[0]!.reason}`
        : `${errors.length} fields are invalid: ${errors.map((e) => e.field).join(', ')}`,
      { errors },
    );
  }
}
