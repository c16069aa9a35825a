import { Injectable } from '@nestjs/common';
import type { LlmSpanHandle } from '@app/telemetry';
import type { DrillFlags, LlmCallInput, LlmCallResult } from './llm-call.types';
import { CallBookkeeping } from './pipeline/call-bookkeeping';
import { CallBudget } from './pipeline/call-budget';
import type { CallContext } from './pipeline/call-state';
import { CallContexts } from './pipeline/call-context';
import { CallRecorder } from './pipeline/call-recorder';
import { CallSpans } from './pipeline/call-spans';
import { type ChainOutcome, FallbackChain } from './pipeline/fallback-chain';
import { LlmDrills } from './pipeline/llm-drills';
import { ProviderAttempts, type StreamedAnswer } from './pipeline/provider-attempts';

export type LlmStreamItem = { type: 'delta'; text: string } | { type: 'done'; result: LlmCallResult };

/** A started stream: its items, the call's prompt id and the model whose attempt started it. */
export type LlmStream = AsyncIterable<LlmStreamItem> & { readonly promptId: string; readonly model: string };

/**
 * Every LLM call goes through here. A call is opened (`CallContexts`: budget, safety inspection, drills,
 * deadline), its attempts run over the model chain (`FallbackChain`: circuit breakers, retries with backoff,
 * fallback; each attempt by `AttemptRunner`: concurrency slot, timeout, span), and it ends once
 * (`CallRecorder`: result, score, records; `FailureMapper` for the 502/503/504). A call recorded in LLM
 * Observability is one `workflow` span there, its attempts under it (`CallSpans`).
 */
@Injectable()
export class LlmService {
  constructor(
    private readonly contexts: CallContexts,
    private readonly drills: LlmDrills,
    private readonly chain: FallbackChain,
    private readonly attempts: ProviderAttempts,
    private readonly recorder: CallRecorder,
    private readonly spans: CallSpans,
    private readonly bookkeeping: CallBookkeeping,
    private readonly budget: CallBudget,
  ) {}

  /** The prompt after drills, and which drills changed it. */
  preparePrompt(prompt: string, drills: DrillFlags): { prompt: string; applied: string[] } {
    return this.drills.preparePrompt(prompt, drills);
  }

  async complete(raw: LlmCallInput): Promise<LlmCallResult> {
    const ctx = await this.contexts.open(raw, { cache: true });
    raw.onPromptId?.(ctx.promptId);
    // Answered from the response cache: no attempt, no workflow span (no model was called).
    if (ctx.cacheHit) {
      this.contexts.close(ctx);
      return this.recorder.cached(ctx, ctx.cacheHit);
    }
    // Open until it is recorded: a stopping service waits for it (CallBookkeeping).
    const recorded = this.opened(ctx);
    return this.spans.run(ctx, async (span) => {
      try {
        if (ctx.input.drills.latency) await this.drills.latency(ctx.input.signal);
        const outcome = await this.chain.run(ctx, this.attempts.generate);
        outcome.evaluationRef = this.spans.evaluationRef(span, outcome);
        const result = this.recorder.answered(ctx, outcome, outcome.value);
        this.spans.answered(span, ctx, result);
        return result;
      } catch (error) {
        const failure = this.recorder.failed(ctx, error);
        this.spans.failed(span, ctx, failure);
        throw failure;
      } finally {
        recorded();
      }
    });
  }

  /**
   * Streams the answer. Failures before the first token are retried and fall back like `complete`;
   * the first event is awaited before this resolves, so such failures surface as a normal error response.
   * A stream bypasses the response cache: it is neither served from it nor stored (docs/cache.md).
   */
  async stream(raw: LlmCallInput): Promise<LlmStream> {
    const ctx = await this.contexts.open(raw);
    const recorded = this.opened(ctx);
    raw.onPromptId?.(ctx.promptId);
    // The workflow span lasts until the stream ends (`iterate`), not until its first event.
    return this.spans.run(ctx, async (span) => {
      let outcome: ChainOutcome<StreamedAnswer>;
      try {
        if (ctx.input.drills.latency) await this.drills.latency(ctx.input.signal);
        outcome = await this.chain.run(ctx, this.attempts.stream);
      } catch (error) {
        const failure = this.recorder.failed(ctx, error);
        this.spans.failed(span, ctx, failure);
        recorded();
        throw failure;
      }
      outcome.evaluationRef = this.spans.evaluationRef(span, outcome);
      const items = this.iterate(ctx, outcome, span, recorded);
      // A generator closed before its first `next` skips its `finally`: a stream its client left before it was read
      // is abandoned here instead (recorded, its provider request cancelled, its slot released).
      let begun = false;
      const iterator: AsyncIterableIterator<LlmStreamItem> = {
        next: () => {
          begun = true;
          return items.next();
        },
        return: (value?: unknown) => {
          if (!begun) {
            begun = true;
            this.abandonUnread(ctx, outcome, span, recorded);
          }
          return items.return(value);
        },
        [Symbol.asyncIterator]: () => iterator,
      };
      return Object.assign(iterator, { promptId: ctx.promptId, model: outcome.model });
    });
  }

  /**
   * The call is open until it is recorded: a stopping service waits for it (CallBookkeeping), and its input counts
   * against the heap (LoadShedder). Returns what ends both, once.
   */
  private opened(ctx: CallContext): () => void {
    const recorded = this.bookkeeping.opened();
    return () => {
      recorded();
      this.contexts.close(ctx);
    };
  }

  private abandonUnread(
    ctx: CallContext,
    outcome: ChainOutcome<StreamedAnswer>,
    span: LlmSpanHandle,
    recorded: () => void,
  ): void {
    outcome.attempt.abandon();
    this.spans.failed(span, ctx, this.recorder.streamAbandoned(ctx, outcome, []));
    outcome.attempt.release();
    recorded();
  }

  private async *iterate(
    ctx: CallContext,
    outcome: ChainOutcome<StreamedAnswer>,
    span: LlmSpanHandle,
    recorded: () => void,
  ): AsyncGenerator<LlmStreamItem> {
    const { queue, done } = outcome.value;
    let ttftMs: number | undefined;
    // The text sent so far: what an abandoned stream generated (and is billed for).
    const streamed: string[] = [];
    let ended = false;
    // Past its first token a stream is no longer bounded by the deadline its reservation's time to live is set from.
    const stopKeepAlive = this.budget.keepAlive(ctx);
    try {
      for await (const text of queue) {
        ttftMs ??= performance.now() - ctx.started;
        streamed.push(text);
        yield { type: 'delta', text };
      }
      const final = await done;
      ended = true;
      const result = this.recorder.streamed(ctx, outcome, final, ttftMs);
      this.spans.answered(span, ctx, result);
      yield { type: 'done', result };
    } catch (error) {
      ended = true;
      const failure = ctx.input.signal?.aborted
        ? this.recorder.streamAbandoned(ctx, outcome, streamed, error)
        : this.recorder.streamFailed(ctx, outcome.model, streamed, this.chain.failedAfterFirstToken(error, outcome));
      this.spans.failed(span, ctx, failure);
      throw failure;
    } finally {
      stopKeepAlive();
      if (!ended) {
        // The consumer stopped reading before the end (the client closed the stream): the provider stops too.
        outcome.attempt.abandon();
        this.spans.failed(span, ctx, this.recorder.streamAbandoned(ctx, outcome, streamed));
      }
      outcome.attempt.release();
      recorded();
    }
  }
}
