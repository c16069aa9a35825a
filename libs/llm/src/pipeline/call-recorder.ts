import { Injectable } from '@nestjs/common';
import { CallAssessor } from '../assessment/call-assessor';
import { UsageRecorder } from '../assessment/usage-recorder';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import type { LlmCallResult } from '../llm-call.types';
import { LlmCallFailedError } from '../llm.errors';
import type { LlmGenerateResult } from '../ports/llm-provider.port';
import { CallBookkeeping } from './call-bookkeeping';
import type { CallContext } from './call-context';
import { type Answered, CallResults } from './call-results';

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
  ) {}

  answered(ctx: CallContext, answered: Answered, final: LlmGenerateResult): LlmCallResult {
    return this.completed(ctx, this.results.of(ctx, answered, final));
  }

  /** A streamed answer, with its time to first token. */
  streamed(ctx: CallContext, answered: Answered, final: LlmGenerateResult, ttftMs: number | undefined): LlmCallResult {
    return this.completed(ctx, { ...this.results.of(ctx, answered, final), ttftMs });
  }

  /** Records a failed call once (an `LlmCallFailedError`; anything else is not a model call's failure) and returns the error to throw. */
  failed(ctx: CallContext, error: unknown): unknown {
    if (!(error instanceof LlmCallFailedError)) return error;
    const latencyMs = performance.now() - ctx.started;
    const { provider, model } = error.context;
    this.telemetry.failed(ctx.input.endpoint, provider, error, latencyMs, ctx.counters, ctx.promptId, ctx.prompt);
    this.assessor.assessFailure(ctx.input, provider, model);
    this.usage.failed(ctx.input, ctx.prompt, provider, error, latencyMs, ctx.startedAtMs);
    return error;
  }

  private completed(ctx: CallContext, result: LlmCallResult): LlmCallResult {
    const quality = this.assessor.score(ctx.input, result);
    const done: LlmCallResult = { ...result, quality, inspection: ctx.input.inspection };
    this.bookkeeping.defer(() => {
      this.assessor.record(ctx.input, done, quality);
      this.telemetry.succeeded(done, ctx.counters, {
        quality_score: quality.overall,
        quality_label: quality.label,
        quality_scorer: quality.scorer,
        quality_reasons: quality.reasons,
      });
      this.usage.succeeded(ctx.input, done, ctx.startedAtMs);
    });
    return done;
  }
}
