import { Injectable } from '@nestjs/common';
import { isCutAtShutdown } from '@app/common';
import { CallAssessor } from '../assessment/call-assessor';
import { UsageRecorder } from '../assessment/usage-recorder';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import type { LlmCallResult } from '../llm-call.types';
import { LlmCallAbandonedError, LlmCallFailedError } from '../llm.errors';
import type { LlmGenerateResult } from '../ports/llm-provider.port';
import { CallBookkeeping } from './call-bookkeeping';
import { CallBudget } from './call-budget';
import type { CallContext } from './call-state';
import { type Answered, CallResults } from './call-results';
import { addSpent } from './spend';
import { FailureMapper } from './failure-mapper';
import { type CacheHit, type CacheInfo, ResponseCache } from './response-cache';

/**
 * A call's end: the answered call is scored (the response carries the score) and its records (metrics, log
 * line, ledger, evaluations, drift) are made once, soon after the answer is written (`CallBookkeeping`); a
 * failed call is recorded once, at once.
 */
@Injectable()
export class CallRecorder {
  constructor(
    private readonly results: CallResults,
    private readonly assessor: CallAssessor,
    private readonly telemetry: LlmCallInstrumentation,
    private readonly usage: UsageRecorder,
    private readonly bookkeeping: CallBookkeeping,
    private readonly failures: FailureMapper,
    private readonly budget: CallBudget,
    private readonly cache: ResponseCache,
  ) {}

  /** A whole answer: also stored in the response cache when the call is cacheable (`ResponseCache.store`). */
  answered(ctx: CallContext, answered: Answered, final: LlmGenerateResult): LlmCallResult {
    const done = this.completed(ctx, this.results.of(ctx, answered, final));
    this.cache.store(ctx, done);
    return done;
  }

