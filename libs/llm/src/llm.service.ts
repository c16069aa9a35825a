import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { LogSanitizer, ReadinessRegistry, TracerPort, type LlmSpanHandle } from '@app/telemetry';
import { CallAssessor } from './assessment/call-assessor';
import { UsageRecorder } from './assessment/usage-recorder';
import type { DrillFlags, LlmCallInput, LlmCallResult } from './llm-call.types';
import { LlmCallFailedError, type FailureContext } from './llm.errors';
import { BAD_PROMPT_DRILL } from './adapters/simulated-llm.adapter';
import { PriceTable } from './pricing/price-table';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  LlmProviderError,
  type LlmUsage,
} from './ports/llm-provider.port';
import { AsyncQueue } from './reliability/async-queue';
import { backoffDelay } from './reliability/backoff';
import { CircuitBreaker, type CircuitState } from './reliability/circuit-breaker';
import { ConcurrencyLimiter, NoCapacityError } from './reliability/concurrency-limiter';
import { isTimeoutReason, sleep } from './reliability/sleep';
import { type AttemptCounters, LlmCallInstrumentation } from './instrumentation/llm-call.instrumentation';
import { TokenEstimator } from './tokens/token-estimator';

const LONG_CONTEXT_PARAGRAPH =
  'This paragraph is neutral padding added by the simulate_long_context drill to exercise long prompts; it carries no information relevant to the question. ';
const LONG_CONTEXT_CHARS = 24_000;
const DRILL_LATENCY_MS = 1000;
/** Provider error messages are cut to this (they end up in the problem detail, the span and the log line). */
const MAX_PROVIDER_MESSAGE_CHARS = 500;
/** The longest a call's records wait for the next upstream call to go out (see `afterAnswer`). */
const BOOKKEEPING_MAX_DELAY_MS = 2;

/** OpenTelemetry GenAI `gen_ai.provider.name` values. */
const OTEL_PROVIDER: Record<string, string> = {
  vertex: 'gcp.vertex_ai',
  gemini: 'gcp.gemini',
  openai: 'openai',
  simulated: 'simulated',
};

export type LlmStreamItem = { type: 'delta'; text: string } | { type: 'done'; result: LlmCallResult };

interface CallContext {
  input: LlmCallInput;
  promptId: string;
  /** performance.now() at the start, for durations. */
  started: number;
  /** performance.now() past which no attempt starts and no backoff waits (LLM_DEADLINE_MS). */
  deadline: number;
  /** Wall clock at the start, for the ledger. */
  startedAtMs: number;
  prompt: string;
  drillsApplied: string[];
  counters: AttemptCounters;
  /** This call is recorded in LLM Observability (LLMOBS_SAMPLE_RATE), all its attempts alike. */
  llmobs: boolean;
}

interface AttemptOutcome<T> {
  value: T;
  model: string;
  attempts: number;
  retries: number;
  modelsTried: string[];
  lastUpstreamStatus: number | null;
  release: () => void;
  evaluationRef: unknown;
}

/**
 * Every LLM call goes through here: drills, per-attempt timeout, retries with backoff and jitter on
 * retryable failures (honouring Retry-After), the fallback chain, a circuit breaker per provider+model,
 * bounded concurrency, an LLM span per attempt, tokens and cost, and the call's telemetry, once.
 * The model is chosen per call from the chain; nothing about one request is stored on shared objects.
 */
@Injectable()
export class LlmService implements OnModuleInit, OnModuleDestroy {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly limiter: ConcurrencyLimiter;
  readonly chain: readonly string[];
  private gaugeTimer?: NodeJS.Timeout;
  private readonly logger = new Logger('LlmService');
  /** Bookkeeping of answered calls, run in order while the next upstream call is awaited (see `afterAnswer`). */
  private readonly pendingBookkeeping: (() => void)[] = [];
  private bookkeepingTimer?: NodeJS.Timeout;
  private bookkeepingImmediate = false;

