import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import type { LlmProviderError } from '../ports/llm-provider.port';
import { backoffDelay } from '../reliability/backoff';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import type { CircuitBreaker } from '../reliability/circuit-breaker';
import { NoCapacityError } from '../reliability/concurrency-limiter';
import { type GateTicket, type RateLimitGate, RateLimitWaitError } from '../reliability/rate-limit-gate';
import { sleep } from '../reliability/sleep';
import { type Attempt, type AttemptKind, AttemptRunner } from './attempt-runner';
import { CallBudget } from './call-budget';
import { deadlineLeftMs, deadlinePassed, MIN_ATTEMPT_MS, waitPassesDeadline } from './call-context';
import type { CallContext } from './call-state';
import type { Answered } from './call-results';
import { CircuitBreakers } from './circuit-breakers';
import { FailureMapper } from './failure-mapper';
import { RateLimitGates } from './rate-limit-gates';

/** The chain's answer: the started attempt's value, how it was reached, and the attempt (a stream releases it). */
export interface ChainOutcome<T> extends Answered {
  value: T;
  attempt: Attempt;
}

/** Where a call's chain stands: what it tried, and why it stopped. */
interface ChainState {
  attempts: number;
  retries: number;
  lastError: LlmProviderError | undefined;
  lastUpstreamStatus: number | null;
  modelsTried: string[];
  circuitRetryAfterMs: number;
  rateLimited: boolean;
  holdRetryAfterMs: number;
  deadlineReached: boolean;
  budgetStopped: boolean;
}

/**
 * Runs a call's attempts over the model chain. For each model whose circuit admits the call and whose rate-limit
 * gate lets it through now (`RateLimitGates`): an attempt; on a retryable failure, a backoff (exponential with
 * jitter, at least the provider's Retry-After) and a retry, up to LLM_MAX_RETRIES; then the next model. A model
 * held after a 429 is passed over for the next one; when none of the chain could answer, the call waits for the
 * held models in turn (each at most LLM_QUEUE_TIMEOUT_MS), then 503 NO_CAPACITY `provider_rate_limit` with the
 * hold's Retry-After. No attempt starts and no backoff waits past the call's deadline, and none after billed failed
 * attempts unless the budget has room for it (`CallBudget.readmit`). A 429 is a capacity signal
 * for the gate, never a breaker failure; failures that say nothing about the upstream (auth, not found, bad request,
 * drills) leave both alone.
 */
@Injectable()
export class FallbackChain {
  constructor(
    private readonly config: AppConfig,
    private readonly breakers: CircuitBreakers,
    private readonly gates: RateLimitGates,
    private readonly runner: AttemptRunner,
    private readonly failures: FailureMapper,
    private readonly telemetry: LlmCallInstrumentation,
    private readonly budget: CallBudget,
  ) {}

  async run<T>(ctx: CallContext, kind: AttemptKind<T>): Promise<ChainOutcome<T>> {
    const chain = ctx.chain;
    const state: ChainState = {
      attempts: 0,
      retries: 0,
      lastError: undefined,
      lastUpstreamStatus: null,
      modelsTried: [],
      circuitRetryAfterMs: Infinity,
      rateLimited: false,
      holdRetryAfterMs: Infinity,
      deadlineReached: false,
      budgetStopped: false,
    };
    // Models held by the provider's rate limit: passed over, then waited for if nothing else answered.
    const held: string[] = [];

    for (const model of chain) {
      if (state.budgetStopped) break;
      if (deadlinePassed(ctx)) {
        state.deadlineReached = true;
        break;
      }
      const breaker = this.breakers.get(model);
      if (!breaker.tryAcquire()) {
        state.circuitRetryAfterMs = Math.min(state.circuitRetryAfterMs, breaker.retryAfterMs());
        continue;
      }
      const ticket = this.gates.get(model).tryAcquire();
      if (!ticket) {
        breaker.release();
        held.push(model);
        continue;
      }
      const outcome = await this.runModel(ctx, kind, model, breaker, ticket, state);
      if (outcome) return outcome;
    }

    for (const model of held) {
      if (state.budgetStopped) break;
      if (state.deadlineReached || deadlinePassed(ctx)) {
        state.deadlineReached = true;
        break;
      }
      const gate = this.gates.get(model);
      const ticket = await this.waitForGate(ctx, gate, state);
      if (!ticket) continue;
      const breaker = this.breakers.get(model);
      if (!breaker.tryAcquire()) {
        gate.release(ticket);
        state.circuitRetryAfterMs = Math.min(state.circuitRetryAfterMs, breaker.retryAfterMs());
        continue;
      }
      const outcome = await this.runModel(ctx, kind, model, breaker, ticket, state);
      if (outcome) return outcome;
    }

    const failure = this.failures.exhausted({ chain, ...state });
    if (failure.context.resource !== undefined)
      this.telemetry.shed(ctx.input.endpoint, failure.context.provider, failure.context.resource);
    throw failure;
  }

