import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import type { LlmProviderError } from '../ports/llm-provider.port';
import { backoffDelay } from '../reliability/backoff';
import type { CircuitBreaker } from '../reliability/circuit-breaker';
import { NoCapacityError } from '../reliability/concurrency-limiter';
import { sleep } from '../reliability/sleep';
import { type Attempt, type AttemptKind, AttemptRunner } from './attempt-runner';
import { type CallContext, deadlinePassed, waitPassesDeadline } from './call-context';
import type { Answered } from './call-results';
import { CircuitBreakers } from './circuit-breakers';
import { FailureMapper } from './failure-mapper';

/** The chain's answer: the started attempt's value, how it was reached, and the attempt (a stream releases it). */
export interface ChainOutcome<T> extends Answered {
  value: T;
  attempt: Attempt;
}

/**
 * Runs a call's attempts over the model chain. For each model whose circuit admits the call: an attempt; on a
 * retryable failure, a backoff (exponential with jitter, at least the provider's Retry-After) and a retry, up
 * to LLM_MAX_RETRIES; then the next model. No attempt starts and no backoff waits past the call's deadline.
 * Failures that say nothing about the upstream (auth, not found, bad request, drills) leave the circuit alone.
 */
@Injectable()
export class FallbackChain {
  constructor(
    private readonly config: AppConfig,
    private readonly breakers: CircuitBreakers,
    private readonly runner: AttemptRunner,
    private readonly failures: FailureMapper,
  ) {}

  async run<T>(ctx: CallContext, kind: AttemptKind<T>): Promise<ChainOutcome<T>> {
    const { llm } = this.config;
    const chain = this.breakers.chain;
    let attempts = 0;
    let retries = 0;
    let lastError: LlmProviderError | undefined;
    let lastUpstreamStatus: number | null = null;
    const modelsTried: string[] = [];
    let circuitRetryAfterMs = Infinity;
    let deadlineReached = false;

    for (const model of chain) {
      if (deadlinePassed(ctx)) {
        deadlineReached = true;
        break;
      }
      const breaker = this.breakers.get(model);
      if (!breaker.tryAcquire()) {
        circuitRetryAfterMs = Math.min(circuitRetryAfterMs, breaker.retryAfterMs());
        continue;
      }
      modelsTried.push(model);
      for (let retry = 0; ; retry++) {
        attempts += 1;
        let releaseSlot: () => void;
        try {
          releaseSlot = await this.runner.slot(ctx);
        } catch (error) {
          breaker.release();
          if (error instanceof NoCapacityError)
            throw this.failures.noCapacity(error, { model, modelsTried, attempts, lastUpstreamStatus });
          throw error;
        }
        const attempt = this.runner.begin(ctx, releaseSlot);
        let keepSlot = false;
        try {
          const value = await this.runner.run(ctx, attempt, model, attempts, kind);
          breaker.onSuccess();
          keepSlot = kind.holdsSlot;
          const evaluationRef = attempt.evaluationRef;
          return { value, model, attempts, retries, modelsTried, lastUpstreamStatus, evaluationRef, attempt };
        } catch (raw) {
          const error = this.failures.providerError(raw, model, attempt.signal);
          if (error.kind === 'aborted' || ctx.input.signal?.aborted) {
            // The client went away with this attempt's request at the provider: abandoned, not a failure.
            breaker.release();
            throw this.failures.abandoned({ model, modelsTried, attempts, retries, inFlight: true }, error);
          }
          this.count(ctx, breaker, error);
          lastError = error;
          lastUpstreamStatus = error.details.status ?? lastUpstreamStatus;
          if (!error.retryable || retry >= llm.maxRetries) break;
          const delayMs = backoffDelay(retry, llm.retryBaseMs, llm.retryMaxMs, error.details.retryAfterMs);
          // A Retry-After longer than the retry budget: try the next model instead of waiting.
          if (delayMs > llm.retryMaxMs) break;
          // No backoff waits past the deadline: the next model gets whatever time is left (usually none).
          if (waitPassesDeadline(ctx, delayMs)) {
            deadlineReached = true;
            break;
          }
          retries += 1;
          await sleep(delayMs, ctx.input.signal);
          if (!breaker.tryAcquire()) break;
        } finally {
          // The slot is held through the backoff; a started stream keeps it (and its idle timer) until it ends.
          if (!keepSlot) attempt.release();
        }
      }
    }
    throw this.failures.exhausted({
      chain,
      attempts,
      modelsTried,
      lastError,
      lastUpstreamStatus,
      deadlineReached,
      circuitRetryAfterMs,
    });
  }

  /** A stream that fails after its first token can no longer be retried or fall back. */
  failedAfterFirstToken(error: unknown, outcome: ChainOutcome<unknown>): unknown {
    return this.failures.afterFirstToken(error, outcome);
  }

  /** A failed attempt's outcome for the circuit and the call's rate-limit and timeout counts. */
  private count(ctx: CallContext, breaker: CircuitBreaker, error: LlmProviderError): void {
    const drill = error.message.startsWith('drill:');
    if (drill || ['auth', 'not_found', 'bad_request'].includes(error.kind)) breaker.release();
    else breaker.onFailure();
    if (error.kind === 'rate_limit') ctx.counters.rateLimits += 1;
    if (error.kind === 'timeout') ctx.counters.timeouts += 1;
  }
}
