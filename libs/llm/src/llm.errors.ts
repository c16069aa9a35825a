import { defineErrorCodes, DomainError, HTTP_ERRORS } from '@app/common';
import type { LlmErrorKind } from './ports/llm-provider.port';
import type { SaturatedResource } from './reliability/saturation';

/**
 * The LLM lib's error codes (see docs/errors.md). A failed model call is also answered with the generic gateway
 * codes UPSTREAM_ERROR (502) and UPSTREAM_TIMEOUT (504) of `HTTP_ERRORS`.
 */
export const LLM_ERRORS = defineErrorCodes({
  /** PROMPT_INJECTION_POLICY=block and the prompt scored as an injection. */
  PROMPT_INJECTION: { status: 422, title: 'Prompt injection detected' },
  /** /stress: prompt × repetitions exceeds STRESS_MAX_INPUT_CHARS. */
  INPUT_TOO_LARGE: { status: 422, title: 'Input too large' },
  /** /stress: the worst-case cost exceeds STRESS_MAX_COST_USD. */
  COST_CAP_EXCEEDED: { status: 422, title: 'Cost cap exceeded' },
  /** The provider kept rate-limiting, or answered 503 with a Retry-After. */
  UPSTREAM_UNAVAILABLE: { status: 503, title: 'Upstream model provider unavailable' },
  /**
   * The provider refused the request itself as invalid (HTTP 400/413/422, Google's INVALID_ARGUMENT): a prompt over the
   * model's context window (`providerCode: context_length_exceeded`), an argument it does not take (`param`). The
   * caller's to change: not retried, not counted against the provider (circuit, error rate).
   */
  PROVIDER_REJECTED_REQUEST: { status: 400, title: 'Request rejected by the model provider' },
  /** Every model of the chain has its circuit open. */
  CIRCUIT_OPEN: { status: 503, title: 'Circuit breaker open' },
  /**
   * A resource is saturated, named by the `resource` extension: `event_loop` or `heap` (load shed at admission),
   * `concurrency` (no slot of LLM_MAX_CONCURRENCY within LLM_QUEUE_TIMEOUT_MS), `provider_rate_limit` (every model
   * held after the provider's 429). Retry-After says when to come back.
   */
  NO_CAPACITY: { status: 503, title: 'No capacity' },
  /** A provider fault drill was asked for while the provider is a real one: faults are injected only when simulated. */
  FAULT_DRILL_UNAVAILABLE: { status: 409, title: 'Fault drill unavailable' },
  /** The client closed the connection before the answer was complete (nginx's 499: nobody reads the answer). */
  CLIENT_CLOSED_REQUEST: { status: 499, title: 'Client closed request' },
});

/**
 * The error of a call the server's shutdown cuts (a stream's last event, a JSON call's 503), naming its call: the
 * generic SERVER_SHUTTING_DOWN (`HTTP_ERRORS`), which a request arriving while the server stops is refused with too.
 */
export function shuttingDownError(promptId: string | undefined): DomainError {
  return new DomainError(
    HTTP_ERRORS.SERVER_SHUTTING_DOWN,
    'The server is shutting down: this call was cut when SHUTDOWN_GRACE_MS ran out, before its answer was complete; retry it',
    { ...(promptId !== undefined ? { promptId } : {}), retryAfterSeconds: 1 },
    { 'retry-after': '1' },
  );
}

/** The codes a failed call is answered with. */
const CALL_FAILURES = {
  UPSTREAM_ERROR: HTTP_ERRORS.UPSTREAM_ERROR,
  UPSTREAM_TIMEOUT: HTTP_ERRORS.UPSTREAM_TIMEOUT,
  UPSTREAM_UNAVAILABLE: LLM_ERRORS.UPSTREAM_UNAVAILABLE,
  PROVIDER_REJECTED_REQUEST: LLM_ERRORS.PROVIDER_REJECTED_REQUEST,
  CIRCUIT_OPEN: LLM_ERRORS.CIRCUIT_OPEN,
  NO_CAPACITY: LLM_ERRORS.NO_CAPACITY,
} as const;

export type CallFailureCode = keyof typeof CALL_FAILURES;

