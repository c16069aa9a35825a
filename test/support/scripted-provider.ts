import {
  type FinishReason,
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  LlmProviderError,
  type LlmStreamEvent,
  type ToolCall,
} from '@app/llm';
import { timeoutText } from '../../libs/llm/src/adapters/upstream-errors';

export type Step =
  | {
      ok: string;
      /** The finish reason (default `stop`). */
      finish?: FinishReason;
      usage?: LlmGenerateResult['usage'];
      delayMs?: number;
      /** Streams only: the pause between two words. */
      chunkDelayMs?: number;
      /** The answer's tool calls. */
      toolCalls?: ToolCall[];
    }
  | {
      fail:
        'server' | 'rate_limit' | 'timeout' | 'bad_request' | 'connection' | 'auth' | 'quota_exhausted' | 'not_found';
      status?: number;
      retryAfterMs?: number;
      /** The provider's code and the field it names (`details.providerCode`, `details.param`). */
      providerCode?: string;
      param?: string;
      /** The error's message (default `scripted <kind>`). */
      message?: string;
    }
  | { hang: true }
  | { safety: 'prompt' | 'candidate' }
  /** Streams `stall` as a first delta, then goes silent until aborted (generate treats it as a hang). */
  | { stall: string };

/**
 * A port-level fake provider (no SDK involved): answers from a script, per model, and records every
 * request. Used to drive the LlmService's retry, fallback and breaker logic deterministically.
 */
export class ScriptedProvider extends LlmProvider {
  readonly name = 'openai' as const;
  readonly simulated = false;
  /** `at`: on the monotonic clock, as the holds and backoffs it measures are. */
  readonly calls: { model: string; at: number; prompt: string }[] = [];
  private readonly scripts = new Map<string, Step[]>();
  fallbackStep: Step = { ok: 'default answer' };

  script(model: string, ...steps: Step[]): this {
    this.scripts.set(model, steps);
    return this;
  }

  async generate(request: LlmGenerateRequest): Promise<LlmGenerateResult> {
    this.calls.push({ model: request.model, at: performance.now(), prompt: request.prompt });
    const step = this.scripts.get(request.model)?.shift() ?? this.fallbackStep;
    const details = { provider: this.name, model: request.model };
    if ('hang' in step || 'stall' in step) {
      return new Promise<never>((_, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason as Error), { once: true }),
      );
    }
    if ('fail' in step) {
      throw new LlmProviderError(step.fail, step.message ?? `scripted ${step.fail}`, {
        ...details,
        status: step.status,
        retryAfterMs: step.retryAfterMs,
        ...(step.providerCode !== undefined ? { providerCode: step.providerCode } : {}),
        ...(step.param !== undefined ? { param: step.param } : {}),
      });
    }
    if ('safety' in step) {
      return {
        text: '',
        model: request.model,
        finishReason: 'safety',
        safetyBlock: { stage: step.safety, reason: 'SAFETY' },
      };
    }
    if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    return {
      text: step.ok,
      model: `${request.model}-001`,
      finishReason: step.finish ?? 'stop',
      rawFinishReason: (step.finish ?? 'stop').toUpperCase(),
      usage: step.usage,
      ...(step.toolCalls !== undefined ? { toolCalls: step.toolCalls } : {}),
    };
  }

  async *stream(request: LlmGenerateRequest): AsyncIterable<LlmStreamEvent> {
    const next = this.scripts.get(request.model)?.[0];
    if (next && 'stall' in next) {
      this.scripts.get(request.model)?.shift();
      this.calls.push({ model: request.model, at: performance.now(), prompt: request.prompt });
      yield { type: 'delta', text: next.stall };
      await new Promise<never>((_, reject) =>
        request.signal.addEventListener(
          'abort',
          () =>
            reject(
              // As the real adapters say it: in the words of the timer that fired (upstream-errors' timeoutText).
              new LlmProviderError('timeout', `stalled stream aborted: ${timeoutText(request.signal)}`, {
                provider: this.name,
                model: request.model,
              }),
            ),
          { once: true },
        ),
      );
    }
    const chunkDelayMs = next && 'ok' in next ? next.chunkDelayMs : undefined;
    const result = await this.generate(request);
    for (const word of result.text.split(' ').filter((w) => w !== '')) {
      if (request.signal.aborted) {
        throw new LlmProviderError('timeout', 'stream aborted', { provider: this.name, model: request.model });
      }
      yield { type: 'delta', text: `${word} ` };
      if (chunkDelayMs) await new Promise((r) => setTimeout(r, chunkDelayMs));
    }
    yield { type: 'done', result };
  }
}
