import type { LlmGenerateResult, LlmUsage, ToolDefinition } from '../ports/llm-provider.port';
import type { CostBreakdown } from '../pricing/price-table';
import type { TokenEstimator } from '../tokens/token-estimator';
import { answerText } from './chat-text';

/*
 * Usage and spend arithmetic: what a call's tokens were (reported or estimated) and what its parts spent, summed and
 * split by model. Pure functions on plain values, used by the pipeline, the usage recorder and the instrumentation.
 */

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

/** No tokens, nothing estimated. */
export const NOTHING: LlmUsage = {
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
