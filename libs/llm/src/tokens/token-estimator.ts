import type { OnApplicationBootstrap } from '@nestjs/common';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';

/**
 * Token counts when a provider reports none: a real BPE tokenizer (cl100k_base: o200k_base costs 140 MB of RSS against 87 MB, for an estimate either way). Gemini's tokenizer
 * differs, so values from here are always marked `tokens_estimated: true`. Very long texts are
 * counted on a sample and scaled, to keep the cost bounded.
 */
export class TokenEstimator implements OnApplicationBootstrap {
  private static readonly EXACT_LIMIT = 20_000;
  private static readonly WARM_UP_DELAY_MS = 2000;
  private encoderInstance?: Tiktoken;

  /** Built lazily: building the BPE ranks costs about 0.4 s, kept off the boot path (cold start). */
  private get encoder(): Tiktoken {
    this.encoderInstance ??= new Tiktoken(cl100k);
    return this.encoderInstance;
  }

  /** Builds the encoder shortly after start, so that neither the boot nor a request pays for it. */
  onApplicationBootstrap(): void {
    setTimeout(() => this.count('warm up'), TokenEstimator.WARM_UP_DELAY_MS).unref();
  }

  count(text: string): number {
    if (text.length === 0) return 0;
    if (text.length <= TokenEstimator.EXACT_LIMIT) return this.encoder.encode(text).length;
    const sample = text.slice(0, TokenEstimator.EXACT_LIMIT);
    const perChar = this.encoder.encode(sample).length / sample.length;
    return Math.round(perChar * text.length);
  }
}
