import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { LogSanitizer } from '@app/telemetry';
import { type AbandonedContext, LlmCallAbandonedError, LlmCallFailedError, type FailureContext } from '../llm.errors';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  LlmProviderError,
} from '../ports/llm-provider.port';
import type { NoCapacityError } from '../reliability/concurrency-limiter';
import type { SaturatedResource } from '../reliability/saturation';
import { isTimeoutReason } from '../reliability/sleep';
import type { CallContext } from './call-state';
import { type DroppedToolCallReason, LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';

/** Provider error messages are cut to this (they end up in the problem detail, the span and the log line). */
const MAX_PROVIDER_MESSAGE_CHARS = 500;

type FailureCode = ConstructorParameters<typeof LlmCallFailedError>[0];

/** Where the fallback chain stood when it gave up (see `FailureMapper.exhausted`). */
export interface ChainFailure {
  chain: readonly string[];
  attempts: number;
  modelsTried: string[];
  lastError: LlmProviderError | undefined;
  lastUpstreamStatus: number | null;
  /** Set when the deadline (LLM_DEADLINE_MS) stopped a retry or a fallback. */
  deadlineReached: boolean;
  /** The soonest an open circuit of the chain lets a probe through. */
  circuitRetryAfterMs: number;
  /** Set when a model could not be tried because the provider's rate limit held it past the call's wait. */
  rateLimited: boolean;
  /** The soonest such a hold ends. */
  holdRetryAfterMs: number;
  /** Set when the daily budget had no room for another attempt after billed failed ones (`CallBudget.readmit`). */
  budgetStopped?: boolean;
}

/**
 * Provider failures, normalised to `LlmProviderError` with a redacted, bounded message, and the call's
 * failure, `LlmCallFailedError`: 504 after a timeout, 503 for open circuits, no capacity or upstream rate
 * limiting (with Retry-After), 502 for anything else.
 */
@Injectable()
export class FailureMapper {
  constructor(
    private readonly config: AppConfig,
    private readonly provider: LlmProvider,
    private readonly sanitizer: LogSanitizer,
    private readonly telemetry: LlmCallInstrumentation,
  ) {}

  /** Any error of an attempt as a provider failure: a timeout or the client going away when its signal fired. */
  providerError(raw: unknown, model: string, signal: AbortSignal): LlmProviderError {
    if (raw instanceof LlmProviderError) return raw;
    const details = { provider: this.provider.name, model };
    if (signal.aborted) {
      return isTimeoutReason(signal.reason)
        ? new LlmProviderError('timeout', (signal.reason as Error).message, details, { cause: raw })
        : new LlmProviderError('aborted', 'client went away', details, { cause: raw });
    }
    return new LlmProviderError('invalid_response', raw instanceof Error ? raw.message : String(raw), details, {
      cause: raw,
    });
  }

  /**
   * A provider failure whose message is redacted (PII, secrets) and bounded before it reaches the attempt span,
   * the log line or the client's problem detail: upstream error bodies may echo the prompt or part of a key
   * ("Incorrect API key provided: sk-…").
   */
  redacted(error: unknown): unknown {
    if (!(error instanceof LlmProviderError)) return error;
    const message = this.sanitizer.text(error.message, MAX_PROVIDER_MESSAGE_CHARS);
    return message === error.message
      ? error
      : new LlmProviderError(error.kind, message, error.details, { cause: error });
  }

  /**
   * An answer with no text that is not a safety block is a failed attempt (`empty_response`: retried, then a
   * fallback, then 502), never a 200 with an empty answer. It happens when a reasoning model spends the whole
   * output budget thinking (finish reason `length`) or a server answers `content: null`.
   *
   * Except when the caller's own bounds left nothing to say (the chat endpoint): its stop sequence ended the answer
   * before any text (finish reason `stop` with `stop` given), or its `max_tokens` ran out before any (`length` with
   * `max_tokens` given). That is a valid, empty completion, as the OpenAI API answers it: 200 with `content: ""`.
   * Failing it would let one caller's request be retried, fall back, and count toward the circuit of every caller.
   */
  failIfEmpty(request: LlmGenerateRequest, result: LlmGenerateResult, ctx: Pick<CallContext, 'input'>): void {
    if (result.safetyBlock !== undefined || result.text.trim() !== '' || (result.toolCalls?.length ?? 0) > 0) return;
    const chat = ctx.input.chat;
    if (result.finishReason === 'stop' && (chat?.stopSequences?.length ?? 0) > 0) return;
    if (result.finishReason === 'length' && chat?.maxOutputTokens !== undefined) return;
    const why =
      result.finishReason === 'length'
        ? `the output budget (LLM_MAX_OUTPUT_TOKENS=${request.maxOutputTokens}) ran out before any answer text`
        : `finish reason ${result.rawFinishReason ?? result.finishReason}`;
    throw new LlmProviderError('empty_response', `${this.provider.name} ${request.model}: empty answer (${why})`, {
      provider: this.provider.name,
      model: request.model,
      status: 200,
      // The provider billed the attempt (prompt, thinking, any output): the call's records count what it reported.
      ...(result.usage !== undefined ? { usage: result.usage } : {}),
    });
  }

  /**
   * The answer without its calls of functions the request did not offer: a function that is not among its tools, any
   * call when it gave none or said `tool_choice: none`, another than the one `tool_choice` named. OpenAI never answers
   * so; a Gemini model may (a name made up, one of an earlier turn's functions no longer offered, a call under mode
   * NONE), and the app was handed a call it cannot run (the openai SDK's `runTools` throws on it; an app that sent no
   * tools has no handler for it). What the answer holds besides is the answer (`stop` when no call is left); an answer
   * that held nothing else is empty (`empty_response`: retried, then a fallback, then 502; the caller's conversation
   * can cause it, so it never opens the circuit). Else as `failIfEmpty`. Under `parallel_tool_calls: false` only the
   * first offered call is kept (Gemini has no such setting).
   */
  offeredCallsOnly(
    request: LlmGenerateRequest,
    result: LlmGenerateResult,
    ctx: Pick<CallContext, 'input' | 'promptId'>,
  ): LlmGenerateResult {
    const calls = result.toolCalls ?? [];
    const offered = offeredFunctions(request);
    const stray = calls.filter((call) => !offered.includes(call.name));
    const allowed = calls.filter((call) => offered.includes(call.name));
    // parallel_tool_calls false: the first call (Gemini has no such setting; OpenAI is told, and kept to it here too).
    const kept = request.parallelToolCalls === false ? allowed.slice(0, 1) : allowed;
    if (stray.length === 0 && kept.length === allowed.length) {
      this.failIfEmpty(request, result, ctx);
      return result;
    }
    if (stray.length > 0) {
      // Never silent: before, the app's missing call left no trace but the answer it did not get.
      this.telemetry.droppedToolCalls(
        { promptId: ctx.promptId, endpoint: ctx.input.endpoint },
        this.provider.name,
        request.model,
        droppedReason(request),
        stray,
        offered,
      );
    }
    const { toolCalls: _answered, ...rest } = result;
    const finishReason = kept.length === 0 && result.finishReason === 'tool_calls' ? 'stop' : result.finishReason;
    const usable: LlmGenerateResult = { ...rest, finishReason, ...(kept.length > 0 ? { toolCalls: kept } : {}) };
    if (usable.safetyBlock !== undefined || usable.text.trim() !== '' || kept.length > 0) return usable;
    const names = [...new Set(stray.map((call) => call.name.slice(0, 64)))].slice(0, 4).join(', ');
    const why =
      request.toolChoice === 'none'
        ? 'tool_choice was none'
        : offered.length === 0
          ? 'no tools were offered'
          : `the tools offered: ${offered.slice(0, 8).join(', ')}${offered.length > 8 ? ', ...' : ''}`;
    throw new LlmProviderError(
      'empty_response',
      `${this.provider.name} ${request.model}: empty answer (it only called functions that were not offered: ${names}; ${why})`,
      {
        provider: this.provider.name,
        model: request.model,
        status: 200,
        ...(result.usage !== undefined ? { usage: result.usage } : {}),
      },
    );
  }

  /** No concurrency slot freed within LLM_QUEUE_TIMEOUT_MS: 503 `concurrency`, retry in a second. */
  noCapacity(
    error: NoCapacityError,
    context: Omit<FailureContext, 'provider' | 'lastErrorKind' | 'retryAfterSeconds'>,
  ): LlmCallFailedError {
    return this.saturated('concurrency', `${error.message} (LLM_MAX_CONCURRENCY)`, 1000, context);
  }

  /**
   * A saturated resource refused the call: 503 NO_CAPACITY naming it (`resource`), with a Retry-After of
   * `retryAfterMs` (at least 1 s).
   */
  saturated(
    resource: SaturatedResource,
    why: string,
    retryAfterMs: number,
    context: Omit<FailureContext, 'provider' | 'lastErrorKind' | 'retryAfterSeconds' | 'resource'>,
  ): LlmCallFailedError {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return this.failure('NO_CAPACITY', `No capacity (${resource}): ${why}; retry in ${retryAfterSeconds} s`, {
      ...context,
      lastErrorKind: 'no_capacity',
      retryAfterSeconds,
      resource,
    });
  }

  /** The call's failure once the chain gave up: no attempt possible, or the last attempt's failure. */
  exhausted(state: ChainFailure): LlmCallFailedError {
    const { chain, attempts, modelsTried, lastError, lastUpstreamStatus } = state;
    const { deadlineMs } = this.config.llm;
    if (attempts === 0 && state.deadlineReached) {
      return this.failure(
        'UPSTREAM_TIMEOUT',
        `The call's deadline of ${deadlineMs} ms (LLM_DEADLINE_MS) passed before any attempt`,
        {
          model: chain[0]!,
          modelsTried,
          attempts,
          lastUpstreamStatus: null,
          lastErrorKind: 'timeout',
          retryAfterSeconds: null,
        },
      );
    }
    if (modelsTried.length === 0 && state.rateLimited && state.holdRetryAfterMs <= state.circuitRetryAfterMs) {
      const held = state.holdRetryAfterMs;
      return this.saturated(
        'provider_rate_limit',
        `${this.provider.name} is rate-limiting every model of the chain (${chain.join(', ')}) that is not open-circuited`,
        held,
        { model: chain[chain.length - 1]!, modelsTried, attempts, lastUpstreamStatus: null },
      );
    }
    if (modelsTried.length === 0) {
      const seconds = Math.max(1, Math.ceil(state.circuitRetryAfterMs / 1000));
      return this.failure(
        'CIRCUIT_OPEN',
        `Circuit open for every model of the chain (${chain.join(', ')}); retry in ${seconds} s`,
        {
          model: chain[chain.length - 1]!,
          modelsTried,
          attempts,
          lastUpstreamStatus: null,
          lastErrorKind: 'circuit_open',
          retryAfterSeconds: seconds,
        },
      );
    }
    const kind = lastError?.kind ?? null;
    // Said once: an attempt cut by the deadline already names it in its own message.
    const stopped =
      state.deadlineReached && !lastError?.message.includes('LLM_DEADLINE_MS')
        ? ` (no more attempts: the call's deadline of ${deadlineMs} ms was reached)`
        : state.budgetStopped
          ? ' (no more attempts: the failed attempts were billed and the daily budget, DAILY_BUDGET_USD, has no room for another)'
          : '';
    const detail = `${this.provider.name} failed after ${attempts} attempt(s) on ${modelsTried.join(', ')}: ${lastError?.message ?? 'unknown error'}${stopped}`;
    const { providerCode, param } = lastError?.details ?? {};
    const context = {
      model: modelsTried[modelsTried.length - 1]!,
      modelsTried,
      attempts,
      lastUpstreamStatus,
      lastErrorKind: kind,
      ...(providerCode !== undefined ? { providerCode } : {}),
      ...(param !== undefined ? { param } : {}),
    };
    // The provider refused the request itself (the last model of the chain too): the caller's to change, a 400.
    if (kind === 'bad_request') {
      const why =
        providerCode === 'context_length_exceeded'
          ? 'The prompt is longer than the model accepts (its context window): shorten it'
          : `The provider refused the request as invalid${param !== undefined ? ` (${param})` : ''}`;
      const answered = lastError!.message.replace(/^\S+ \S+: (upstream answered )?/, '');
      // Without a status the adapter refused it before sending (what the provider is known to refuse).
      const verb = lastError!.details.status !== undefined ? 'answered' : 'cannot take it:';
      return this.failure(
        'PROVIDER_REJECTED_REQUEST',
        `${why}. ${this.provider.name} ${context.model} ${verb} ${answered}`,
        { ...context, retryAfterSeconds: null },
        lastError,
      );
    }
    if (kind === 'timeout')
      return this.failure('UPSTREAM_TIMEOUT', detail, { ...context, retryAfterSeconds: null }, lastError);
    // Rate limited, or unavailable with a Retry-After (an upstream 503 saying when to come back): the client gets
    // the provider's Retry-After on a 503 of its own.
    const retryAfterMs = lastError?.details.retryAfterMs;
    if (kind === 'rate_limit' || (lastError?.details.status === 503 && retryAfterMs !== undefined)) {
      const retryAfterSeconds = Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));
      return this.failure('UPSTREAM_UNAVAILABLE', detail, { ...context, retryAfterSeconds }, lastError);
    }
    return this.failure('UPSTREAM_ERROR', detail, { ...context, retryAfterSeconds: null }, lastError);
  }

  /**
   * The client went away (its signal fired): the call is abandoned, 499. `inFlight` when an attempt's request was
   * with the provider then (its prompt is billed); `model` defaults to the chain's first.
   */
  abandoned(
    at: Partial<Omit<AbandonedContext, 'provider'>> & { inFlight: boolean },
    cause?: unknown,
  ): LlmCallAbandonedError {
    if (cause instanceof LlmCallAbandonedError) return cause;
    return new LlmCallAbandonedError(
      {
        provider: this.provider.name,
        model: at.model ?? this.config.llm.model,
        modelsTried: at.modelsTried ? [...at.modelsTried] : [],
        attempts: at.attempts ?? 0,
        retries: at.retries ?? 0,
        inFlight: at.inFlight,
        streamedText: at.streamedText ?? '',
      },
      { cause },
    );
  }

  /** A stream that failed after its first token (no retry is possible any more); other errors pass unchanged. */
  afterFirstToken(error: unknown, answered: { model: string; modelsTried: string[]; attempts: number }): unknown {
    if (!(error instanceof LlmProviderError) || error.kind === 'aborted') return error;
    const { providerCode, param } = error.details;
    return this.failure(
      error.kind === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_ERROR',
      `stream failed after the first token: ${error.message}`,
      {
        model: answered.model,
        modelsTried: answered.modelsTried,
        attempts: answered.attempts,
        lastUpstreamStatus: error.details.status ?? null,
        lastErrorKind: error.kind,
        // The provider's own code, as the same failure before the first token carries it (one error contract).
        ...(providerCode !== undefined ? { providerCode } : {}),
        ...(param !== undefined ? { param } : {}),
        retryAfterSeconds: null,
      },
      error,
    );
  }

  private failure(
    code: FailureCode,
    detail: string,
    context: Omit<FailureContext, 'provider'>,
    cause?: unknown,
  ): LlmCallFailedError {
    return new LlmCallFailedError(
      code,
      detail,
      { provider: this.provider.name, ...context, modelsTried: [...context.modelsTried] },
      { cause },
    );
  }
}

/** Why a request's calls of functions it did not offer were dropped (a bounded tag). */
function droppedReason(request: LlmGenerateRequest): DroppedToolCallReason {
  if (request.toolChoice === 'none') return 'tool_choice_none';
  if (typeof request.toolChoice === 'object') return 'not_chosen';
  return (request.tools ?? []).length === 0 ? 'no_tools' : 'not_offered';
}

/** The functions a request lets the model call: none under `tool_choice: none`, the one it names, else its tools. */
function offeredFunctions(request: LlmGenerateRequest): readonly string[] {
  const choice = request.toolChoice;
  if (choice === 'none') return [];
  if (typeof choice === 'object') return [choice.name];
  return (request.tools ?? []).map((tool) => tool.name);
}
