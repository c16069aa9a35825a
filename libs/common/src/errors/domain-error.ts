import { type ErrorCodeDef, HTTP_ERRORS, type HttpErrorCode } from './error-codes';

/** One invalid field of a request and why. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** Extra members of a problem+json body (RFC 9457 extension members). Values must be JSON. */
export type ProblemExtensions = Record<string, string | number | boolean | null | readonly unknown[] | object>;

/**
 * The base of every error the domain raises on purpose: a code from a lib's table (`defineErrorCodes`) or a
 * generic HTTP code by name, which brings its status, title and type. The global filter renders it as
 * application/problem+json; `extensions` become extra members of the body and `headers` response headers.
 */
export class DomainError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly type: string;

  constructor(
    code: ErrorCodeDef | HttpErrorCode,
    readonly detail: string,
    readonly extensions: ProblemExtensions = {},
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = new.target.name;
    const def: ErrorCodeDef = typeof code === 'string' ? HTTP_ERRORS[code] : code;
    this.code = def.code;
    this.status = def.status;
    this.title = def.title;
    this.type = def.type;
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
