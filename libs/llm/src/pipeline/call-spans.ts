import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { isCutAtShutdown, TokenBucket } from '@app/common';
import { AppConfig } from '@app/config';
import {
  formatTags,
  LogSanitizer,
  type LlmSpanHandle,
  MetricsPort,
  TracerPort,
  type WorkflowSpanOptions,
} from '@app/telemetry';
import { LLM_METRICS, REASON_TAG } from '../instrumentation/llm-metrics';
import type { LlmCallResult } from '../llm-call.types';
import { LlmCallAbandonedError, LlmCallFailedError } from '../llm.errors';
import { AttemptSpans } from './attempt-spans';
import type { CallContext } from './call-state';
import type { Answered } from './call-results';
import { answerText } from './chat-text';

/** The APM operation name of a call's workflow span (its LLM Observability name is the endpoint). */
const CALL_OPERATION = 'llm.call';

/**
 * Why a call's LLM Observability events are kept (`LLMOBS_KEEP`), in the order they are checked; the first that applies
 * is the call's `keep_reason` tag. `share`: an unremarkable call kept as part of LLMOBS_KEEP_SHARE.
 */
export type KeepReason =
  | 'all'
  | 'error'
  | 'abandoned'
  | 'retry'
  | 'fallback'
  | 'safety_block'
  | 'pii'
  | 'injection'
  | 'token_abuse'
  | 'quality'
  | 'slow'
  | 'share';

/**
 * The reasons that grow with load rather than with faults: under overload every call is slow, and building each
 * one's event would add CPU to the overload. They draw on LLMOBS_KEEP_MAX_PER_S.
 */
const BUDGETED: ReadonlySet<KeepReason> = new Set<KeepReason>(['slow', 'share']);

/** How a call ended, for its keep decision. */
export type CallEnd = { result: LlmCallResult } | { error: unknown };

/**
 * The keep decision of a call recorded in LLM Observability, made when it ends, when everything about it is known
 * (its quality score included): `LLMOBS_KEEP=all` keeps every call; `interesting` keeps the calls worth looking at
 * and `share` of the rest (drawn with `random`). Undefined: the call's events are dropped.
 */
export function keepReason(
  config: Pick<AppConfig, 'tracing' | 'health'>,
  ctx: Pick<CallContext, 'input'>,
  end: CallEnd,
  random: () => number = Math.random,
): KeepReason | undefined {
  if (config.tracing.llmobsKeep === 'all') return 'all';
  if ('error' in end) return end.error instanceof LlmCallAbandonedError ? 'abandoned' : 'error';
  const { result } = end;
  if (result.retryCount > 0) return 'retry';
  if (result.fallbackUsed || result.attempts > 1) return 'fallback';
  if (result.safetyBlock !== undefined) return 'safety_block';
  const report = (result.inspection ?? ctx.input.inspection)?.report;
  if (report !== undefined) {
    if (report.piiTypes.length > 0) return 'pii';
    if (report.injection.flagged) return 'injection';
    if (report.tokenAbuse) return 'token_abuse';
  }
  if (result.quality !== undefined && (result.quality.label !== 'good' || result.quality.failureToAnswer)) {
    return 'quality';
  }
  if (result.latencyMs > config.health.latencySloMs) return 'slow';
  const share = config.tracing.llmobsKeepShare;
  return share >= 1 || (share > 0 && random() < share) ? 'share' : undefined;
}