  constructor(
    private readonly config: AppConfig,
    private readonly provider: LlmProvider,
    private readonly prices: PriceTable,
    private readonly tokens: TokenEstimator,
    private readonly tracer: TracerPort,
    private readonly telemetry: LlmCallInstrumentation,
    private readonly sanitizer: LogSanitizer,
    private readonly readiness: ReadinessRegistry,
    private readonly assessor: CallAssessor,
    private readonly usage: UsageRecorder,
  ) {
    this.limiter = new ConcurrencyLimiter(config.llm.maxConcurrency, config.llm.queueTimeoutMs);
    this.chain = [config.llm.model, ...config.llm.fallbackModels];
    for (const model of this.chain) this.breaker(model);
  }

  onModuleInit(): void {
    this.readiness.register('llmProvider', () => {
      const open = [...this.breakers.values()].filter((b) => b.current() === 'open').map((b) => b.key);
      const label = `${this.provider.name}${this.provider.simulated ? ' (simulated: no real model is called)' : ''}; chain ${this.chain.join(' → ')}`;
      return open.length === this.chain.length
        ? { status: 'degraded', detail: `${label}; every circuit is open` }
        : { status: 'ok', detail: open.length > 0 ? `${label}; open circuits: ${open.join(', ')}` : label };
    });
    this.gaugeTimer = setInterval(() => this.emitCircuitGauges(), 10_000);
    this.gaugeTimer.unref();
    this.emitCircuitGauges();
  }

  onModuleDestroy(): void {
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    this.runBookkeeping();
  }

  get providerName(): string {
    return this.provider.name;
  }

  get isSimulated(): boolean {
    return this.provider.simulated;
  }