  /** A stream that fails after its first token can no longer be retried or fall back. */
  failedAfterFirstToken(error: unknown, outcome: ChainOutcome<unknown>): unknown {
    return this.failures.afterFirstToken(error, outcome);
  }

  /**
   * One model's attempts, its circuit and gate already passed: the answer, or undefined to go on to the next model
   * (its failure in `state`). Throws when the call cannot go on (no slot, the client gone).
   */
  private async runModel<T>(
    ctx: CallContext,
    kind: AttemptKind<T>,
    model: string,
    breaker: CircuitBreaker,
    firstTicket: GateTicket,
    state: ChainState,
  ): Promise<ChainOutcome<T> | undefined> {
    const { llm } = this.config;
    const gate = this.gates.get(model);
    let ticket: GateTicket | undefined = firstTicket;
    state.modelsTried.push(model);
    for (let retry = 0; ; retry++) {
      // A retry passes the gate again: after a 429 the hold (the provider's Retry-After) has ended, or a probe decides.
      ticket ??= await this.waitForGate(ctx, gate, state).catch((error: unknown) => {
        breaker.release();
        throw error;
      });
      if (!ticket) {
        breaker.release();
        return undefined;
      }
      // Failed attempts were billed: another one must fit the budget beside what they cost.
      const readmitted = this.budget.readmit(ctx);
      if (!(typeof readmitted === 'boolean' ? readmitted : await readmitted)) {
        breaker.release();
        gate.release(ticket);
        state.budgetStopped = true;
        if (retry === 0) state.modelsTried.pop(); // a fallback never tried: not among the models the failure names
        return undefined;
      }
      state.attempts += 1;
      let releaseSlot: () => void;
      try {
        releaseSlot = await this.runner.slot(ctx);
      } catch (error) {
        breaker.release();
        gate.release(ticket);
        if (error instanceof NoCapacityError) {
          const { modelsTried, attempts, lastUpstreamStatus } = state;
          const failure = this.failures.noCapacity(error, { model, modelsTried, attempts, lastUpstreamStatus });
          this.telemetry.shed(ctx.input.endpoint, failure.context.provider, 'concurrency');
          throw failure;
        }
        throw error;
      }
      const attempt = this.runner.begin(ctx, releaseSlot);
      let keepSlot = false;
      try {
        const value = await this.runner.run(ctx, attempt, model, state.attempts, kind);
        breaker.onSuccess();
        this.breakers.onSuccess();
        gate.onSuccess(ticket);
        keepSlot = kind.holdsSlot;
        const { attempts, retries, modelsTried, lastUpstreamStatus } = state;
        const evaluationRef = attempt.evaluationRef;
        return { value, model, attempts, retries, modelsTried, lastUpstreamStatus, evaluationRef, attempt };
      } catch (raw) {
        const error = this.failures.providerError(raw, model, attempt.signal);
        // A failed attempt the provider billed anyway (an answer without text, with its usage): the call counts it.
        if (error.details.usage) (ctx.failedUsage ??= []).push({ model, usage: error.details.usage });
        if (error.kind === 'aborted' || ctx.input.signal?.aborted) {
          // The client went away with this attempt's request at the provider: abandoned, not a failure.
          breaker.release();
          gate.release(ticket);
          const { modelsTried, attempts, retries } = state;
          throw this.failures.abandoned({ model, modelsTried, attempts, retries, inFlight: true }, error);
        }
        this.count(ctx, model, breaker, gate, ticket, error);
        ticket = undefined;
        state.lastError = error;
        state.lastUpstreamStatus = error.details.status ?? state.lastUpstreamStatus;
        if (!error.retryable || retry >= llm.maxRetries) return undefined;
        const delayMs = backoffDelay(retry, llm.retryBaseMs, llm.retryMaxMs, error.details.retryAfterMs);
        // A Retry-After longer than the retry budget: try the next model instead of waiting.
        if (delayMs > llm.retryMaxMs) return undefined;
        // No backoff waits past the deadline: the next model gets whatever time is left (usually none).
        if (waitPassesDeadline(ctx, delayMs)) {
          state.deadlineReached = true;
          return undefined;
        }
        state.retries += 1;
        await sleep(delayMs, ctx.input.signal);
        if (!breaker.tryAcquire()) return undefined;
      } finally {
        // The slot is held through the backoff; a started stream keeps it (and its idle timer) until it ends.
        if (!keepSlot) attempt.release();
      }
    }
  }