/**
 * The call's LLM Observability `workflow` span: the root of its trace there, with its attempts (`llm.generate`
 * spans) under it, so that a call's latency, retries, fallback and failure show as one trace. Its input is the
 * prompt (redacted and truncated, shared with the attempts), its output the answer or its failure. The call's
 * evaluations go on it as well as on the answering attempt. Only for a call recorded in LLM Observability
 * (`ctx.llmobs`, LLMOBS_SAMPLE_RATE); otherwise the tracer hands out a no-op span and nothing here costs anything.
 *
 * **The keep decision** (LLMOBS_KEEP, `keepReason`) is made when the call ends. Until then its attempt spans are
 * held open (their APM end noted, `LlmSpanOptions.held`) and nothing is annotated. A kept call's workflow span and
 * attempts are annotated then, and end (their events built and sent by dd-trace); a dropped call's spans end as APM
 * spans only, with no LLM Observability event, and its evaluation reference is emptied, so that no evaluation is sent
 * for a span that was not (`CallAssessor` submits them later).
 */
@Injectable()
export class CallSpans {
  /** The keep budget (LLMOBS_KEEP_MAX_PER_S): a token bucket holding at most one second's keeps. */
  private readonly budget: TokenBucket;
  private readonly overBudgetTags = new Map<KeepReason, string[]>();

  constructor(
    private readonly tracer: TracerPort,
    private readonly sanitizer: LogSanitizer,
    private readonly attempts: AttemptSpans,
    private readonly config: AppConfig,
    private readonly metrics: MetricsPort,
  ) {
    const perSecond = config.tracing.llmobsKeepMaxPerS;
    this.budget = new TokenBucket(perSecond, perSecond / 1000, performance.now());
  }

  /** Runs `fn` inside the call's workflow span; `fn` ends it with `answered` or `failed`. */
  run<T>(ctx: CallContext, fn: (span: LlmSpanHandle) => T): T {
    if (!ctx.llmobs) return this.tracer.workflowSpan(DISABLED, fn);
    ctx.llmobsRecord = { attempts: [] };
    const endpoint = ctx.input.endpoint;
    return this.tracer.workflowSpan(
      {
        name: endpoint,
        operation: CALL_OPERATION,
        resource: endpoint,
        tags: { 'llm.endpoint': endpoint, 'llm.prompt_id': ctx.promptId },
        llmobs: true,
      },
      fn,
    );
  }

  private callerMetadata(
    user: string | undefined,
    metadata: Record<string, string> | undefined,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    if (user !== undefined) out.user = this.sanitizer.text(user);
    // As a log line writes an object: keys redacted like values (a map keyed by e-mail address), and the value of a
    // credential-named key (`db_password`) masked whatever its shape. Before, the keys went out as sent.
    const shown = this.sanitizer.value(metadata ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(shown)) out[`metadata.${key}`] = String(value);
    return out;
  }

  /**
   * The evaluation reference of the answered call: its workflow span and its answering attempt's span, in an array
   * that `answered` empties when the call is dropped.
   */
  evaluationRef(span: LlmSpanHandle, answered: Answered): unknown {
    const refs: unknown[] = [];
    const workflow = span.evaluationRef();
    if (workflow !== undefined) refs.push(workflow);
    if (answered.evaluationRef !== undefined) refs.push(answered.evaluationRef);
    return refs.length > 0 ? refs : undefined;
  }

  answered(span: LlmSpanHandle, ctx: CallContext, result: LlmCallResult): void {
    if (!ctx.llmobs) return;
    span.addTags({
      'llm.model': result.model,
      'llm.attempts': result.attempts,
      'llm.retry_count': result.retryCount,
      'llm.fallback_used': result.fallbackUsed,
      'llm.safety_block': result.safetyBlock !== undefined,
    });
    const reason = this.end(span, ctx, { result });
    if (reason === undefined) {
      // No evaluation for spans that were not sent: the reference the deferred records read is emptied.
      if (Array.isArray(result.evaluationRef)) result.evaluationRef.length = 0;
    } else {
      span.annotate({
        input: this.sanitizer.text(ctx.prompt),
        output: ctx.spanOutput ?? this.sanitizer.text(answerText(result.answer, result.toolCalls)),
        metadata: {
          ...this.callerMetadataOf(ctx),
          models_tried: result.modelsTried,
          finish_reason: result.finishReason,
        },
        tags: { keep_reason: reason },
      });
    }
    span.finish();
  }

