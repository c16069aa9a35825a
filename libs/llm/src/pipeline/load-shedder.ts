import { getHeapStatistics } from 'node:v8';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import type { LlmCallInput } from '../llm-call.types';
import { LlmProvider } from '../ports/llm-provider.port';
import type { SaturatedResource } from '../reliability/saturation';
import { SATURATION_SAMPLE_MS, SaturationMonitor } from '../reliability/saturation-monitor';
import { FailureMapper } from './failure-mapper';

/**
 * Heap a call's input is taken to hold while the call is in flight, per character of its prompt and document: two
 * copies (the request's parsed body and the prompt or conversation text the call works on), two bytes each (V8 keeps
 * a string with any character past U+00FF at two bytes a character). Measured on the built service: a /v1 call of
 * 900 KB of ASCII held about 1.8 MB of heap while its upstream answered.
 */
export const INPUT_HEAP_BYTES_PER_CHAR = 4;

/** The inputs of the calls in flight may take at most this share of LLM_SHED_HEAP_RATIO × the heap limit. */
export const INPUT_HEAP_SHARE = 0.5;

/**
 * Admission: a call arriving while the process is saturated (`SaturationMonitor`: the event loop or the heap, over
 * their LLM_SHED_* thresholds for LLM_SHED_SUSTAIN_MS) is refused before any work, 503 NO_CAPACITY naming the
 * resource, Retry-After 1 s, counted in `llm.shed.count`. A field read per call.
 *
 * The heap of the calls' inputs is also counted as they are admitted (`INPUT_HEAP_BYTES_PER_CHAR` a character of
 * prompt, document, and a chat call's tools and response schema: `inputChars`) and given back when each call is recorded (`release`): a call whose input would take the total
 * past `INPUT_HEAP_SHARE` of LLM_SHED_HEAP_RATIO × the heap limit is refused at once, `heap`. The sampled heap signal
 * needs LLM_SHED_SUSTAIN_MS to shed, and a burst of large prompts fills the heap faster: 300 chat calls of 900 KB
 * at once against a slow upstream ran the 320 MB heap out (a crash, every call in flight lost) within 2 s, before any
 * sample. A call arriving when nothing is held is always admitted (the body limit bounds it).
 */
@Injectable()
export class LoadShedder {
  private readonly why: Record<'event_loop' | 'heap', string>;
  /** The most the inputs of the calls in flight may hold (bytes, estimated); 0: not counted (LLM_SHED_HEAP_RATIO=0). */
  private readonly inputCeiling: number;
  /** What the inputs of the calls admitted and not yet released hold (bytes, estimated). */
  private held = 0;

  constructor(
    config: AppConfig,
    private readonly saturation: SaturationMonitor,
    private readonly failures: FailureMapper,
    private readonly telemetry: LlmCallInstrumentation,
    private readonly provider: LlmProvider,
  ) {
    const { shed } = config.llm;
    const sustained = `for ${shed.sustainMs} ms (LLM_SHED_SUSTAIN_MS)`;
    this.why = {
      event_loop: `the event loop is saturated: utilisation at or over ${shed.elu} (LLM_SHED_ELU) or delay p99 at or over ${shed.eventLoopDelayMs} ms (LLM_SHED_EVENT_LOOP_DELAY_MS) ${sustained}`,
      heap: `the heap is over ${shed.heapRatio} of its limit (LLM_SHED_HEAP_RATIO) ${sustained}`,
    };
    this.inputCeiling = Math.floor(shed.heapRatio * INPUT_HEAP_SHARE * getHeapStatistics().heap_size_limit);
  }

  /** The heap the inputs of the calls in flight hold (bytes, estimated). */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * Throws 503 NO_CAPACITY when the process is saturated, or when this call's input would not fit beside those of
   * the calls in flight; otherwise counts its input and returns what to `release` when the call is recorded.
   */
  admit(input: LlmCallInput, model: string): number {
    const resource = this.saturation.saturated;
    if (resource !== undefined) throw this.refuse(input, model, resource, this.why[resource]);
    const bytes = INPUT_HEAP_BYTES_PER_CHAR * inputChars(input);
    if (this.inputCeiling > 0 && this.held > 0 && this.held + bytes > this.inputCeiling) {
      throw this.refuse(
        input,
        model,
        'heap',
        `the prompts of the calls in flight hold about ${mib(this.held)} MiB of heap and this one ${mib(bytes)} MiB more would pass ${mib(this.inputCeiling)} MiB (half of LLM_SHED_HEAP_RATIO × the heap limit)`,
      );
    }
    this.held += bytes;
    return bytes;
  }

  /** A call admitted with `bytes` (what `admit` returned) is over: its input no longer counts. */
  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  private refuse(input: LlmCallInput, model: string, resource: SaturatedResource, why: string): Error {
    this.telemetry.shed(input.endpoint, this.provider.name, resource);
    return this.failures.saturated(resource, why, SATURATION_SAMPLE_MS, {
      model,
      modelsTried: [],
      attempts: 0,
      lastUpstreamStatus: null,
    });
  }
}

/**
 * The characters of a call's input: its prompt (a chat call's whole conversation), its document, and a chat call's
 * tool definitions and response schema (kept apart from the conversation: 128 tools of 7 KB, a body under the limit,
 * were not counted, and 300 such calls at once still ran the heap out).
 */
export function inputChars(input: LlmCallInput): number {
  const chat = input.chat;
  const extra = chat ? textChars(chat.tools) + textChars(chat.responseFormat) : 0;
  return input.prompt.length + (input.document?.length ?? 0) + extra;
}

/** The characters of the strings (keys included) in a parsed JSON value. */
function textChars(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + textChars(item), 0);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).reduce((sum, [key, item]) => sum + key.length + textChars(item), 0);
  return 0;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