  /**
   * A call answered from the response cache: the cached answer and its original quality, zero provider tokens and
   * cost, `cache` saying so. Its records: the cache metrics and a ledger row flagged `cache_hit` with the saving;
   * no `llm.request.*` metrics (no model was called), no evaluation, nothing to settle (nothing was reserved).
   */
  cached(ctx: CallContext, hit: CacheHit): LlmCallResult {
    const { cached } = hit;
    const info: CacheInfo = { hit: true, ageS: hit.ageS, savedCostUsd: cached.cost.costUsd };
    const result: LlmCallResult = {
      promptId: ctx.promptId,
      endpoint: ctx.input.endpoint,
      provider: cached.provider,
      simulated: cached.simulated,
      model: cached.model,
      modelVersion: cached.modelVersion,
      requestedModel: cached.requestedModel,
      answer: cached.answer,
      finishReason: cached.finishReason,
      ...(cached.rawFinishReason !== undefined ? { rawFinishReason: cached.rawFinishReason } : {}),
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, cachedTokens: 0, reasoningTokens: 0, estimated: false },
      cost: { costUsd: 0, pricedAs: cached.cost.pricedAs, tier: cached.cost.tier },
      latencyMs: performance.now() - ctx.started,
      retryCount: 0,
      attempts: 0,
      fallbackUsed: false,
      modelsTried: [],
      lastUpstreamStatus: null,
      drillsApplied: [],
      sentPrompt: ctx.prompt,
      ...(cached.quality ? { quality: cached.quality } : {}),
      inspection: ctx.input.inspection,
      cache: info,
    };
    this.bookkeeping.defer(() => {
      this.cache.recordHit(result, info);
      this.usage.cacheHit(ctx.input, result, info, ctx.startedAtMs);
    });
    return result;
  }

  /** A streamed answer, with its time to first token. */
  streamed(ctx: CallContext, answered: Answered, final: LlmGenerateResult, ttftMs: number | undefined): LlmCallResult {
    return this.completed(ctx, { ...this.results.of(ctx, answered, final), ttftMs });
  }

  /**
   * Records a failed call once (an `LlmCallFailedError`), or an abandoned one (`LlmCallAbandonedError`, or anything
   * that ended the call once its client had gone: the client left while it queued or backed off), and returns the
   * error to throw. Anything else is not a model call's failure.
   */
  failed(ctx: CallContext, error: unknown): unknown {
    if (error instanceof LlmCallAbandonedError) return this.abandoned(ctx, error);
    if (!(error instanceof LlmCallFailedError)) {
      if (!ctx.input.signal?.aborted) this.budget.release(ctx);
      return ctx.input.signal?.aborted
        ? this.abandoned(ctx, this.failures.abandoned({ inFlight: false, model: ctx.chain[0] }, error))
        : error;
    }
    const latencyMs = performance.now() - ctx.started;
    const { provider, model } = error.context;
    // What its failed attempts are known to have cost (the provider bills an answer without text, and a stream's
    // text up to its failure): counted in its metrics, ledger row and today's spend, so its reservation is settled.
    const spent = this.results.spentOnFailures(ctx);
    this.telemetry.failed(
      ctx.input.endpoint,
      provider,
      error,
      latencyMs,
      ctx.counters,
      ctx.promptId,
      ctx.prompt,
      spent,
    );
    this.assessor.assessFailure(ctx.input, provider, model, error.rejected ? 'rejected' : 'error');
    this.usage.failed(ctx.input, ctx.prompt, provider, error, latencyMs, ctx.startedAtMs, ctx.promptId, spent, {
      answerChars: ctx.streamedChars ?? 0,
    });
    if (spent && spent.usage.totalTokens > 0) this.budget.settle(ctx);
    else this.budget.release(ctx);
    // Named by its prompt id, as an answer is: the caller finds the ledger row (and its trace_id) of a failure too.
    return error.withPromptId(ctx.promptId);
  }

  /**
   * A stream that failed after its first token (not its client's doing): the text streamed so far is estimated and
   * counted (`CallResults.streamFailed`), then the call is recorded as failed; returns the error to throw.
   */
  streamFailed(ctx: CallContext, model: string, streamed: readonly string[], error: unknown): unknown {
    if (error instanceof LlmCallFailedError) this.results.streamFailed(ctx, model, streamed.join(''));
    return this.failed(ctx, error);
  }

  /**
   * A stream its client abandoned after its first token (the consumer stopped reading, or the client's signal
   * ended it): recorded with the text streamed so far; returns the error to throw.
   */
  streamAbandoned(ctx: CallContext, answered: Answered, streamed: readonly string[], cause?: unknown): unknown {
    const { model, modelsTried, attempts, retries } = answered;
    const at = { model, modelsTried, attempts, retries, inFlight: true, streamedText: streamed.join('') };
    return this.abandoned(ctx, this.failures.abandoned(at, cause));
  }

  /**
   * An abandoned call: 499 in its records, `error_type:client_abort`, and a ledger row with what it spent; 503 and
   * `error_type:shutdown` when the server's shutdown cut its connection (SHUTDOWN_GRACE_MS ran out).
   */
  private abandoned(ctx: CallContext, abandonment: LlmCallAbandonedError): LlmCallAbandonedError {
    const by = isCutAtShutdown(ctx.input.signal?.reason) ? 'shutdown' : 'client';
    // Built where the signal fired, as the client's; the shutdown's cut says it was the server's.
    const error =
      by === 'shutdown'
        ? new LlmCallAbandonedError(abandonment.context, { cause: abandonment.cause, by })
        : abandonment;
    const latencyMs = performance.now() - ctx.started;
    const inFlight = this.results.abandoned(ctx, error.context);
    const before = this.results.spentOnFailures(ctx);
    const spent = before ? addSpent(inFlight, before) : inFlight;
    this.telemetry.abandoned(ctx.input, error, spent, latencyMs, ctx.counters, ctx.promptId, by);
    this.usage.abandoned(ctx.input, ctx.prompt, error, spent, latencyMs, ctx.startedAtMs, ctx.promptId, by);
    this.budget.settle(ctx);
    return error;
  }

  private completed(ctx: CallContext, result: LlmCallResult): LlmCallResult {
    const quality = this.assessor.score(ctx.input, result);
    const done: LlmCallResult = { ...result, quality, inspection: ctx.input.inspection };
    // The known cost of failed attempts before the answer (billed too): in the ledger row and the cost metrics, not in
    // the response's `usage` (the answer's own, as the OpenAI API reports it).
    const spentBefore = this.results.spentOnFailures(ctx);
    this.bookkeeping.defer(() => {
      this.assessor.record(ctx.input, done, quality);
      this.telemetry.succeeded(done, ctx.counters, spentBefore, {
        quality_score: quality.overall,
        quality_label: quality.label,
        quality_scorer: quality.scorer,
        quality_judged: quality.judged,
        quality_reasons: quality.reasons,
      });
      this.usage.succeeded(ctx.input, done, ctx.startedAtMs, spentBefore);
      this.budget.settle(ctx);
    });
    return done;
  }
}
