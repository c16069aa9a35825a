import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiInteger } from '../openapi/api-types';

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
  /**
   * Each invalid field: on VALIDATION_FAILED, on a refused body (`body`, `content-type`, `content-encoding`), and on
   * the /stress caps INPUT_TOO_LARGE and COST_CAP_EXCEEDED (`repetitions`).
   */
  errors?: FieldProblemDto[];

  // Extension members (RFC 9457): present on the codes named, absent on the others (docs/errors.md).

  /** UNAUTHORIZED: `missing` (no API key was sent) or `invalid` (a key that is not configured). */
  @ApiProperty({ enum: ['missing', 'invalid'], required: false })
  reason?: 'missing' | 'invalid';
  /**
   * FORBIDDEN: the scope the route (or a `simulate_*` drill) needs, which the key lacks; null for a route that
   * declares no access rule (refused to every key).
   */
  @ApiProperty({ type: 'string', enum: ['invoke', 'read', 'admin'], nullable: true, required: false })
  requiredScope?: 'invoke' | 'read' | 'admin' | null;
  /**
   * Seconds until a retry may succeed, as in `Retry-After`: on RATE_LIMITED, and on the failed LLM calls (null when
   * no retry time is known: UPSTREAM_TIMEOUT, UPSTREAM_ERROR).
   */
  @ApiInteger()
  retryAfterSeconds?: number | null;
  /**
   * A failed LLM call (UPSTREAM_ERROR, UPSTREAM_TIMEOUT, UPSTREAM_UNAVAILABLE, PROVIDER_REJECTED_REQUEST, CIRCUIT_OPEN,
   * NO_CAPACITY after admission): the call's prompt id, as an answer's `metadata.prompt_id`: its ledger row's
   * `prompt_id` (which also holds its `trace_id`), tracing on or off.
   */
  promptId?: string;
  /** METHOD_NOT_ALLOWED: the methods the path takes, as in the `Allow` header. */
  allow?: string[];
  /** BUDGET_EXCEEDED: the next reset of the daily spend (UTC midnight). */
  @ApiDateTime()
  resetAt?: string;
  /** BUDGET_EXCEEDED: DAILY_BUDGET_USD. */
  dailyBudgetUsd?: number;
  /** BUDGET_EXCEEDED: spend so far today (UTC day), USD. */
  spentTodayUsd?: number;
  /** BUDGET_EXCEEDED: what the calls in flight reserved, USD. */
  reservedUsd?: number;
  /** BUDGET_EXCEEDED: this call's worst-case cost, USD; null when refused on today's spend alone. */
  callWorstCaseUsd?: number | null;
  /** The Datadog codes (DATADOG_*): Datadog's HTTP status; null when it did not answer (or was not called). */
  @ApiInteger()
  datadogStatus?: number | null;
  /** The Datadog codes (DATADOG_*): Datadog's error messages, redacted (at most 5). */
  datadogErrors?: string[];
  /** The Datadog codes (DATADOG_*), and a 500 of a Datadog call: the Datadog API operation (`createIncident`). */
  operation?: string;
  /** A failed LLM call (UPSTREAM_*, CIRCUIT_OPEN, NO_CAPACITY, CLIENT_CLOSED_REQUEST): the provider. */
  provider?: string;
  /** A failed LLM call: the model of the last attempt (the last of the chain when none was sent). */
  model?: string;
  /** A failed LLM call: the models attempted, in order (fallbacks included). */
  modelsTried?: string[];
  /** A failed LLM call: attempts made in all. */
  @ApiInteger()
  attempts?: number;
  /** A failed LLM call: the provider's HTTP status of the last attempt; null without one. */
  @ApiInteger()
  lastUpstreamStatus?: number | null;
  /**
   * A failed LLM call: the kind of the last failure (`timeout`, `rate_limit`, `quota_exhausted`, `server`,
   * `connection`, `auth`, `not_found`, `bad_request`, `invalid_response`, `empty_response`, `circuit_open`,
   * `no_capacity`); null when none was attempted.
   */
  @ApiProperty({ type: 'string', nullable: true, required: false })
  errorType?: string | null;
  /**
   * PROVIDER_REJECTED_REQUEST: the provider's own error code, when it gave one (`context_length_exceeded`,
   * `INVALID_ARGUMENT`...).
   */
  providerCode?: string;
  /** PROVIDER_REJECTED_REQUEST: the request field the provider named, when it named one. */
  param?: string;
  /** DATABASE_UNAVAILABLE: the store that cannot be used now. */
  @ApiProperty({ enum: ['ledger', 'incidents', 'optimization'], required: false })
  store?: 'ledger' | 'incidents' | 'optimization';
  /**
   * NO_CAPACITY: the saturated resource: `event_loop` or `heap` (load shed), `concurrency` (no slot of
   * LLM_MAX_CONCURRENCY in time), `provider_rate_limit` (every model of the chain held after a 429).
   */
  @ApiProperty({ enum: ['event_loop', 'heap', 'concurrency', 'provider_rate_limit'], required: false })
  resource?: 'event_loop' | 'heap' | 'concurrency' | 'provider_rate_limit';
  /** PROMPT_INJECTION: the prompt-injection score in [0,1]. */
  injectionScore?: number;
  /** PROMPT_INJECTION: the signals that flagged the prompt. */
  signals?: string[];
  /** INPUT_TOO_LARGE (/stress): the characters the prompt would have. */
  @ApiInteger()
  promptChars?: number;
  /** INPUT_TOO_LARGE (/stress): STRESS_MAX_INPUT_CHARS. */
  @ApiInteger()
  limitChars?: number;
  /** COST_CAP_EXCEEDED (/stress): the call's worst-case cost, USD. */
  estimatedMaxCostUsd?: number;
  /** COST_CAP_EXCEEDED (/stress): STRESS_MAX_COST_USD. */
  capUsd?: number;
  /** The optimisation codes (RECOMMENDATION_*, INSUFFICIENT_USAGE): the recommendation's id. */
  recommendationId?: string;
  /** RECOMMENDATION_NOT_IMPLEMENTED: the recommendation's status. */
  recommendationStatus?: string;
  /** INSUFFICIENT_USAGE: priced requests in the baseline window. */
  @ApiInteger()
  beforeRequests?: number;
  /** INSUFFICIENT_USAGE: priced requests in the after window. */
  @ApiInteger()
  afterRequests?: number;
}
