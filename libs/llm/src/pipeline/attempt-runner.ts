import { Injectable } from '@nestjs/common';
import { isCutAtShutdown } from '@app/common';
import { AppConfig } from '@app/config';
import { type LlmSpanHandle, TracerPort } from '@app/telemetry';
import type { ChatCallOptions } from '../llm-call.types';
import type { LlmGenerateRequest } from '../ports/llm-provider.port';
import { ConcurrencyLimiter } from '../reliability/concurrency-limiter';
import { AttemptSpans } from './attempt-spans';
import { deadlineLeftMs } from './call-context';
import type { CallContext } from './call-state';
import { FailureMapper } from './failure-mapper';
import { LlmDrills } from './llm-drills';

/** How an attempt talks to the provider: a whole answer (generate) or a stream. */
export interface AttemptKind<T> {
  /** A stream keeps its slot, and its timer as an idle timeout between events, until it ends (`Attempt.release`). */
  readonly holdsSlot: boolean;
  /**
   * Sends the request inside the attempt's span. The attempt succeeds when `started` resolves; the span lasts
   * until `finished` (the end of a stream).
   */
  start(
    request: LlmGenerateRequest,
    span: LlmSpanHandle,
    attempt: Attempt,
    ctx: CallContext,
  ): { started: Promise<T>; finished: Promise<unknown> };
}

/** The request fields of a chat call (its conversation and settings), only those it sets. */
function chatRequestFields(chat: ChatCallOptions): Partial<LlmGenerateRequest> {
  return {
    messages: chat.messages,
    ...(chat.topP !== undefined ? { topP: chat.topP } : {}),
    ...(chat.seed !== undefined ? { seed: chat.seed } : {}),
    ...(chat.presencePenalty !== undefined ? { presencePenalty: chat.presencePenalty } : {}),
    ...(chat.frequencyPenalty !== undefined ? { frequencyPenalty: chat.frequencyPenalty } : {}),
    ...(chat.stopSequences !== undefined ? { stopSequences: chat.stopSequences } : {}),
    ...(chat.responseFormat !== undefined ? { responseFormat: chat.responseFormat } : {}),
    ...(chat.tools !== undefined ? { tools: chat.tools } : {}),
    ...(chat.toolChoice !== undefined ? { toolChoice: chat.toolChoice } : {}),
    ...(chat.parallelToolCalls === false ? { parallelToolCalls: false as const } : {}),
    ...(chat.user !== undefined ? { user: chat.user } : {}),
  };
}

function abortOnTimeout(controller: AbortController, reason: string): void {
  controller.abort(new DOMException(reason, 'TimeoutError'));
}

/**
 * One attempt's abort wiring. Its signal aborts on its timeout (TimeoutError: LLM_TIMEOUT_MS, cut to what is
 * left of the call's deadline) or when the client goes away; `release` frees its concurrency slot.
 */
export class Attempt {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  private streaming = false;
  /** The client went away (its signal, or `abandon`): the attempt ended because nobody waits for it. */
  clientGone = false;
  /** The LLM Observability reference of the attempt's span, for evaluations. */
  evaluationRef: unknown;