  /** A failed (or abandoned) call: the error on the workflow span, with the last attempt's kind and status. */
  failed(span: LlmSpanHandle, ctx: CallContext, error: unknown): void {
    if (!ctx.llmobs) return;
    // LLM Observability tags of a failed call: the kind of its last failure (`server`, `timeout`...), as on its
    // attempts, instead of the exception's class (`LlmCallFailedError` on every failed call) dd-trace would tag.
    let failureTags: Record<string, string> = {};
    if (error instanceof LlmCallFailedError) {
      const context = error.context;
      if (context.lastErrorKind !== null) failureTags = { error_type: context.lastErrorKind };
      if (context.lastUpstreamStatus !== null) failureTags.upstream_status = String(context.lastUpstreamStatus);
      span.addTags({
        'llm.model': context.model,
        'llm.attempts': context.attempts,
        'llm.error_type': context.lastErrorKind ?? undefined,
        'llm.upstream_status': context.lastUpstreamStatus ?? undefined,
        'error.code': error.code,
      });
      span.setError(error);
    } else if (error instanceof LlmCallAbandonedError) {
      // The client went away, or the server's shutdown cut the connection: not the provider's failure, not a span
      // error; which of the two, the tag says.
      span.setTag(isCutAtShutdown(ctx.input.signal?.reason) ? 'llm.shutdown_cut' : 'llm.client_abort', true);
    } else {
      span.setError(error);
    }
    const reason = this.end(span, ctx, { error });
    if (reason !== undefined) {
      const metadata = this.callerMetadataOf(ctx);
      span.annotate({
        input: this.sanitizer.text(ctx.prompt),
        ...(metadata !== undefined ? { metadata } : {}),
        tags: { ...failureTags, keep_reason: reason },
      });
    }
    span.finish();
  }

  /**
   * The call's keep decision, once: its held attempts are annotated and end (kept), or end as APM spans only, as the
   * workflow span will (dropped). The workflow span itself is finished by the caller.
   */
  private end(span: LlmSpanHandle, ctx: CallContext, end: CallEnd): KeepReason | undefined {
    const record = ctx.llmobsRecord;
    ctx.llmobsRecord = undefined;
    let reason = keepReason(this.config, ctx, end);
    if (reason !== undefined && BUDGETED.has(reason) && !this.withinBudget(reason)) {
      span.setTag('llm.llmobs_over_budget', reason);
      reason = undefined;
    }
    span.setTag('llm.llmobs_keep', reason ?? 'dropped');
    if (reason === undefined) span.dropLlmObs();
    for (const held of record?.attempts ?? []) {
      if (reason === undefined) held.span.dropLlmObs();
      else this.attempts.annotate(held, ctx);
      held.span.finish();
    }
    return reason;
  }

  /** Takes one keep from the budget; false (and counted) when this second's keeps are spent. */
  private withinBudget(reason: KeepReason): boolean {
    const perSecond = this.config.tracing.llmobsKeepMaxPerS;
    if (perSecond <= 0) return true;
    if (this.budget.take(performance.now())) return true;
    let tags = this.overBudgetTags.get(reason);
    if (!tags) {
      tags = formatTags({ [REASON_TAG]: reason });
      this.overBudgetTags.set(reason, tags);
    }
    this.metrics.increment(LLM_METRICS.llmobsOverBudget.name, 1, tags);
    return false;
  }

  /** A chat call's end user and metadata (`user`, `metadata`), redacted and truncated like the prompt. */
  private callerMetadataOf(ctx: CallContext): Record<string, string> | undefined {
    const chat = ctx.input.chat;
    return chat?.user !== undefined || chat?.metadata !== undefined
      ? this.callerMetadata(chat.user, chat.metadata)
      : undefined;
  }
}

const DISABLED: WorkflowSpanOptions = { name: '', operation: CALL_OPERATION, resource: '', tags: {}, llmobs: false };
