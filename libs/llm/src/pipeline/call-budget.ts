import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { BudgetService } from '@app/ledger';
import { PriceTable } from '../pricing/price-table';
import { worstCaseCostUsd } from '../pricing/worst-case-cost';
import { TokenEstimator } from '../tokens/token-estimator';
import type { ChatCallOptions } from '../llm-call.types';
import type { CallContext } from './call-state';
import { declarationTexts } from './chat-text';

/**
 * A call's budget reservation: its worst-case cost (the prompt sent, counted by `TokenEstimator`, at the input
 * rate, plus LLM_MAX_OUTPUT_TOKENS at the output rate, for the most expensive priced model of the chain) is
 * reserved before anything is sent (`reserve`: 429 BUDGET_EXCEEDED under enforce when it does not fit), settled
 * once the call's ledger record is made (`settle`) and released when the call fails or is abandoned
 * (`release`); grown before another attempt once failed attempts were billed (`readmit`). Without DAILY_BUDGET_USD
 * none of it runs: `reserve` returns at once, nothing is counted.
 */
@Injectable()
export class CallBudget {
  private readonly chain: readonly string[];
  readonly active: boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly budget: BudgetService,
    private readonly prices: PriceTable,
    private readonly tokens: TokenEstimator,
  ) {
    this.chain = [config.llm.model, ...config.llm.fallbackModels];
    this.active = budget.reserving;
  }

  /**
   * The call's worst-case cost (USD) for what it sends, over its chain and with its output limit: its prompt and, on a
   * chat call, its tool declarations and response schema, which the provider bills as input too. Before, they were
   * left out: a call declaring a few thousand tokens of tools reserved less than it could cost, and an enforced
   * budget let it in where it did not fit.
   */
  worstCaseUsd(
    prompt: string,
    chain: readonly string[] = this.chain,
    maxOutputTokens = this.config.llm.maxOutputTokens,
    chat?: Pick<ChatCallOptions, 'tools' | 'responseFormat'>,
  ): number {
    const inputTokens = this.tokens.count(prompt) + this.declaredTokens(chat);
    return worstCaseCostUsd(this.prices, chain, inputTokens, maxOutputTokens);
  }

  /** The input tokens of a chat call's tool declarations and JSON schema (0 without them). */
  private declaredTokens(chat: Pick<ChatCallOptions, 'tools' | 'responseFormat'> | undefined): number {
    return declarationTexts(chat).reduce((sum, text) => sum + this.tokens.count(text), 0);
  }

  /**
   * Undefined when admitted at once (no budget, or the in-memory store); else a promise (PostgreSQL). A refusal names
   * what sets the output limit: a chat call's `max_tokens`; on /qa, /reason and /stress, which take none, the setting.
   */
  reserve(ctx: CallContext): void | Promise<void> {
    if (!this.active) return;
    const worstCase = this.worstCaseUsd(ctx.prompt, ctx.chain, ctx.maxOutputTokens, ctx.input.chat);
    const outputLimit = ctx.input.chat ? 'max_tokens' : 'LLM_MAX_OUTPUT_TOKENS (a setting of the service)';
    return this.budget.reserve(ctx.promptId, worstCase, undefined, outputLimit);
  }

  /**
   * Before another attempt (a retry or a fallback) of a call whose failed attempts were billed since it last asked
   * (`CallContext.failedUsage`): its reservation grows to what they cost plus another attempt's worst case
   * (`BudgetService.extend`). False when an enforced budget has no room for it: the call makes no more attempts. Each
   * attempt so bounded, no call spends more than it held, and calls in flight cannot overrun the budget together
   * (before, a call whose attempts each came back empty at the output limit spent its worst case once per attempt).
   */
  readmit(ctx: CallContext): boolean | Promise<boolean> {
    const failed = ctx.failedUsage ?? [];
    if (!this.active || failed.length <= (ctx.failedUsageAdmitted ?? 0)) return true;
    ctx.failedUsageAdmitted = failed.length;
    const billed = failed.reduce((sum, { model, usage }) => sum + (this.prices.cost(model, usage).costUsd ?? 0), 0);
    const worstCase = this.worstCaseUsd(ctx.prompt, ctx.chain, ctx.maxOutputTokens, ctx.input.chat);
    return this.budget.extend(ctx.promptId, billed + worstCase);
  }

  settle(ctx: CallContext): void {
    if (this.active) this.budget.settle(ctx.promptId);
  }

  release(ctx: CallContext): void {
    if (this.active) this.budget.release(ctx.promptId);
  }

  /** A stream's reservation counts until its end, however long past the deadline it goes; call the result at its end. */
  keepAlive(ctx: CallContext): () => void {
    return this.active ? this.budget.keepAlive(ctx.promptId) : () => undefined;
  }
}
