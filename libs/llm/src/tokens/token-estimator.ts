import type { OnApplicationBootstrap } from '@nestjs/common';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { BpeCounter } from './bpe-counter';

/**
 * Token counts when a provider reports none: a real BPE tokenizer (cl100k_base ranks, counted by
 * BpeCounter: equal to js-tiktoken's counts, 6 MB of heap instead of 33, 4x faster). Gemini's tokenizer
 * differs, so values from here are always marked `tokens_estimated: true`. Very long texts are
 * counted on a sample and scaled, to keep the cost bounded: SAMPLES slices spread evenly from the first character
 * to the last, so that a prompt whose parts differ (English instructions, then a Chinese document: 4 characters a
 * token, then about 1) is weighed by all of them, not by its head alone.
 */
export class TokenEstimator implements OnApplicationBootstrap {
  private static readonly EXACT_LIMIT = 20_000;
  private static readonly SAMPLES = 32;
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
    const width = TokenEstimator.EXACT_LIMIT / TokenEstimator.SAMPLES;
    const stride = (text.length - width) / (TokenEstimator.SAMPLES - 1);
    let tokens = 0;
    let chars = 0;
    for (let i = 0; i < TokenEstimator.SAMPLES; i += 1) {
      let start = Math.round(i * stride);
      let end = start + width;
      if (isLowSurrogate(text.charCodeAt(start))) start += 1; // never half a pair: it would count as a token of its own
      if (isLowSurrogate(text.charCodeAt(end))) end += 1;
      tokens += this.encoder.count(text.slice(start, end));
      chars += end - start;
    }
    const perChar = tokens / chars;
    return Math.round(perChar * text.length);
  }
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
