import type { QualityReport } from '@app/ml';
import type { FinishReason, LlmUsage } from '../ports/llm-provider.port';
import type { CostBreakdown } from '../pricing/price-table';

/** Bumped when the key's inputs or the payload change: older entries are simply never hit again. */
export const KEY_VERSION = 2;

/** What a cached answer keeps: the answer text and the answering call's facts. Never the prompt. */
export interface CachedAnswer {
  v: typeof KEY_VERSION;
  provider: string;
  simulated: boolean;
  model: string;
  modelVersion: string;
  requestedModel: string;
  answer: string;
  finishReason: FinishReason;
  rawFinishReason?: string;
  usage: LlmUsage;
  cost: CostBreakdown;
  quality?: QualityReport;
}

/** A lookup that found an answer: the answer, when it was stored and what the call it repeats cost. */
export interface CacheHit {
  cached: CachedAnswer;
  ageS: number;
}

/** What a response served from the cache says (`metadata.cache`). */
export interface CacheInfo {
  hit: true;
  /** Seconds since the answer was stored. */
  ageS: number;
  /** What the cached call cost (null: an unpriced model): what this hit saved. */
  savedCostUsd: number | null;
}

/**
 * Text as the key sees it: Unicode NFC, line ends as `\n`, trailing spaces of each line and the ends trimmed. Two
 * prompts that differ only in those are the same call; any other difference (case, inner spacing) is another call.
 */
export function normaliseText(text: string): string {
  return (
    text
      .normalize('NFC')
      .replace(/\r\n?/g, '\n')
      // A run of spaces is matched from its first character only (the lookbehind): `/[ \t]+\n/` tried again from
      // every space of a run that ends without a line end, quadratic (a 64 KB prompt of spaces held the event loop
      // 5 s; a 1 MB body, minutes).
      .replace(/(?<![ \t])[ \t]+\n/g, '\n')
      .trim()
  );
}

/** A stored payload, checked: anything else throws (and the lookup is a miss). */
export function parseCached(payload: string): CachedAnswer {
  const value = JSON.parse(payload) as Partial<CachedAnswer> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    value.v !== KEY_VERSION ||
    typeof value.answer !== 'string' ||
    typeof value.model !== 'string' ||
    typeof value.provider !== 'string' ||
    typeof value.usage !== 'object' ||
    typeof value.cost !== 'object'
  ) {
    throw new Error('a cached entry has an unexpected shape');
  }
  return value as CachedAnswer;
}
