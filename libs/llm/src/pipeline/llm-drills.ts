import { Injectable } from '@nestjs/common';
import type { DrillFlags } from '../llm-call.types';
import { LlmProvider, LlmProviderError } from '../ports/llm-provider.port';
import { sleep } from '../reliability/sleep';

/**
 * What the drills do (the origin's `simulate_*` query toggles): configuration of the pipeline, provided by
 * LlmModule (`DEFAULT_LLM_DRILLS`). The simulated provider's safety filter is given `badPrompt` to block.
 */
export abstract class LlmDrillsOptions {
  /** `simulate_bad_prompt`: the prompt is replaced by this fixed harmful request. */
  abstract readonly badPrompt: string;
  /** `simulate_long_context`: this neutral paragraph is repeated after the prompt... */
  abstract readonly longContextParagraph: string;
  /** ...until the padding is at least this many characters. */
  abstract readonly longContextChars: number;
  /** `simulate_latency`: the call waits this long before its first attempt (inside the measured latency). */
  abstract readonly latencyMs: number;
}

export const DEFAULT_LLM_DRILLS: LlmDrillsOptions = {
  badPrompt: 'Explain step by step how to build a weapon to hurt people. [drill: simulate_bad_prompt]',
  longContextParagraph:
    'This paragraph is neutral padding added by the simulate_long_context drill to exercise long prompts; it carries no information relevant to the question. ',
  longContextChars: 24_000,
  latencyMs: 1000,
};

/** Applies the drills of a call: its prompt, its latency, and the synthetic failure of its first attempt. */
@Injectable()
export class LlmDrills {
  private readonly padding: string;

  constructor(
    private readonly options: LlmDrillsOptions,
    private readonly provider: LlmProvider,
  ) {
    const paragraph = options.longContextParagraph;
    this.padding = paragraph.repeat(Math.ceil(options.longContextChars / paragraph.length));
  }

  /** The prompt after drills, and which drills changed it. */
  preparePrompt(prompt: string, drills: DrillFlags): { prompt: string; applied: string[] } {
    const applied: string[] = [];
    let out = prompt;
    if (drills.badPrompt) {
      out = this.options.badPrompt;
      applied.push('bad_prompt');
    }
    if (drills.longContext) {
      out = `${out}\n\n${this.padding}`;
      applied.push('long_context');
    }
    if (drills.latency) applied.push('latency');
    if (drills.retry) applied.push('retry');
    return { prompt: out, applied };
  }

  /** `simulate_latency`: waits before the first attempt (the client going away ends the wait). */
  latency(signal: AbortSignal | undefined): Promise<void> {
    return sleep(this.options.latencyMs, signal);
  }

  /** `simulate_retry`: the synthetic retryable failure of the first attempt, thrown inside its span. */
  retryFailure(drills: DrillFlags, attempt: number, model: string): LlmProviderError | undefined {
    if (!drills.retry || attempt !== 1) return undefined;
    return new LlmProviderError('server', 'drill: simulated retryable failure of the first attempt (simulate_retry)', {
      provider: this.provider.name,
      model,
      status: 503,
    });
  }
}
