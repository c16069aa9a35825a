import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { QualityInstrumentation } from '@app/ml';
import { formatTags, type HttpLogFields, LogSanitizer, MetricsPort, TAG } from '@app/telemetry';
import type { LlmCallInput, LlmCallResult, LlmEndpoint } from '../llm-call.types';
import type { LlmCallAbandonedError, LlmCallFailedError } from '../llm.errors';
import type { LlmUsage, ToolCall } from '../ports/llm-provider.port';
import type { Spent } from '../pipeline/spend';
import { abandonedLine, answeredLine, failedLine } from './llm-call.log-lines';
import type { CostBreakdown } from '../pricing/price-table';
import { CIRCUIT_STATE_VALUE, type CircuitState } from '../reliability/circuit-breaker';
import { RATE_LIMIT_STATE_VALUE, type RateLimitState } from '../reliability/rate-limit-gate';
import type { SaturatedResource } from '../reliability/saturation';
import { LATENCY_SLO_TAG, type LatencySloOutcome, LLM_METRICS as M, REASON_TAG, RESOURCE_TAG } from './llm-metrics';

export type CallStatus = 'ok' | 'error' | 'safety_block' | 'aborted' | 'rejected';

/** Why a tool call was dropped: its function not among the tools, no tools at all, tool_choice none, or not the one named. */
export type DroppedToolCallReason = 'not_offered' | 'no_tools' | 'tool_choice_none' | 'not_chosen';

/** The `error_type` of a call its client abandoned (`status:aborted`). */
export const CLIENT_ABORT = 'client_abort';
/** The `error_type` of a call cut by the server's own graceful stop (`status:aborted`): SHUTDOWN_GRACE_MS ran out. */
export const SHUTDOWN_CUT = 'shutdown';

/** Who ended an abandoned call: its client (499, `client_abort`) or the server's shutdown (503, `shutdown`). */
export type AbandonedBy = 'client' | 'shutdown';

/** The HTTP fields of the request whose log line a call's line is (RequestTelemetry.handOffLogLine). */
export type RequestLineFields = HttpLogFields;

/** Calls whose request line was handed over but not yet written; bounds what a line written first would leave. */
const MAX_PENDING_REQUEST_LINES = 1024;

/**
 * Per-attempt events counted into the call's metrics when it ends (so each call emits once), per model of the attempt:
 * a 429 or a timeout of the first model is that model's even when a fallback answered or failed the call.
 */
export interface AttemptCounters {
  /** Upstream 429 responses, per model that answered them. */
  rateLimits: Map<string, number>;
  /** Attempts that hit the per-attempt timeout, per model. */
  timeouts: Map<string, number>;
}

/**
 * Emits the metrics and the log line of one LLM call, once, when it ends. Tag arrays are cached per
 * (endpoint, provider, model, status): all four come from bounded sets (routes and configured models).
 */
@Injectable()
export class LlmCallInstrumentation {
  private readonly tagCache = new Map<string, string[]>();
  private readonly requestLines = new Map<string, RequestLineFields>();
  /** `llm.request.count`'s tags per call tags (same array objects as `tagCache`) and latency outcome. */
  private readonly requestTagCache = new WeakMap<string[], Record<LatencySloOutcome, string[]>>();
  private readonly latencySloMs: number;

  constructor(
    config: AppConfig,
    private readonly metrics: MetricsPort,
    private readonly sanitizer: LogSanitizer,
    private readonly logger: PinoLogger,
    private readonly quality: QualityInstrumentation,
  ) {
    this.logger.setContext('LlmCall');
    this.latencySloMs = config.health.latencySloMs;
  }

  /** The tags of `llm.request.count` for a call that ended after `latencyMs`: the call's tags and `latency_slo`. */
  private requestTags(tags: string[], latencyMs: number): string[] {
    let byOutcome = this.requestTagCache.get(tags);
    if (!byOutcome) {
      byOutcome = { met: [...tags, `${LATENCY_SLO_TAG}:met`], missed: [...tags, `${LATENCY_SLO_TAG}:missed`] };
      this.requestTagCache.set(tags, byOutcome);
    }
    return byOutcome[latencyMs <= this.latencySloMs ? 'met' : 'missed'];
  }