  /**
   * Waits for a held model's gate, at most LLM_QUEUE_TIMEOUT_MS and never past the deadline: its ticket, or
   * undefined (the wait ran out: recorded in `state` for the 503's Retry-After). The client's abort propagates.
   */
  private async waitForGate(ctx: CallContext, gate: RateLimitGate, state: ChainState): Promise<GateTicket | undefined> {
    const waitMs = Math.min(this.config.llm.queueTimeoutMs, deadlineLeftMs(ctx) - MIN_ATTEMPT_MS);
    try {
      return await gate.acquire(waitMs, ctx.input.signal);
    } catch (error) {
      if (!(error instanceof RateLimitWaitError)) throw error;
      state.rateLimited = true;
      state.holdRetryAfterMs = Math.min(state.holdRetryAfterMs, error.retryAfterMs);
      if (deadlinePassed(ctx)) state.deadlineReached = true;
      return undefined;
    }
  }

  /** A failed attempt's outcome for the circuit, the rate-limit gate and the call's rate-limit and timeout counts. */
  private count(
    ctx: CallContext,
    model: string,
    breaker: CircuitBreaker,
    gate: RateLimitGate,
    ticket: GateTicket,
    error: LlmProviderError,
  ): void {
    const drill = error.message.startsWith('drill:');
    // Not a sign that the provider is down: a drill, the request itself (4xx), our credentials or account (auth,
    // quota_exhausted: readiness says so), or a 200 without text (a caller's prompt can cause one; it is retried and
    // falls back, but never opens the circuit of every caller). A 404 (`not_found`: the provider does not have the
    // model) is counted: no caller names a model outside the chain, the router's candidates and their aliases, and
    // every call to an absent model fails alike. Before, its circuit never opened: the router kept sending every
    // simple call to a routed candidate that answered 404, each paying a failed round trip before its fallback.
    if (drill || ['auth', 'quota_exhausted', 'bad_request', 'empty_response'].includes(error.kind)) {
      breaker.release();
      gate.release(ticket);
    } else if (error.kind === 'rate_limit') {
      // A capacity signal, not a fault: the gate holds the model for the provider's Retry-After; the circuit stays.
      breaker.release();
      gate.onRateLimited(ticket, error.details.retryAfterMs);
    } else {
      breaker.onFailure();
      gate.onFailure(ticket);
    }
    this.breakers.onFailure(error);
    // Under the model that answered the 429 or timed out, not the one the call ended on (its fallback).
    if (error.kind === 'rate_limit') countFor(ctx.counters.rateLimits, model);
    if (error.kind === 'timeout') countFor(ctx.counters.timeouts, model);
  }
}

function countFor(byModel: Map<string, number>, model: string): void {
  byModel.set(model, (byModel.get(model) ?? 0) + 1);
}
