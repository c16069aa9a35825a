import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import type { LlmCallResult } from '../llm-call.types';
import type { AbandonedContext } from '../llm.errors';
import type { CostBreakdown } from '../pricing/price-table';
import { type LlmGenerateResult, LlmProvider, type LlmUsage, type ToolDefinition } from '../ports/llm-provider.port';
import { PriceTable } from '../pricing/price-table';
import { TokenEstimator } from '../tokens/token-estimator';
import type { CallContext } from './call-context';
import { answerText } from './chat-text';

/** How the chain got its answer (see `FallbackChain.run`). */
export interface Answered {
  model: string;
  attempts: number;
  retries: number;
  modelsTried: string[];
  lastUpstreamStatus: number | null;
  evaluationRef: unknown;
}

/**
 * The provider's usage, or the service's estimate with a real tokenizer (marked so) when it reported none: the prompt
 * and the tool declarations sent (billed as input), the answer's text and tool calls. Before, an answer that only
 * called tools was estimated at 0 output tokens, and the declarations not at all: such calls were under-costed.
 */
export function usageOf(
  tokens: TokenEstimator,
  prompt: string,
  result: LlmGenerateResult,
  tools?: readonly ToolDefinition[],
): LlmUsage {
  if (result.usage) return result.usage;
  const declared = tools !== undefined && tools.length > 0 ? tokens.count(JSON.stringify(tools)) : 0;
  const inputTokens = tokens.count(prompt) + declared;
  const outputTokens = tokens.count(answerText(result.text, result.toolCalls));
  return {
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens,
    cachedTokens: 0,
    reasoningTokens: 0,
    estimated: true,
  };
}

/** What a call (or part of it) spent: its tokens, and their cost. */
export interface Spent {
  usage: LlmUsage;
  cost: CostBreakdown;
  /**
   * The same spend split by the model that spent it (a fallback's failed attempts were another model's), when every
   * part's model is known: per-model token and cost counters are counted under the model the provider billed.
   */
  byModel?: readonly ModelSpent[];
}

/** One model's share of a spend. */
export interface ModelSpent extends Spent {
  model: string;
}

const NOTHING: LlmUsage = {
  inputTokens: 0,
  outputTokens: 0,
  totalTokens: 0,
  cachedTokens: 0,
  reasoningTokens: 0,
  estimated: false,
};

/**
 * The sum of two spends: tokens added, estimated when either is, cost added (unknown only when a part with tokens is
 * unpriced and nothing else is priced: a priced part is never dropped).
 */
export function addSpent(a: Spent, b: Spent): Spent {
  const usage: LlmUsage = {
    inputTokens: a.usage.inputTokens + b.usage.inputTokens,
    outputTokens: a.usage.outputTokens + b.usage.outputTokens,
    totalTokens: a.usage.totalTokens + b.usage.totalTokens,
    cachedTokens: a.usage.cachedTokens + b.usage.cachedTokens,
    reasoningTokens: a.usage.reasoningTokens + b.usage.reasoningTokens,
    estimated: a.usage.estimated || b.usage.estimated,
  };
  const costUsd =
    a.cost.costUsd === null && b.cost.costUsd === null
      ? null
      : Math.round(((a.cost.costUsd ?? 0) + (b.cost.costUsd ?? 0)) * 1e10) / 1e10;
  const cost = { ...(a.cost.pricedAs !== null ? a.cost : b.cost), costUsd };
  // Split by model only while both parts are; a part of unknown model makes the whole one spend.
  const byModel = a.byModel && b.byModel ? mergeByModel([...a.byModel, ...b.byModel]) : undefined;
  return byModel ? { usage, cost, byModel } : { usage, cost };
}

/** Parts of the same model added into one, in the order each model first appears. */
function mergeByModel(parts: readonly ModelSpent[]): ModelSpent[] {
  const merged = new Map<string, ModelSpent>();
  for (const part of parts) {
    const sum = merged.get(part.model);
    const { usage, cost } = sum ? addSpent(sum, part) : part;
    merged.set(part.model, { model: part.model, usage, cost });
  }
  return [...merged.values()];
}

/** A spend that is one model's. */
export function spentBy(model: string, spent: Spent): Spent {
  return { usage: spent.usage, cost: spent.cost, byModel: [{ model, usage: spent.usage, cost: spent.cost }] };
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