  circuitStates(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([model, b]) => [model, b.current()]));
  }

  /** The prompt after drills, and which drills changed it. */
  preparePrompt(prompt: string, drills: DrillFlags): { prompt: string; applied: string[] } {
    const applied: string[] = [];
    let out = prompt;
    if (drills.badPrompt) {
      out = BAD_PROMPT_DRILL;
      applied.push('bad_prompt');
    }
    if (drills.longContext) {
      out = `${out}\n\n${LONG_CONTEXT_PARAGRAPH.repeat(Math.ceil(LONG_CONTEXT_CHARS / LONG_CONTEXT_PARAGRAPH.length))}`;
      applied.push('long_context');
    }
    if (drills.latency) applied.push('latency');
    if (drills.retry) applied.push('retry');
    return { prompt: out, applied };
  }

  async complete(raw: LlmCallInput): Promise<LlmCallResult> {
    this.checkBudget();
    const ctx = this.begin(this.assessor.inspect(raw, this.provider.name));
    try {
      if (ctx.input.drills.latency) await sleep(DRILL_LATENCY_MS, ctx.input.signal);
      const outcome = await this.withRetries(ctx, false, (request, span) => {
        const started = this.generateInSpan(request, span);
        return { started, finished: started };
      });
      outcome.release();
      return this.completed(ctx, this.result(ctx, outcome, outcome.value));
    } catch (error) {
      throw this.failed(ctx, error);
    }
  }

  /**
   * Streams the answer. Failures before the first token are retried and fall back like `complete`;
   * the first event is awaited before this resolves, so such failures surface as a normal error response.
   */
  async stream(raw: LlmCallInput): Promise<AsyncIterable<LlmStreamItem>> {
    this.checkBudget();
    const ctx = this.begin(this.assessor.inspect(raw, this.provider.name));
    const input = ctx.input;
    let outcome: AttemptOutcome<StreamAttempt>;
    try {
      if (input.drills.latency) await sleep(DRILL_LATENCY_MS, input.signal);
      outcome = await this.withRetries(ctx, true, (request, span, heartbeat) =>
        this.startStream(request, span, heartbeat),
      );
    } catch (error) {
      throw this.failed(ctx, error);
    }
    return this.iterate(ctx, outcome);
  }

  private async *iterate(ctx: CallContext, outcome: AttemptOutcome<StreamAttempt>): AsyncGenerator<LlmStreamItem> {
    const { queue, done } = outcome.value;
    let ttftMs: number | undefined;
    try {
      for await (const text of queue) {
        ttftMs ??= performance.now() - ctx.started;
        yield { type: 'delta', text };
      }
      const final = await done;
      yield { type: 'done', result: this.completed(ctx, { ...this.result(ctx, outcome, final), ttftMs }) };
    } catch (error) {
      throw this.failed(ctx, error, outcome);
    } finally {
      outcome.release();
    }
  }

  /**
   * Scores the answer (the response carries the score); the call's records (metrics, log line, ledger,
   * evaluations, drift) are made once, soon after the answer is written (see `afterAnswer`).
   */
  private completed(ctx: CallContext, result: LlmCallResult): LlmCallResult {
    const quality = this.assessor.score(ctx.input, result);
    const done: LlmCallResult = { ...result, quality, inspection: ctx.input.inspection };
    this.afterAnswer(() => {
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

  /**
   * Queues a call's bookkeeping. It runs just after the next upstream request goes out (`upstreamDispatched`):
   * the records are made while the process waits for the provider instead of in front of the next request
   * (−0.1 ms p50 at one connection against running them as soon as the answer is written, bench/RESULTS.md),
   * or after BOOKKEEPING_MAX_DELAY_MS when no call comes. Calls answered meanwhile are recorded together, in order;
   * a failing task is logged and never reaches a request; anything pending runs at shutdown.
   */
  private afterAnswer(task: () => void): void {
    this.pendingBookkeeping.push(task);
    this.bookkeepingTimer ??= setTimeout(() => this.runBookkeeping(), BOOKKEEPING_MAX_DELAY_MS);
  }

  /** An attempt's request has been handed to the provider: pending bookkeeping runs once it is on its way. */
  private upstreamDispatched(): void {
    if (this.pendingBookkeeping.length === 0 || this.bookkeepingImmediate) return;
    this.bookkeepingImmediate = true;
    setImmediate(() => this.runBookkeeping());
  }

  private runBookkeeping(): void {
    this.bookkeepingImmediate = false;
    clearTimeout(this.bookkeepingTimer);
    this.bookkeepingTimer = undefined;
    for (const task of this.pendingBookkeeping.splice(0)) {
      try {
        task();
      } catch (error) {
        this.logger.error(`recording an LLM call failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  /**
   * Refuses the call once an enforced daily budget is spent. Under BUDGET_POLICY=enforce the records still
   * pending are made first, so the spend of every call already answered counts (the overshoot stays what the calls
   * in flight cost); under `alert` they keep waiting for the next upstream call.
   */
  private checkBudget(): void {
    if (this.config.budget.policy === 'enforce' && this.pendingBookkeeping.length > 0) this.runBookkeeping();
    this.usage.assertWithinBudget();
  }

  private begin(input: LlmCallInput): CallContext {
    const { prompt, applied } = this.preparePrompt(input.prompt, input.drills);
    const started = performance.now();
    return {
      input,
      promptId: randomUUID(),
      started,
      deadline: started + this.config.llm.deadlineMs,
      startedAtMs: Date.now(),
      prompt,
      drillsApplied: applied,
      counters: { rateLimits: 0, timeouts: 0 },
      llmobs: sampled(this.config.tracing.llmobsSampleRate),
    };
  }

  private request(ctx: CallContext, model: string, signal: AbortSignal): LlmGenerateRequest {
    return {
      model,
      prompt: ctx.prompt,
      temperature: this.config.llm.temperature,
      maxOutputTokens: this.config.llm.maxOutputTokens,
      signal,
      timeoutMs: this.config.llm.timeoutMs,
    };
  }

  private spanTags(
    request: LlmGenerateRequest,
    ctx: CallContext,
    attempt: number,
  ): Record<string, string | number | boolean> {
    return {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': OTEL_PROVIDER[this.provider.name] ?? this.provider.name,
      'gen_ai.request.model': request.model,
      'gen_ai.request.temperature': request.temperature,
      'gen_ai.request.max_tokens': request.maxOutputTokens,
      'llm.endpoint': ctx.input.endpoint,
      'llm.prompt_id': ctx.promptId,
      'llm.attempt': attempt,
      'llm.simulated': this.provider.simulated,
    };
  }

  private tagResponse(
    span: LlmSpanHandle,
    request: LlmGenerateRequest,
    result: LlmGenerateResult,
    usage: LlmUsage,
  ): void {
    span.addTags({
      'gen_ai.response.model': result.model,
      'gen_ai.usage.input_tokens': usage.inputTokens,
      'gen_ai.usage.output_tokens': usage.outputTokens,
      'gen_ai.response.finish_reasons': JSON.stringify([result.rawFinishReason ?? result.finishReason]),
      'llm.safety_block': result.safetyBlock !== undefined,
    });
    span.annotate({
      input: this.sanitizer.text(request.prompt),
      output: this.sanitizer.text(result.text),
      metrics: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, totalTokens: usage.totalTokens },
      metadata: {
        temperature: request.temperature,
        max_tokens: request.maxOutputTokens,
        finish_reason: result.finishReason,
        tokens_estimated: usage.estimated,
      },
    });
  }

  private async generateInSpan(request: LlmGenerateRequest, span: LlmSpanHandle): Promise<LlmGenerateResult> {
    const result = await this.provider.generate(request).catch((error: unknown) => {
      throw this.redacted(error);
    });
    this.tagResponse(span, request, result, this.usageOf(request.prompt, result));
    this.failIfEmpty(request, result);
    return result;
  }

  /**
   * An answer with no text that is not a safety block is a failed attempt (`empty_response`: retried, then a
   * fallback, then 502), never a 200 with an empty answer. It happens when a reasoning model spends the whole
   * output budget thinking (finish reason `length`) or a server answers `content: null`.
   */
  private failIfEmpty(request: LlmGenerateRequest, result: LlmGenerateResult): void {
    if (result.safetyBlock !== undefined || result.text.trim() !== '') return;
    const why =
      result.finishReason === 'length'
        ? `the output budget (LLM_MAX_OUTPUT_TOKENS=${request.maxOutputTokens}) ran out before any answer text`
        : `finish reason ${result.rawFinishReason ?? result.finishReason}`;
    throw new LlmProviderError('empty_response', `${this.provider.name} ${request.model}: empty answer (${why})`, {
      provider: this.provider.name,
      model: request.model,
      status: 200,
    });
  }

  /**
   * Opens the provider stream inside the attempt span: `started` resolves at the first event, `finished`
   * (and the span) at the end of the stream.
   */
  private startStream(
    request: LlmGenerateRequest,
    span: LlmSpanHandle,
    heartbeat: () => void,
  ): { started: Promise<StreamAttempt>; finished: Promise<unknown> } {
    let resolveDone!: (r: LlmGenerateResult) => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<LlmGenerateResult>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    done.catch(() => undefined);
    const startedPromise = new Promise<StreamAttempt>((resolveStarted, rejectStarted) => {
      const queue = new AsyncQueue<string>();
      let started = false;
      const run = async (): Promise<void> => {
        // The attempt has started (and can no longer be retried) at its first text, or at its final event.
        const start = (): void => {
          if (started) return;
          started = true;
          resolveStarted({ queue, done });
        };
        for await (const event of this.provider.stream(request)) {
          heartbeat();
          if (event.type === 'delta') {
            if (event.text) {
              start();
              queue.push(event.text);
            }
          } else {
            this.tagResponse(span, request, event.result, this.usageOf(request.prompt, event.result));
            this.failIfEmpty(request, event.result);
            start();
            queue.close();
            resolveDone(event.result);
            return;
          }
        }
        throw new LlmProviderError('invalid_response', 'stream ended without a final event', {
          provider: this.provider.name,
          model: request.model,
        });
      };
      run().catch((raw: unknown) => {
        const redacted = this.redacted(raw);
        const error = redacted instanceof Error ? redacted : new Error(String(redacted));
        rejectDone(error);
        if (!started) rejectStarted(error);
        else queue.fail(error);
      });
    });
    return { started: startedPromise, finished: done };
  }

  /**
   * Runs attempts over the fallback chain. `attempt` gets a request whose signal aborts on the
   * per-attempt timeout (TimeoutError) or when the client goes away.
   */
  private async withRetries<T>(
    ctx: CallContext,
    holdSlot: boolean,
    attempt: (
      request: LlmGenerateRequest,
      span: LlmSpanHandle,
      heartbeat: () => void,
    ) => { started: Promise<T>; finished: Promise<unknown> },
  ): Promise<AttemptOutcome<T>> {
    const { llm } = this.config;
    let attempts = 0;
    let retries = 0;
    let lastError: LlmProviderError | undefined;
    let lastUpstreamStatus: number | null = null;
    const modelsTried: string[] = [];
    let circuitRetryAfterMs = Infinity;
    /** Set when the deadline (LLM_DEADLINE_MS) stopped a retry or a fallback. */
    let deadlineReached = false;

    for (const model of this.chain) {
      if (performance.now() >= ctx.deadline) {
        deadlineReached = true;
        break;
      }
      const breaker = this.breaker(model);
      if (!breaker.tryAcquire()) {
        circuitRetryAfterMs = Math.min(circuitRetryAfterMs, breaker.retryAfterMs());
        continue;
      }
      modelsTried.push(model);
      for (let retry = 0; ; retry++) {
        attempts += 1;
        let release: () => void;
        try {
          release = await this.limiter.acquire(ctx.input.signal);
        } catch (error) {
          breaker.release();
          if (error instanceof NoCapacityError) {
            throw this.failure('NO_CAPACITY', `No capacity: ${error.message}`, {
              model,
              modelsTried,
              attempts,
              lastUpstreamStatus,
              lastErrorKind: 'no_capacity',
              retryAfterSeconds: 1,
            });
          }
          throw error;
        }
        const controller = new AbortController();
        // The attempt's timeout, cut to what is left of the call's deadline.
        const left = Math.max(1, Math.ceil(ctx.deadline - performance.now()));
        const cut = left < llm.timeoutMs;
        const timeout =
          (reason: string): (() => void) =>
          () =>
            controller.abort(new DOMException(reason, 'TimeoutError'));
        let timer = setTimeout(
          timeout(
            cut
              ? `the call's deadline of ${llm.deadlineMs} ms was reached (LLM_DEADLINE_MS)`
              : `attempt timed out after ${llm.timeoutMs} ms`,
          ),
          cut ? left : llm.timeoutMs,
        );
        // A stream's first event ends the deadline's hold on it: from then on the timer is the idle timeout
        // between events (LLM_TIMEOUT_MS), refreshed by each event.
        let streaming = false;
        const heartbeat = (): void => {
          if (streaming) {
            timer.refresh();
            return;
          }
          streaming = true;
          clearTimeout(timer);
          timer = setTimeout(timeout(`no stream event for ${llm.timeoutMs} ms`), llm.timeoutMs);
        };
        const onClientAbort = (): void => controller.abort(ctx.input.signal?.reason);
        ctx.input.signal?.addEventListener('abort', onClientAbort, { once: true });
        let keepSlot = false;
        let evaluationRef: unknown;
        try {
          const request = this.request(ctx, model, controller.signal);
          const value = await new Promise<T>((resolve, reject) => {
            // The span lasts until `finished` (the end of a stream); the attempt succeeds at `started`.
            this.tracer
              .llmSpan(
                {
                  name: 'llm.generate',
                  modelName: model,
                  modelProvider: this.provider.name,
                  tags: this.spanTags(request, ctx, attempts),
                  llmobs: ctx.llmobs,
                },
                async (span) => {
                  evaluationRef = span.evaluationRef();
                  if (ctx.input.drills.retry && attempts === 1) {
                    throw new LlmProviderError(
                      'server',
                      'drill: simulated retryable failure of the first attempt (simulate_retry)',
                      {
                        provider: this.provider.name,
                        model,
                        status: 503,
                      },
                    );
                  }
                  const { started, finished } = attempt(request, span, heartbeat);
                  this.upstreamDispatched();
                  started.then(resolve, reject);
                  await finished;
                },
              )
              .catch(reject);
          });
          breaker.onSuccess();
          keepSlot = holdSlot;
          return {
            value,
            model,
            attempts,
            retries,
            modelsTried,
            lastUpstreamStatus,
            evaluationRef,
            release: keepSlot
              ? () => {
                  clearTimeout(timer);
                  release();
                  ctx.input.signal?.removeEventListener('abort', onClientAbort);
                }
              : () => undefined,
          };
        } catch (raw) {
          const error = this.providerError(raw, model, controller.signal);
          if (error.kind === 'aborted') {
            breaker.release();
            throw error;
          }
          const drill = error.message.startsWith('drill:');
          if (drill || ['auth', 'not_found', 'bad_request'].includes(error.kind)) breaker.release();
          else breaker.onFailure();
          if (error.kind === 'rate_limit') ctx.counters.rateLimits += 1;
          if (error.kind === 'timeout') ctx.counters.timeouts += 1;
          lastError = error;
          lastUpstreamStatus = error.details.status ?? lastUpstreamStatus;
          if (!error.retryable || retry >= llm.maxRetries) break;
          const delayMs = backoffDelay(retry, llm.retryBaseMs, llm.retryMaxMs, error.details.retryAfterMs);
          // A Retry-After longer than the retry budget: try the next model instead of waiting.
          if (delayMs > llm.retryMaxMs) break;
          // No backoff waits past the deadline: the next model gets whatever time is left (usually none).
          if (performance.now() + delayMs >= ctx.deadline) {
            deadlineReached = true;
            break;
          }
          retries += 1;
          await sleep(delayMs, ctx.input.signal);
          if (!breaker.tryAcquire()) break;
        } finally {
          // A stream keeps its timer as an idle timeout between events (refreshed by the heartbeat).
          if (!keepSlot) {
            clearTimeout(timer);
            release();
            ctx.input.signal?.removeEventListener('abort', onClientAbort);
          }
        }
      }
    }

    if (attempts === 0 && deadlineReached) {
      throw this.failure(
        'UPSTREAM_TIMEOUT',
        `The call's deadline of ${llm.deadlineMs} ms (LLM_DEADLINE_MS) passed before any attempt`,
        {
          model: this.chain[0]!,
          modelsTried,
          attempts,
          lastUpstreamStatus: null,
          lastErrorKind: 'timeout',
          retryAfterSeconds: null,
        },
      );
    }
    if (modelsTried.length === 0) {
      const seconds = Math.max(1, Math.ceil(circuitRetryAfterMs / 1000));
      throw this.failure(
        'CIRCUIT_OPEN',
        `Circuit open for every model of the chain (${this.chain.join(', ')}); retry in ${seconds} s`,
        {
          model: this.chain[this.chain.length - 1]!,
          modelsTried,
          attempts,
          lastUpstreamStatus: null,
          lastErrorKind: 'circuit_open',
          retryAfterSeconds: seconds,
        },
      );
    }
    const last = modelsTried[modelsTried.length - 1]!;
    const kind = lastError?.kind ?? null;
    // Said once: an attempt cut by the deadline already names it in its own message.
    const stopped =
      deadlineReached && !lastError?.message.includes('LLM_DEADLINE_MS')
        ? ` (no more attempts: the call's deadline of ${llm.deadlineMs} ms was reached)`
        : '';
    const detail = `${this.provider.name} failed after ${attempts} attempt(s) on ${modelsTried.join(', ')}: ${lastError?.message ?? 'unknown error'}${stopped}`;
    const context = { model: last, modelsTried, attempts, lastUpstreamStatus, lastErrorKind: kind };
    if (kind === 'timeout')
      throw this.failure('UPSTREAM_TIMEOUT', detail, { ...context, retryAfterSeconds: null }, lastError);
    // Rate limited, or unavailable with a Retry-After (an upstream 503 saying when to come back): the client gets
    // the provider's Retry-After on a 503 of its own.
    const retryAfterMs = lastError?.details.retryAfterMs;
    if (kind === 'rate_limit' || (lastError?.details.status === 503 && retryAfterMs !== undefined)) {
      const retryAfterSeconds = Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));
      throw this.failure('UPSTREAM_UNAVAILABLE', detail, { ...context, retryAfterSeconds }, lastError);
    }
    throw this.failure('UPSTREAM_ERROR', detail, { ...context, retryAfterSeconds: null }, lastError);
  }

  private failure(
    code: ConstructorParameters<typeof LlmCallFailedError>[0],
    detail: string,
    context: Omit<FailureContext, 'provider'>,
    cause?: unknown,
  ): LlmCallFailedError {
    return new LlmCallFailedError(
      code,
      detail,
      { provider: this.provider.name, ...context, modelsTried: [...context.modelsTried] },
      { cause },
    );
  }

  /** Records a failed call once and returns the error to throw. */
  private failed(ctx: CallContext, error: unknown, outcome?: AttemptOutcome<unknown>): unknown {
    const latencyMs = performance.now() - ctx.started;
    let failure: LlmCallFailedError | undefined;
    if (error instanceof LlmCallFailedError) failure = error;
    else if (error instanceof LlmProviderError && error.kind !== 'aborted' && outcome) {
      // A stream that failed after its first token: no retry is possible any more.
      failure = this.failure(
        error.kind === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_ERROR',
        `stream failed after the first token: ${error.message}`,
        {
          model: outcome.model,
          modelsTried: outcome.modelsTried,
          attempts: outcome.attempts,
          lastUpstreamStatus: error.details.status ?? null,
          lastErrorKind: error.kind,
          retryAfterSeconds: null,
        },
        error,
      );
    }
    if (failure) {
      this.telemetry.failed(
        ctx.input.endpoint,
        this.provider.name,
        failure,
        latencyMs,
        ctx.counters,
        ctx.promptId,
        ctx.prompt,
      );
      this.assessor.assessFailure(ctx.input, this.provider.name, failure.context.model);
      this.usage.failed(ctx.input, ctx.prompt, this.provider.name, failure, latencyMs, ctx.startedAtMs);
    }
    return failure ?? error;
  }

  private providerError(raw: unknown, model: string, signal: AbortSignal): LlmProviderError {
    if (raw instanceof LlmProviderError) return raw;
    const details = { provider: this.provider.name, model };
    if (signal.aborted) {
      return isTimeoutReason(signal.reason)
        ? new LlmProviderError('timeout', (signal.reason as Error).message, details, { cause: raw })
        : new LlmProviderError('aborted', 'client went away', details, { cause: raw });
    }
    return new LlmProviderError('invalid_response', raw instanceof Error ? raw.message : String(raw), details, {
      cause: raw,
    });
  }

  /**
   * A provider failure whose message is redacted (PII, secrets) and bounded before it reaches the attempt span,
   * the log line or the client's problem detail: upstream error bodies may echo the prompt or part of a key
   * ("Incorrect API key provided: sk-…").
   */
  private redacted(error: unknown): unknown {
    if (!(error instanceof LlmProviderError)) return error;
    const message = this.sanitizer.text(error.message, MAX_PROVIDER_MESSAGE_CHARS);
    return message === error.message
      ? error
      : new LlmProviderError(error.kind, message, error.details, { cause: error });
  }

  private usageOf(prompt: string, result: LlmGenerateResult): LlmUsage {
    if (result.usage) return result.usage;
    const inputTokens = this.tokens.count(prompt);
    const outputTokens = this.tokens.count(result.text);
    return {
      inputTokens,
      outputTokens,
      totalTokens: inputTokens + outputTokens,
      cachedTokens: 0,
      reasoningTokens: 0,
      estimated: true,
    };
  }

  private result(ctx: CallContext, outcome: AttemptOutcome<unknown>, final: LlmGenerateResult): LlmCallResult {
    const usage = this.usageOf(ctx.prompt, final);
    return {
      promptId: ctx.promptId,
      endpoint: ctx.input.endpoint,
      provider: this.provider.name,
      simulated: this.provider.simulated,
      model: outcome.model,
      modelVersion: final.model,
      requestedModel: this.chain[0]!,
      answer: final.text,
      finishReason: final.finishReason,
      rawFinishReason: final.rawFinishReason,
      usage,
      cost: this.prices.cost(outcome.model, usage),
      latencyMs: performance.now() - ctx.started,
      retryCount: outcome.retries,
      attempts: outcome.attempts,
      fallbackUsed: outcome.model !== this.chain[0],
      modelsTried: outcome.modelsTried,
      lastUpstreamStatus: outcome.lastUpstreamStatus,
      safetyBlock: final.safetyBlock,
      drillsApplied: ctx.drillsApplied,
      sentPrompt: ctx.prompt,
      evaluationRef: outcome.evaluationRef,
    };
  }

  private breaker(model: string): CircuitBreaker {
    let breaker = this.breakers.get(model);
    if (!breaker) {
      breaker = new CircuitBreaker(`${this.provider.name}:${model}`, this.config.llm.breaker, (_key, state) =>
        this.telemetry.circuit(this.provider.name, model, state),
      );
      this.breakers.set(model, breaker);
    }
    return breaker;
  }

  private emitCircuitGauges(): void {
    for (const [model, breaker] of this.breakers) this.telemetry.circuit(this.provider.name, model, breaker.current());
  }
}

interface StreamAttempt {
  queue: AsyncQueue<string>;
  done: Promise<LlmGenerateResult>;
}

/** True with probability `rate` (0: never, 1: always). */
function sampled(rate: number): boolean {
  return rate >= 1 || (rate > 0 && Math.random() < rate);
}
