import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { BudgetService, CACHE_HIT_FLAG, UsageLedger, type UsageRecord } from '@app/ledger';
import { LogSanitizer, TracerPort } from '@app/telemetry';
import { type AbandonedBy, CLIENT_ABORT, SHUTDOWN_CUT } from '../instrumentation/llm-call.instrumentation';
import type { LlmCallInput, LlmCallResult } from '../llm-call.types';
import type { LlmCallAbandonedError, LlmCallFailedError } from '../llm.errors';
import { addSpent, type Spent } from '../pipeline/spend';
import { answerText } from '../pipeline/chat-text';
import type { CacheInfo } from '../pipeline/cached-answer';
import type { LlmUsage } from '../ports/llm-provider.port';
import type { CostBreakdown } from '../pricing/price-table';

/**
 * Connects the LLM pipeline to the usage ledger and the daily budget: refuses calls once an enforced
 * budget is spent (429), and records every call (success, safety block or failure) without blocking:
 * the ledger buffers and batches. No raw prompt or answer is stored: a hash, lengths, and a redacted
 * preview only when LEDGER_STORE_PREVIEW=true.
 */
@Injectable()
export class UsageRecorder {
  constructor(
    private readonly config: AppConfig,
    private readonly ledger: UsageLedger,
    private readonly budget: BudgetService,
    private readonly sanitizer: LogSanitizer,
    private readonly tracer: TracerPort,
  ) {}

  /** Throws BUDGET_EXCEEDED (429) under BUDGET_POLICY=enforce once today's spend reached the budget. */
  assertWithinBudget(): void {
    this.budget.assertCanSpend();
  }

  /**
   * `before`: the known spend of the call's failed attempts before its answer (retries the provider billed): the row's
   * tokens and cost count it with the answer's, so today's spend is what was billed.
   */
  succeeded(input: LlmCallInput, result: LlmCallResult, startedAt: number, before?: Spent): void {
    const spent = before ? addSpent({ usage: result.usage, cost: result.cost }, before) : result;
    const flags: string[] = [];
    if (result.quality?.ungrounded) flags.push('ungrounded');
    if (result.quality?.failureToAnswer) flags.push('failure_to_answer');
    this.inspectionFlags(input, flags);
    this.ledger.record({
      ...this.base(input, result.sentPrompt, startedAt, result.promptId),
      provider: result.provider,
      model: result.model,
      status: result.safetyBlock ? 'safety_block' : 'ok',
      errorType: null,
      latencyMs: Math.round(result.latencyMs * 100) / 100,
      ...spentColumns(spent),
      qualityScore: result.quality?.overall ?? null,
      flags,
      retryCount: result.retryCount,
      fallbackUsed: result.fallbackUsed,
      answerChars: answerChars(result),
    });
  }

  /**
   * A call answered from the response cache: status ok, flag `cache_hit`, zero provider tokens and cost 0 (it adds
   * nothing to today's spend), the cached call's quality score, and `savedCostUsd` what that call cost.
   */
  cacheHit(input: LlmCallInput, result: LlmCallResult, info: CacheInfo, startedAt: number): void {
    const flags: string[] = [CACHE_HIT_FLAG];
    if (result.quality?.ungrounded) flags.push('ungrounded');
    if (result.quality?.failureToAnswer) flags.push('failure_to_answer');
    this.inspectionFlags(input, flags);
    this.ledger.record({
      ...this.base(input, result.sentPrompt, startedAt, result.promptId),
      provider: result.provider,
      model: result.model,
      status: 'ok',
      errorType: null,
      latencyMs: Math.round(result.latencyMs * 100) / 100,
      ...spentColumns(undefined),
      qualityScore: result.quality?.overall ?? null,
      flags,
      retryCount: 0,
      fallbackUsed: false,
      answerChars: answerChars(result),
      savedCostUsd: info.savedCostUsd,
    });
  }

