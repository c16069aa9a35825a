import { Injectable } from '@nestjs/common';
import type { LlmSpanHandle } from '@app/telemetry';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  LlmProviderError,
} from '../ports/llm-provider.port';
import { AsyncQueue } from '../reliability/async-queue';
import type { Attempt, AttemptKind } from './attempt-runner';
import { AttemptSpans } from './attempt-spans';
import { CallBookkeeping } from './call-bookkeeping';
import type { CallContext } from './call-state';
import { FailureMapper } from './failure-mapper';

/**
 * The text a stream holds for a reader that is behind, in characters: past it the provider is not read until the
 * reader took it all. Each call's own limits stay as they are (the response limit counts what is read).
 */
export const STREAM_BUFFER_CHARS = 64 * 1024;

/** A stream that has started: its text as it comes, and its final result. */
export interface StreamedAnswer {
  queue: AsyncQueue<string>;
  done: Promise<LlmGenerateResult>;
}

/**
 * The two ways an attempt calls the provider. Each tags its span with the response, fails an empty answer
 * (`empty_response`), redacts the provider's error, and lets the pending bookkeeping run once its request is
 * on its way.
 */
@Injectable()
export class ProviderAttempts {
  /** A whole answer: the attempt succeeds, and its span ends, with it. */
  readonly generate: AttemptKind<LlmGenerateResult> = {
    holdsSlot: false,
    start: (request, span, _attempt, ctx) => {
      const started = this.generateInSpan(request, span, ctx);
      this.bookkeeping.upstreamDispatched();
      return { started, finished: started };
    },
  };

  /** A stream: the attempt succeeds at its first text (or its final event); its span lasts until its end. */
  readonly stream: AttemptKind<StreamedAnswer> = {
    holdsSlot: true,
    start: (request, span, attempt, ctx) => {
      const started = this.startStream(request, span, attempt, ctx);
      this.bookkeeping.upstreamDispatched();
      return started;
    },
  };

  constructor(
    private readonly provider: LlmProvider,
    private readonly spans: AttemptSpans,
    private readonly failures: FailureMapper,
    private readonly bookkeeping: CallBookkeeping,
  ) {}

  private async generateInSpan(
    request: LlmGenerateRequest,
    span: LlmSpanHandle,
    ctx: CallContext,
  ): Promise<LlmGenerateResult> {
    const result = await this.provider.generate(request).catch((error: unknown) => {
      throw this.failures.redacted(error);
    });
    this.spans.tagResponse(span, request, result, ctx);
    return this.failures.offeredCallsOnly(request, result, ctx);
  }

  /**
   * Opens the provider stream inside the attempt span: `started` resolves at the first event, `finished`
   * (and the span) at the end of the stream.
   */
  private startStream(
    request: LlmGenerateRequest,
    span: LlmSpanHandle,
    attempt: Attempt,
    ctx: CallContext,
  ): { started: Promise<StreamedAnswer>; finished: Promise<unknown> } {
    let resolveDone!: (r: LlmGenerateResult) => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<LlmGenerateResult>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    done.catch(() => undefined);
    const startedPromise = new Promise<StreamedAnswer>((resolveStarted, rejectStarted) => {
      const queue = new AsyncQueue<string>(STREAM_BUFFER_CHARS, (text) => text.length);
      let started = false;
      const run = async (): Promise<void> => {
        // The attempt has started (and can no longer be retried) at its first text, or at its final event.
        const start = (): void => {
          if (started) return;
          started = true;
          resolveStarted({ queue, done });
        };
        for await (const event of this.provider.stream(request)) {
          attempt.heartbeat();
          if (event.type === 'delta') {
            if (event.text) {
              start();
              // A reader that is behind: the provider waits (TCP backpressure), not the heap.
              if (!queue.push(event.text)) {
                attempt.pauseIdle();
                await queue.drained(attempt.signal);
                attempt.resumeIdle();
              }
            }
          } else {
            this.spans.tagResponse(span, request, event.result, ctx);
            const result = this.failures.offeredCallsOnly(request, event.result, ctx);
            start();
            queue.close();
            resolveDone(result);
            return;
          }
        }
        throw new LlmProviderError('invalid_response', 'stream ended without a final event', {
          provider: this.provider.name,
          model: request.model,
        });
      };
      run().catch((raw: unknown) => {
        const redacted = this.failures.redacted(raw);
        const error = redacted instanceof Error ? redacted : new Error(String(redacted));
        rejectDone(error);
        if (!started) rejectStarted(error);
        else queue.fail(error);
      });
    });
    return { started: startedPromise, finished: done };
  }
}
