import type { PriceTable } from './price-table';

/**
 * The most a call can cost before it is made: its input tokens at the input rate plus `maxOutputTokens` at the
 * output rate (the long-context tier when the input passes its threshold), for the most expensive model of the
 * chain (the primary and its fallbacks: any of them may answer). Models missing from the price table are left
 * out: their calls cost null in the ledger, so they add no spend either; a chain that none of the table prices
 * reserves 0 (budgets cannot bound it; the boot warns about unpriced models).
 */
export function worstCaseCostUsd(
  prices: PriceTable,
  chain: readonly string[],
  inputTokens: number,
  maxOutputTokens: number,
): number {
  let worst = 0;
  for (const model of chain) worst = Math.max(worst, prices.maxCost(model, inputTokens, maxOutputTokens) ?? 0);
  return worst;
}