  failed(
    input: LlmCallInput,
    prompt: string,
    provider: string,
    error: LlmCallFailedError,
    latencyMs: number,
    startedAt: number,
    promptId: string,
    spent?: Spent,
    streamed: { answerChars: number } = { answerChars: 0 },
  ): void {
    const flags: string[] = [];
    this.inspectionFlags(input, flags);
    const ctx = error.context;
    this.ledger.record({
      ...this.base(input, prompt, startedAt, promptId),
      provider,
      model: ctx.model,
      status: error.rejected ? 'rejected' : 'error',
      errorType: ctx.lastErrorKind ?? 'unknown',
      latencyMs: Math.round(latencyMs * 100) / 100,
      // What its failed attempts are known to have been billed (`CallResults.spentOnFailures`), else nothing.
      ...spentColumns(spent),
      qualityScore: null,
      flags,
      retryCount: Math.max(0, ctx.attempts - ctx.modelsTried.length),
      fallbackUsed: ctx.modelsTried.length > 1,
      // A stream that failed after its first token: what its client received (0 for a call that answered nothing).
      answerChars: streamed.answerChars,
    });
  }

  /**
   * A call its client abandoned, or the server's shutdown cut (`aborted`, error type `client_abort` or `shutdown`):
   * what the provider was asked for and generated, estimated when no usage arrived, and priced, so it counts in
   * today's spend like any call.
   */
  abandoned(
    input: LlmCallInput,
    prompt: string,
    error: LlmCallAbandonedError,
    spent: { usage: LlmUsage; cost: CostBreakdown },
    latencyMs: number,
    startedAt: number,
    promptId: string,
    by: AbandonedBy = 'client',
  ): void {
    const flags: string[] = [];
    this.inspectionFlags(input, flags);
    const ctx = error.context;
    this.ledger.record({
      ...this.base(input, prompt, startedAt, promptId),
      provider: ctx.provider,
      model: ctx.model,
      status: 'aborted',
      errorType: by === 'shutdown' ? SHUTDOWN_CUT : CLIENT_ABORT,
      latencyMs: Math.round(latencyMs * 100) / 100,
      ...spentColumns(spent),
      qualityScore: null,
      flags,
      retryCount: ctx.retries,
      fallbackUsed: ctx.modelsTried.length > 1,
      answerChars: ctx.streamedText.length,
    });
  }

  /**
   * What every row has; the trace id is the active span's: records are made in their call's async context. The
   * principal is the API key's name (never the key): who spent it (`GET /usage/spend`).
   */
  private base(
    input: LlmCallInput,
    prompt: string,
    startedAt: number,
    promptId: string,
  ): Pick<
    UsageRecord,
    | 'ts'
    | 'endpoint'
    | 'routerDecision'
    | 'promptHash'
    | 'promptChars'
    | 'preview'
    | 'promptId'
    | 'traceId'
    | 'principal'
  > {
    return {
      promptId,
      principal: input.principal ?? null,
      traceId: this.tracer.currentTraceId() ?? null,
      ts: startedAt,
      endpoint: input.endpoint,
      routerDecision: input.routeRecord ?? null,
      promptHash: createHash('sha256').update(prompt).digest('hex').slice(0, 32),
      promptChars: prompt.length,
      preview: this.config.ledger.storePreview ? this.sanitizer.text(prompt) : null,
    };
  }

  private inspectionFlags(input: LlmCallInput, flags: string[]): void {
    const report = input.inspection?.report;
    if (!report) return;
    if (report.piiTypes.length > 0) flags.push('pii');
    if (report.injection.flagged) flags.push('prompt_injection');
    if (report.tokenAbuse) flags.push('token_abuse');
  }
}

/** A row's token and cost columns from what the call spent; none (a cache hit, nothing known billed): zeros. */
function spentColumns(
  spent: Spent | undefined,
): Pick<
  UsageRecord,
  'inputTokens' | 'outputTokens' | 'cachedTokens' | 'reasoningTokens' | 'tokensEstimated' | 'costUsd'
> {
  return {
    inputTokens: spent?.usage.inputTokens ?? 0,
    outputTokens: spent?.usage.outputTokens ?? 0,
    cachedTokens: spent?.usage.cachedTokens ?? 0,
    reasoningTokens: spent?.usage.reasoningTokens ?? 0,
    tokensEstimated: spent?.usage.estimated ?? false,
    costUsd: spent ? spent.cost.costUsd : 0,
  };
}

/**
 * An answer's size in characters: its text and its tool calls (`name({...})`, one a line), as the log line, the
 * metadata and the spans see it. Before, it was the text alone: an answer that only called tools was 0.
 */
export function answerChars(result: Pick<LlmCallResult, 'answer' | 'toolCalls'>): number {
  return answerText(result.answer, result.toolCalls).length;
}