/** Context every failed-call problem carries (RFC 9457 extension members). */
export interface FailureContext {
  provider: string;
  model: string;
  modelsTried: string[];
  attempts: number;
  lastUpstreamStatus: number | null;
  lastErrorKind: LlmErrorKind | 'circuit_open' | 'no_capacity' | null;
  retryAfterSeconds: number | null;
  /** NO_CAPACITY: the saturated resource. */
  resource?: SaturatedResource;
  /** The last failure's code in the provider's words (OpenAI `error.code`, Google `ErrorInfo.reason` or status). */
  providerCode?: string;
  /** The request field the provider named (OpenAI `error.param`). */
  param?: string;
  /** The call's prompt id (its ledger row's `prompt_id`): set once the failure is recorded (`withPromptId`). */
  promptId?: string;
}

/**
 * A call that failed after retries and fallbacks. 504 when the last failure was a timeout; 503 when the
 * circuits were open, no capacity was free, or the upstream kept rate-limiting (with Retry-After); 400 when the
 * provider refused the request itself (PROVIDER_REJECTED_REQUEST); 502 for any other upstream failure.
 */
export class LlmCallFailedError extends DomainError {
  declare readonly code: CallFailureCode;

  /** The provider refused the request itself: the caller's to change, not a failure of the provider. */
  get rejected(): boolean {
    return this.code === 'PROVIDER_REJECTED_REQUEST';
  }

  /**
   * The same failure naming its call, as recorded (the `promptId` member; on /v1 `x-request-id` and
   * `x-control-plane-prompt-id`): the caller finds its ledger row and trace by it, as by an answer's prompt id.
   */
  withPromptId(promptId: string): LlmCallFailedError {
    return new LlmCallFailedError(this.code, this.detail, { ...this.context, promptId }, { cause: this.cause });
  }

  constructor(
    code: CallFailureCode,
    detail: string,
    readonly context: FailureContext,
    options?: { cause?: unknown },
  ) {
    super(
      CALL_FAILURES[code],
      detail,
      {
        provider: context.provider,
        model: context.model,
        modelsTried: context.modelsTried,
        attempts: context.attempts,
        lastUpstreamStatus: context.lastUpstreamStatus,
        errorType: context.lastErrorKind,
        retryAfterSeconds: context.retryAfterSeconds,
        ...(context.resource !== undefined ? { resource: context.resource } : {}),
        ...(context.providerCode !== undefined ? { providerCode: context.providerCode } : {}),
        ...(context.param !== undefined ? { param: context.param } : {}),
        ...(context.promptId !== undefined ? { promptId: context.promptId } : {}),
      },
      context.retryAfterSeconds !== null ? { 'retry-after': String(context.retryAfterSeconds) } : {},
      options,
    );
  }
}

/** Where a call stood when its client went away (see `LlmCallAbandonedError`). */
export interface AbandonedContext {
  provider: string;
  /** The model of the attempt in flight, or the last one tried (the first of the chain when none was). */
  model: string;
  modelsTried: string[];
  attempts: number;
  retries: number;
  /** A request was with the provider when the client went away: its prompt (and any output) is billed. */
  inFlight: boolean;
  /** The text streamed to the client before it went away (SSE), else empty. */
  streamedText: string;
}

/**
 * A call its client abandoned (closed the connection) before the answer was complete: 499, neither a server error
 * nor free. Recorded with `error_type:client_abort` and a ledger row (`aborted`) with what the provider was asked
 * for and generated. Nobody reads its problem body.
 */
export class LlmCallAbandonedError extends DomainError {
  declare readonly code: 'CLIENT_CLOSED_REQUEST';

  /**
   * `by: 'shutdown'`: the server's own shutdown cut the connection (SHUTDOWN_GRACE_MS ran out), not the client; the
   * message says so, since it is what the request's log line and span tell.
   */
  constructor(
    readonly context: AbandonedContext,
    options?: { cause?: unknown; by?: 'client' | 'shutdown' },
  ) {
    const when = context.inFlight
      ? `while ${context.provider} ${context.model} was answering`
      : 'before any attempt was sent';
    super(
      LLM_ERRORS.CLIENT_CLOSED_REQUEST,
      options?.by === 'shutdown'
        ? `The server's shutdown cut the connection (SHUTDOWN_GRACE_MS ran out) ${when}`
        : `The client closed the connection ${when}`,
      { provider: context.provider, model: context.model, attempts: context.attempts },
      {},
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}