  constructor(
    private readonly timeoutMs: number,
    deadlineMs: number,
    leftMs: number,
    private readonly clientSignal: AbortSignal | undefined,
    private readonly releaseSlot: () => void,
  ) {
    const cut = leftMs < timeoutMs;
    this.timer = setTimeout(
      abortOnTimeout,
      cut ? leftMs : timeoutMs,
      this.controller,
      cut
        ? `the call's deadline of ${deadlineMs} ms was reached (LLM_DEADLINE_MS)`
        : `attempt timed out after ${timeoutMs} ms (LLM_TIMEOUT_MS)`,
    );
    clientSignal?.addEventListener('abort', this, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The client went away (an EventListener object: no closure per attempt). */
  handleEvent(): void {
    this.clientGone = true;
    this.controller.abort(this.clientSignal?.reason);
  }

  /** The client stopped reading a started stream: its request is cancelled like on the client's own signal. */
  abandon(): void {
    this.clientGone = true;
    this.controller.abort(new DOMException('the client stopped reading the stream', 'AbortError'));
  }

  /**
   * A stream event arrived. The first ends the deadline's hold on the stream: from then on the timer is the idle
   * timeout between events (LLM_TIMEOUT_MS), refreshed by each event.
   */
  heartbeat(): void {
    if (this.streaming) {
      this.timer.refresh();
      return;
    }
    this.streaming = true;
    clearTimeout(this.timer);
    this.startIdleTimer();
  }

  /**
   * The stream's reader is behind (its client reads slowly or not at all) and the provider is no longer read: the
   * idle timeout between events stops, since a pause that is the client's is not the provider's. The write timeout
   * of the response (SSE_WRITE_TIMEOUT_MS) bounds the wait. `resumeIdle` starts a whole idle timeout again.
   */
  pauseIdle(): void {
    clearTimeout(this.timer);
  }

  resumeIdle(): void {
    if (this.controller.signal.aborted) return;
    this.startIdleTimer();
  }

  /** The stream's idle timeout: LLM_TIMEOUT_MS without an event from the provider. */
  private startIdleTimer(): void {
    this.timer = setTimeout(
      abortOnTimeout,
      this.timeoutMs,
      this.controller,
      `no stream event for ${this.timeoutMs} ms (LLM_TIMEOUT_MS, the longest pause allowed between events)`,
    );
  }

  release(): void {
    clearTimeout(this.timer);
    this.releaseSlot();
    this.clientSignal?.removeEventListener('abort', this);
  }
}

/**
 * Runs one attempt: takes a concurrency slot (LLM_MAX_CONCURRENCY, FIFO up to LLM_QUEUE_TIMEOUT_MS), wires its
 * timeout and the client's abort (`Attempt`), and sends the request inside an `llm.generate` span.
 */
@Injectable()
export class AttemptRunner {
  constructor(
    private readonly config: AppConfig,
    private readonly tracer: TracerPort,
    private readonly limiter: ConcurrencyLimiter,
    private readonly spans: AttemptSpans,
    private readonly drills: LlmDrills,
    private readonly failures: FailureMapper,
  ) {}

  /** Waits for a concurrency slot; NoCapacityError past the queue timeout, the abort reason if the client goes. */
  slot(ctx: CallContext): Promise<() => void> {
    return this.limiter.acquire(ctx.input.signal);
  }

  /** Starts the attempt's clock once it holds a slot. */
  begin(ctx: CallContext, releaseSlot: () => void): Attempt {
    const { timeoutMs, deadlineMs } = this.config.llm;
    return new Attempt(timeoutMs, deadlineMs, deadlineLeftMs(ctx), ctx.input.signal, releaseSlot);
  }

  /** Resolves when the attempt has started (`AttemptKind.start`); rejects with whatever ended it before. */
  run<T>(ctx: CallContext, attempt: Attempt, model: string, attemptNumber: number, kind: AttemptKind<T>): Promise<T> {
    const { llm } = this.config;
    const chat = ctx.input.chat;
    const request: LlmGenerateRequest = {
      model,
      prompt: ctx.prompt,
      temperature: chat?.temperature ?? llm.temperature,
      ...(chat?.temperature === undefined ? { temperatureDefaulted: true } : {}),
      maxOutputTokens: ctx.maxOutputTokens,
      signal: attempt.signal,
      timeoutMs: llm.timeoutMs,
      ...(chat !== undefined ? chatRequestFields(chat) : {}),
    };
    return new Promise<T>((resolve, reject) => {
      this.tracer
        .llmSpan(this.spans.options(request, ctx, attemptNumber), async (span) => {
          attempt.evaluationRef = span.evaluationRef();
          // The input as the attempt starts: a failed attempt shows what it sent.
          this.spans.tagRequest(span, request, ctx);
          try {
            const drill = this.drills.retryFailure(ctx.input.drills, attemptNumber, model);
            if (drill) throw drill;
            const { started, finished } = kind.start(request, span, attempt, ctx);
            started.then(resolve, reject);
            await finished;
          } catch (raw) {
            // Cancelled because the client went away: not the provider's failure, so not a span error.
            if (attempt.clientGone) {
              span.setTag(isCutAtShutdown(ctx.input.signal?.reason) ? 'llm.shutdown_cut' : 'llm.client_abort', true);
              return;
            }
            // The span says what kind of failure ended the attempt (the chain maps the same error: the same instance).
            const error = this.failures.providerError(raw, model, attempt.signal);
            this.spans.tagFailure(span, error, ctx);
            throw error;
          }
        })
        .catch(reject);
    });
  }
}
