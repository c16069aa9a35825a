import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import type { LlmCallResult } from '../llm-call.types';
import type { AbandonedContext } from '../llm.errors';
import { type LlmGenerateResult, LlmProvider, type LlmUsage } from '../ports/llm-provider.port';
import { PriceTable } from '../pricing/price-table';
import { TokenEstimator } from '../tokens/token-estimator';
import type { CallContext } from './call-state';
import { addSpent, NOTHING, type Spent, spentBy, usageOf } from './spend';

/** How the chain got its answer (see `FallbackChain.run`). */
export interface Answered {
  model: string;
  attempts: number;
  retries: number;
  modelsTried: string[];
  lastUpstreamStatus: number | null;
  evaluationRef: unknown;
}

/** The result of an answered call: tokens, cost (dated price table), retries, fallback, drills. */
@Injectable()
export class CallResults {
  constructor(
    private readonly config: AppConfig,
    private readonly provider: LlmProvider,
    private readonly prices: PriceTable,
    private readonly tokens: TokenEstimator,
  ) {}

  /**
   * What an abandoned call spent. No provider usage arrived (it comes with the whole answer, or a stream's final
   * event): with a request in flight, the prompt's tokens and the text streamed so far, counted with the tokenizer
   * (marked estimated) and priced; with none (the client left while the call queued or backed off), nothing.
   */
  abandoned(ctx: CallContext, at: AbandonedContext): Spent {
    const inputTokens = at.inFlight ? this.tokens.count(ctx.prompt) : 0;
    const outputTokens = at.streamedText ? this.tokens.count(at.streamedText) : 0;
    const usage: LlmUsage = {
      inputTokens,
      outputTokens,
      totalTokens: inputTokens + outputTokens,
      cachedTokens: 0,
      reasoningTokens: 0,
      estimated: at.inFlight,
    };
    return spentBy(at.model, { usage, cost: this.prices.cost(at.model, usage) });
  }

  /**
   * A stream that failed after its first token (the provider stalled or sent an error): the prompt and the text
   * streamed so far were generated and billed. Their estimate (as for an abandoned stream, marked estimated) joins
   * the call's failed attempts' usage.
   */
  streamFailed(ctx: CallContext, model: string, streamedText: string): void {
    const { usage } = this.abandoned(ctx, {
      provider: this.provider.name,
      model,
      modelsTried: [],
      attempts: 0,
      retries: 0,
      inFlight: true,
      streamedText,
    });
    (ctx.failedUsage ??= []).push({ model, usage });
    ctx.streamedChars = streamedText.length;
  }

  /**
   * The known spend of the call's failed attempts (`CallContext.failedUsage`), each priced at its model's rates;
   * undefined when none is known.
   */
  spentOnFailures(ctx: CallContext): Spent | undefined {
    if (!ctx.failedUsage || ctx.failedUsage.length === 0) return undefined;
    const empty: Spent = { usage: NOTHING, cost: { costUsd: null, pricedAs: null, tier: null }, byModel: [] };
    return ctx.failedUsage.reduce<Spent>(
      (sum, { model, usage }) => addSpent(sum, spentBy(model, { usage, cost: this.prices.cost(model, usage) })),
      empty,
    );
  }

  of(ctx: CallContext, answered: Answered, final: LlmGenerateResult): LlmCallResult {
    const usage = usageOf(this.tokens, ctx.prompt, final, ctx.input.chat?.tools);
    const requestedModel = ctx.chain[0] ?? this.config.llm.model;
    return {
      promptId: ctx.promptId,
      endpoint: ctx.input.endpoint,
      provider: this.provider.name,
      simulated: this.provider.simulated,
      model: answered.model,
      modelVersion: final.model,
      requestedModel,
      answer: final.text,
      ...(final.toolCalls !== undefined && final.toolCalls.length > 0 ? { toolCalls: final.toolCalls } : {}),
      ...(final.refusal !== undefined ? { refusal: final.refusal } : {}),
      finishReason: final.finishReason,
      rawFinishReason: final.rawFinishReason,
      usage,
      cost: this.prices.cost(answered.model, usage),
      latencyMs: performance.now() - ctx.started,
      retryCount: answered.retries,
      attempts: answered.attempts,
      fallbackUsed: answered.model !== requestedModel,
      modelsTried: answered.modelsTried,
      lastUpstreamStatus: answered.lastUpstreamStatus,
      safetyBlock: final.safetyBlock,
      drillsApplied: ctx.drillsApplied,
      sentPrompt: ctx.prompt,
      evaluationRef: answered.evaluationRef,
      ...(ctx.routed ? { routing: { ...ctx.routed.decision, constraints: ctx.routed.constraints } } : {}),
    };
  }
}
