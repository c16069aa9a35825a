/**
 * What a 503 NO_CAPACITY names as saturated: the event loop or the heap (load shed at admission), the hard cap on
 * calls in flight (LLM_MAX_CONCURRENCY), or the provider's own rate limit (a model held after a 429).
 */
export type SaturatedResource = 'event_loop' | 'heap' | 'concurrency' | 'provider_rate_limit';

export const SATURATED_RESOURCES: readonly SaturatedResource[] = [
  'event_loop',
  'heap',
  'concurrency',
  'provider_rate_limit',
];

export interface SaturationThresholds {
  /** Event-loop utilisation (0–1) at or over which the loop counts as saturated; 0: off. */
  elu: number;
  /** Event-loop delay p99 (ms) at or over which the loop counts as saturated; 0: off. */
  eventLoopDelayMs: number;
  /** Heap used over the heap limit (0–1) at or over which the heap counts as saturated; 0: off. */
  heapRatio: number;
  /** How long a signal must stay over its threshold, every sample, before load is shed. */
  sustainMs: number;
}

/** One sample of the process, over the interval since the previous one. */
export interface SaturationSample {
  at: number;
  elu: number;
  eventLoopDelayP99Ms: number;
  heapRatio: number;
}

type Signal = 'elu' | 'delay' | 'heap';

/**
 * Whether the process is saturated, from samples: a signal counts once every sample has been over its threshold for
 * `sustainMs` (a burst of a second does not shed load; a loop busy for the whole window does); one sample under it
 * clears it. The event loop (utilisation or delay) is named before the heap.
 */
export class SaturationTracker {
  private readonly overSince = new Map<Signal, number>();

  constructor(private readonly thresholds: SaturationThresholds) {}

  get enabled(): boolean {
    const t = this.thresholds;
    return t.elu > 0 || t.eventLoopDelayMs > 0 || t.heapRatio > 0;
  }

  update(sample: SaturationSample): 'event_loop' | 'heap' | undefined {
    const t = this.thresholds;
    this.track('elu', t.elu > 0 && sample.elu >= t.elu, sample.at);
    this.track('delay', t.eventLoopDelayMs > 0 && sample.eventLoopDelayP99Ms >= t.eventLoopDelayMs, sample.at);
    this.track('heap', t.heapRatio > 0 && sample.heapRatio >= t.heapRatio, sample.at);
    if (this.sustained('elu', sample.at) || this.sustained('delay', sample.at)) return 'event_loop';
    if (this.sustained('heap', sample.at)) return 'heap';
    return undefined;
  }

  private track(signal: Signal, over: boolean, at: number): void {
    if (!over) this.overSince.delete(signal);
    else if (!this.overSince.has(signal)) this.overSince.set(signal, at);
  }

  private sustained(signal: Signal, at: number): boolean {
    const since = this.overSince.get(signal);
    return since !== undefined && at - since >= this.thresholds.sustainMs;
  }
}
