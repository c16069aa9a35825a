import type { OnApplicationBootstrap } from '@nestjs/common';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { BpeCounter } from './bpe-counter';

/**
 * Token counts when a provider reports none: a real BPE tokenizer (cl100k_base ranks, counted by
 * BpeCounter: equal to js-tiktoken's counts, 6 MB of heap instead of 33, 4x faster). Gemini's tokenizer
 * differs, so values from here are always marked `tokens_estimated: true`. Very long texts are
 * counted on a sample and scaled, to keep the cost bounded.
 */
export class TokenEstimator implements OnApplicationBootstrap {
  private static readonly EXACT_LIMIT = 20_000;
  private static readonly WARM_UP_DELAY_MS = 2000;
  private encoderInstance?: BpeCounter;

  /** Built lazily: building the BPE ranks costs about 0.1 s, kept off the boot path (cold start). */
  private get encoder(): BpeCounter {
    this.encoderInstance ??= new BpeCounter(cl100k);
    return this.encoderInstance;
  }

  /** Builds the encoder shortly after start, so that neither the boot nor a request pays for it. */
  onApplicationBootstrap(): void {
    setTimeout(() => this.count('warm up'), TokenEstimator.WARM_UP_DELAY_MS).unref();
  }

  count(text: string): number {
    if (text.length === 0) return 0;
    if (text.length <= TokenEstimator.EXACT_LIMIT) return this.encoder.count(text);
    const sample = text.slice(0, TokenEstimator.EXACT_LIMIT);
    const perChar = this.encoder.count(sample) / sample.length;
    return Math.round(perChar * text.length);
  }
}
