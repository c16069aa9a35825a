import { ApiInteger } from '../openapi/api-types';

/** One invalid field of a request. */
export class FieldProblemDto {
  /** Path of the field in the request, dotted for nested fields (`messages.0.content`). */
  field!: string;
  /** Why the value was refused. */
  reason!: string;
}

/**
 * An error response: RFC 9457 problem details (`application/problem+json`) with the service's `code`
 * and the trace id of the request.
 */
export class ProblemDetailsDto {
  /** A URI naming the kind of problem; see docs/errors.md. */
  type!: string;
  /** A short summary of the kind of problem. */
  title!: string;
  /** The HTTP status code. */
  @ApiInteger()
  status!: number;
  /** What went wrong with this request. */
  detail!: string;
  /** The request path. */
  instance?: string;
  /** A stable, machine-readable error code (e.g. VALIDATION_FAILED, UPSTREAM_TIMEOUT). */
  code!: string;
  /** The trace id of this request (128-bit hex, as `dd.trace_id` in the logs); absent when tracing is off. */
  traceId?: string;
  /** Each invalid field, on validation errors. */
  errors?: FieldProblemDto[];
}