  tags(endpoint: string, provider: string, model: string, status: CallStatus): string[] {
    const key = `${endpoint}|${provider}|${model}|${status}`;
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = formatTags({
        [TAG.endpoint]: endpoint,
        [TAG.provider]: provider,
        [TAG.model]: model,
        [TAG.status]: status,
      });
      this.tagCache.set(key, tags);
    }
    return tags;
  }

  /**
   * The call `promptId` answered an HTTP request that handed its log line over (RequestTelemetry.handOffLogLine):
   * the call's line is that request's only line on success, and carries the request's HTTP fields.
   */
  answeredRequest(promptId: string, http: RequestLineFields): void {
    if (this.requestLines.size >= MAX_PENDING_REQUEST_LINES) {
      this.requestLines.delete(this.requestLines.keys().next().value!);
    }
    this.requestLines.set(promptId, http);
  }

  /**
   * `before`: the known spend of failed attempts before the answer (`CallResults.spentOnFailures`): its tokens and
   * cost are added to the call's token and `llm.cost` counters (billed), not to its per-request cost distribution.
   */
  succeeded(
    result: LlmCallResult,
    counters: AttemptCounters,
    before?: Spent,
    extra: Record<string, unknown> = {},
  ): void {
    const status: CallStatus = result.safetyBlock ? 'safety_block' : 'ok';
    const tags = this.tags(result.endpoint, result.provider, result.model, status);
    const m = this.metrics;
    m.distribution(M.latency.name, result.latencyMs, tags);
    if (result.ttftMs !== undefined) m.distribution(M.ttft.name, result.ttftMs, tags);
    m.increment(M.requests.name, 1, this.requestTags(tags, result.latencyMs));
    m.increment(M.tokensInput.name, result.usage.inputTokens, tags);
    m.increment(M.tokensOutput.name, result.usage.outputTokens, tags);
    m.increment(M.tokensTotal.name, result.usage.totalTokens, tags);
    if (result.usage.cachedTokens > 0) m.increment(M.tokensCached.name, result.usage.cachedTokens, tags);
    if (result.usage.reasoningTokens > 0) m.increment(M.tokensReasoning.name, result.usage.reasoningTokens, tags);
    if (result.cost.costUsd !== null) {
      m.increment(M.costSpend.name, result.cost.costUsd, tags);
      m.distribution(M.costPerRequest.name, result.cost.costUsd, tags);
    } else {
      m.increment(M.unpriced.name, 1, tags);
    }
    this.common(tags, result.retryCount, result.fallbackUsed, counters, (model) =>
      this.tags(result.endpoint, result.provider, model, status),
    );
    if (result.safetyBlock) m.increment(M.safetyBlocks.name, 1, tags);
    if (before) this.spend(before, tags, (model) => this.tags(result.endpoint, result.provider, model, status));

    const http = this.requestLines.get(result.promptId);
    this.requestLines.delete(result.promptId);
    this.logger.info(answeredLine(result, status, http, this.sanitizer, extra), 'llm call completed');
  }

  failed(
    endpoint: LlmEndpoint,
    provider: string,
    error: LlmCallFailedError,
    latencyMs: number,
    counters: AttemptCounters,
    promptId: string,
    prompt: string,
    spent?: Spent,
  ): void {
    const ctx = error.context;
    const errorType = `${TAG.errorType}:${ctx.lastErrorKind ?? 'unknown'}`;
    const retries = Math.max(0, ctx.attempts - ctx.modelsTried.length);
    const line = failedLine({ endpoint, provider, promptId, prompt }, error, latencyMs, this.sanitizer, spent);
    if (error.rejected) {
      // The provider refused the request itself (the caller's 400): a request with `status:rejected`, not an error
      // (the error-rate monitor and the availability SLO count `status:error`), nor a failed answer, nor a latency.
      const tags = this.tags(endpoint, provider, ctx.model, 'rejected');
      this.metrics.increment(M.requests.name, 1, [...tags, errorType]);
      this.common(tags, retries, ctx.modelsTried.length > 1, counters, (model) =>
        this.tags(endpoint, provider, model, 'rejected'),
      );
      if (spent) this.spend(spent, tags, (model) => this.tags(endpoint, provider, model, 'rejected'));
      this.logger.info(line, 'llm call rejected by the provider as invalid');
      return;
    }
    const tags = this.tags(endpoint, provider, ctx.model, 'error');
    this.metrics.distribution(M.latency.name, latencyMs, tags);
    this.metrics.increment(M.requests.name, 1, this.requestTags(tags, latencyMs));
    this.metrics.increment(M.errors.name, 1, [...tags, errorType]);
    // The user got no answer (502/503/504): a failed answer (`llm.failure_to_answer.count`, status:error).
    this.quality.failedAnswer(tags);
    this.common(tags, retries, ctx.modelsTried.length > 1, counters, (model) =>
      this.tags(endpoint, provider, model, 'error'),
    );
    if (spent) this.spend(spent, tags, (model) => this.tags(endpoint, provider, model, 'error'));
    this.logger.warn(line, 'llm call failed');
  }

  /**
   * Billed tokens and cost that are not an answer's (failed attempts, an abandoned call's): the token and `llm.cost`
   * counters, each part under the model that spent it when the spend is split by model (a fallback's failed attempts
   * were another model's: per-model cost is what each model was billed), else under the call's `tags`.
   */
  private spend(spent: Spent, tags: string[], tagsOf: (model: string) => string[]): void {
    if (!spent.byModel) return this.spendAs(spent, tags);
    for (const part of spent.byModel) this.spendAs(part, tagsOf(part.model));
  }

  private spendAs(spent: { usage: LlmUsage; cost: CostBreakdown }, tags: string[]): void {
    if (spent.usage.totalTokens <= 0) return;
    const m = this.metrics;
    m.increment(M.tokensInput.name, spent.usage.inputTokens, tags);
    m.increment(M.tokensOutput.name, spent.usage.outputTokens, tags);
    m.increment(M.tokensTotal.name, spent.usage.totalTokens, tags);
    if (spent.usage.cachedTokens > 0) m.increment(M.tokensCached.name, spent.usage.cachedTokens, tags);
    if (spent.usage.reasoningTokens > 0) m.increment(M.tokensReasoning.name, spent.usage.reasoningTokens, tags);
    if (spent.cost.costUsd !== null) m.increment(M.costSpend.name, spent.cost.costUsd, tags);
    else m.increment(M.unpriced.name, 1, tags);
  }

  /**
   * A call its client abandoned: `llm.request.count` with `status:aborted` and `error_type:client_abort` (a request,
   * not an error: the error-rate monitor ignores it), its tokens and cost (it was paid), no latency (the client's
   * patience, not the provider's speed), and an `info` line. For a stream, whose request line was handed over, the
   * line is the request's line, with `http.status_code` 499. A call cut by the server's shutdown (`by: shutdown`) is
   * recorded the same way with `error_type:shutdown`, status 503 and a `warn` line: the deploy cut it, not the client.
   */
  abandoned(
    input: LlmCallInput,
    error: LlmCallAbandonedError,
    spent: Spent,
    latencyMs: number,
    counters: AttemptCounters,
    promptId: string,
    by: AbandonedBy = 'client',
  ): void {
    const ctx = error.context;
    const tags = this.tags(input.endpoint, ctx.provider, ctx.model, 'aborted');
    const m = this.metrics;
    const errorType = by === 'shutdown' ? SHUTDOWN_CUT : CLIENT_ABORT;
    m.increment(M.requests.name, 1, [...tags, `${TAG.errorType}:${errorType}`]);
    this.spend(spent, tags, (model) => this.tags(input.endpoint, ctx.provider, model, 'aborted'));
    this.common(tags, ctx.retries, ctx.modelsTried.length > 1, counters, (model) =>
      this.tags(input.endpoint, ctx.provider, model, 'aborted'),
    );
    const line = abandonedLine(input, error, spent, latencyMs, promptId, errorType, this.sanitizer);
    if (by === 'shutdown') this.logger.warn(line, 'llm call cut by the server shutting down');
    else this.logger.info(line, 'llm call abandoned by the client');
  }

  circuit(provider: string, model: string, state: CircuitState): void {
    this.metrics.gauge(
      M.circuitState.name,
      CIRCUIT_STATE_VALUE[state],
      formatTags({ [TAG.provider]: provider, [TAG.model]: model }),
    );
  }

  /** A rate-limit gate's state, limit and calls in flight (on a hold and every 10 s). */
  rateLimitGate(provider: string, model: string, state: RateLimitState, limit: number, inFlight: number): void {
    const tags = formatTags({ [TAG.provider]: provider, [TAG.model]: model });
    this.metrics.gauge(M.rateLimitState.name, RATE_LIMIT_STATE_VALUE[state], tags);
    this.metrics.gauge(M.concurrencyLimit.name, limit, tags);
    this.metrics.gauge(M.concurrencyInFlight.name, inFlight, tags);
  }

  rateLimitHold(provider: string, model: string): void {
    this.metrics.increment(M.rateLimitHolds.name, 1, formatTags({ [TAG.provider]: provider, [TAG.model]: model }));
  }

  /**
   * Calls of functions the request did not offer, dropped from an answer (FailureMapper.offeredCallsOnly): counted by
   * why (`llm.tool_calls.dropped.count`), and one warn line per answer naming them (at most 4; names and arguments
   * redacted and truncated), with the functions offered (at most 8).
   */
  droppedToolCalls(
    call: { promptId: string; endpoint: LlmEndpoint },
    provider: string,
    model: string,
    reason: DroppedToolCallReason,
    dropped: readonly ToolCall[],
    offered: readonly string[],
  ): void {
    const tags = formatTags({
      [TAG.endpoint]: call.endpoint,
      [TAG.provider]: provider,
      [TAG.model]: model,
      [REASON_TAG]: reason,
    });
    this.metrics.increment(M.droppedToolCalls.name, dropped.length, tags);
    this.logger.warn(
      {
        prompt_id: call.promptId,
        endpoint: call.endpoint,
        provider,
        model,
        reason,
        dropped_count: dropped.length,
        dropped: dropped.slice(0, 4).map((c) => ({
          name: this.sanitizer.text(c.name, 64),
          arguments: this.sanitizer.text(c.arguments, 200),
        })),
        offered: offered.slice(0, 8).map((name) => this.sanitizer.text(name, 64)),
      },
      'tool calls of functions not offered dropped from the answer',
    );
  }

  /** A call refused with 503 NO_CAPACITY, by the saturated resource. */
  /** One routing decision (`llm.router.decision.count`): the model chosen and why (a bounded set of reasons). */
  routed(endpoint: LlmEndpoint, model: string, reason: string): void {
    const key = `route|${endpoint}|${model}|${reason}`;
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = formatTags({ [TAG.endpoint]: endpoint, [TAG.model]: model, [REASON_TAG]: reason });
      this.tagCache.set(key, tags);
    }
    this.metrics.increment(M.routerDecisions.name, 1, tags);
  }

  shed(endpoint: LlmEndpoint, provider: string, resource: SaturatedResource): void {
    const key = `shed|${endpoint}|${provider}|${resource}`;
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = formatTags({ [TAG.endpoint]: endpoint, [TAG.provider]: provider, [RESOURCE_TAG]: resource });
      this.tagCache.set(key, tags);
    }
    this.metrics.increment(M.shed.name, 1, tags);
  }

  /**
   * Retries and fallbacks under the call's `tags`; 429s and timeouts under `tagsOf(model)`, the model each attempt
   * went to (before, under the model the call ended on: the rate-limit monitor, grouped by model, paged for the
   * fallback that answered while the first model was the one refusing).
   */
  private common(
    tags: string[],
    retries: number,
    fallbackUsed: boolean,
    counters: AttemptCounters,
    tagsOf: (model: string) => string[],
  ): void {
    if (retries > 0) this.metrics.increment(M.retries.name, retries, tags);
    if (fallbackUsed) this.metrics.increment(M.fallbacks.name, 1, tags);
    for (const [model, n] of counters.rateLimits) this.metrics.increment(M.rateLimits.name, n, tagsOf(model));
    for (const [model, n] of counters.timeouts) this.metrics.increment(M.timeouts.name, n, tagsOf(model));
  }
}
