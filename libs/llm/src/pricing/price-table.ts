import { readFileSync } from 'node:fs';
import { BootError } from '@app/config';
import type { LlmUsage } from '../ports/llm-provider.port';
import shippedTable from './price-table.json';

export interface Rates {
  input: number;
  output: number;
  /** null: the model has no cached-input rate; cached tokens are billed as input. */
  cached_input: number | null;
}

export interface ModelPrice extends Rates {
  long_context?: Rates & { threshold: number };
}

export interface PriceTableFile {
  as_of: string;
  currency: string;
  unit_tokens: number;
  sources?: string[];
  models: Record<string, ModelPrice>;
  aliases?: Record<string, string>;
}

export interface CostBreakdown {
  /** null when the model is not in the table: never a made-up number. */
  costUsd: number | null;
  pricedAs: string | null;
  tier: 'standard' | 'long_context' | null;
}

function isRates(value: unknown): value is Rates {
  const v = value as Rates;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.input === 'number' &&
    v.input >= 0 &&
    typeof v.output === 'number' &&
    v.output >= 0 &&
    (v.cached_input === null || (typeof v.cached_input === 'number' && v.cached_input >= 0))
  );
}

/** The price table shipped in the repository (libs/llm/src/pricing/price-table.json). */
export function shippedPriceTable(): PriceTableFile {
  return checkPriceTable(shippedTable, 'price-table.json');
}

/**
 * Reads and checks a price table file (LLM_PRICE_TABLE_PATH); throws a BootError naming the variable, the file and
 * the bad entry.
 */
export function readPriceTable(path: string): PriceTableFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const { message } = error as { message?: unknown };
    throw new BootError('LLM_PRICE_TABLE_PATH', `"${path}" cannot be read as JSON (${String(message)})`, {
      cause: error,
    });
  }
  const problem = priceTableProblem(parsed);
  if (problem) throw new BootError('LLM_PRICE_TABLE_PATH', `"${path}" is not a price table: ${problem}`);
  return parsed as PriceTableFile;
}

function checkPriceTable(parsed: unknown, path: string): PriceTableFile {
  const problem = priceTableProblem(parsed);
  if (problem) throw new Error(`price table ${path}: ${problem}`);
  return parsed as PriceTableFile;
}

/** What is wrong with a parsed price table file, or undefined. */
function priceTableProblem(parsed: unknown): string | undefined {
  const table = parsed as PriceTableFile | null;
  if (
    typeof table !== 'object' ||
    table === null ||
    typeof table.as_of !== 'string' ||
    typeof table.unit_tokens !== 'number' ||
    typeof table.models !== 'object' ||
    table.models === null
  ) {
    return 'needs "as_of", "unit_tokens" and "models"';
  }
  // Rates are per unit_tokens tokens: 0 made every cost Infinity (sent as `llm.cost.usd:Infinity`, a null cost in the
  // ledger that no budget counts); a negative one, negative costs.
  if (!Number.isFinite(table.unit_tokens) || table.unit_tokens <= 0) {
    return `"unit_tokens" must be a positive number of tokens (got ${table.unit_tokens}), e.g. 1000000 for rates per 1M`;
  }
  // Every cost, the ledger's cost_usd and DAILY_BUDGET_USD are dollars: a table in another currency would be read as USD.
  if (table.currency !== undefined && table.currency !== 'USD') {
    return `"currency" must be "USD" (got ${JSON.stringify(table.currency)}): costs and budgets are in US dollars`;
  }
  for (const [model, price] of Object.entries(table.models)) {
    if (!isRates(price) || (price.long_context && !(isRates(price.long_context) && price.long_context.threshold > 0))) {
      return `model "${model}" needs numeric input/output/cached_input rates`;
    }
  }
  for (const [alias, model] of Object.entries(table.aliases ?? {})) {
    if (typeof model !== 'string' || !Object.hasOwn(table.models, model)) {
      return `alias "${alias}" names ${JSON.stringify(model)}, which is not a model of the table`;
    }
  }
  return undefined;
}

/**
 * Cost of a call from the dated price table. Cached input tokens are billed at the cached rate, the rest
 * of the input at the input rate, output and reasoning tokens at the output rate; the long-context tier
 * applies when the prompt exceeds its threshold.
 */
export class PriceTable {
  constructor(readonly table: PriceTableFile) {}

  resolve(model: string): { name: string; price: ModelPrice } | undefined {
    const bare = model.replace(/^models\//, '').replace(/^publishers\/google\/models\//, '');
    const name = this.table.aliases?.[bare] ?? bare;
    const price = this.table.models[name];
    return price ? { name, price } : undefined;
  }

  cost(model: string, usage: LlmUsage): CostBreakdown {
    const found = this.resolve(model);
    if (!found) return { costUsd: null, pricedAs: null, tier: null };
    const { price } = found;
    const long =
      price.long_context && usage.inputTokens > price.long_context.threshold ? price.long_context : undefined;
    const rates: Rates = long ?? price;
    const cached = Math.min(usage.cachedTokens, usage.inputTokens);
    const cachedRate = rates.cached_input ?? rates.input;
    const usd =
      ((usage.inputTokens - cached) * rates.input +
        cached * cachedRate +
        (usage.outputTokens + usage.reasoningTokens) * rates.output) /
      this.table.unit_tokens;
    return { costUsd: Math.round(usd * 1e10) / 1e10, pricedAs: found.name, tier: long ? 'long_context' : 'standard' };
  }

  /** Upper bound of a call's cost before it is made (for the /stress cost cap). */
  maxCost(model: string, inputTokens: number, maxOutputTokens: number): number | null {
    return this.cost(model, {
      inputTokens,
      outputTokens: maxOutputTokens,
      cachedTokens: 0,
      reasoningTokens: 0,
      totalTokens: 0,
      estimated: true,
    }).costUsd;
  }
}
