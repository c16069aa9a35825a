import { type ELDHistogram, monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { type SaturationSample, SaturationTracker } from './saturation';

/** How often the process is sampled (ELU and delay over the interval, heap at its end). */
export const SATURATION_SAMPLE_MS = 500;
/** The delay histogram's resolution: its own timer's period, taken off the percentile. */
const DELAY_RESOLUTION_MS = 10;

/**
 * The process's saturation, sampled every 500 ms: event-loop utilisation and delay p99 over the interval, heap used
 * over the heap limit (LLM_SHED_*, sustained for LLM_SHED_SUSTAIN_MS; `SaturationTracker`). The admission step reads
 * `saturated`, a field: nothing is measured per call. Off (no timer, no histogram) when every threshold is 0.
 */
@Injectable()
export class SaturationMonitor implements OnModuleInit, OnModuleDestroy {
  /** The saturated resource, or undefined while the process has headroom. */
  saturated: 'event_loop' | 'heap' | undefined;
  private readonly tracker: SaturationTracker;
  private timer?: NodeJS.Timeout;
  private delay?: ELDHistogram;
  private lastElu?: EventLoopUtilization;
  private readonly heapLimit = getHeapStatistics().heap_size_limit;

  constructor(config: AppConfig) {
    this.tracker = new SaturationTracker(config.llm.shed);
  }

  onModuleInit(): void {
    if (!this.tracker.enabled) return;
    this.delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
    this.delay.enable();
    this.lastElu = performance.eventLoopUtilization();
    this.timer = setInterval(() => this.update(this.sample()), SATURATION_SAMPLE_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.delay?.disable();
  }

  /** Feeds one sample (the timer's, or a test's) and returns the saturated resource. */
  update(sample: SaturationSample): 'event_loop' | 'heap' | undefined {
    this.saturated = this.tracker.update(sample);
    return this.saturated;
  }

  private sample(): SaturationSample {
    const elu = performance.eventLoopUtilization();
    const utilization = this.lastElu ? performance.eventLoopUtilization(elu, this.lastElu).utilization : 0;
    this.lastElu = elu;
    let p99 = 0;
    if (this.delay) {
      p99 = Math.max(0, this.delay.percentile(99) / 1e6 - DELAY_RESOLUTION_MS);
      this.delay.reset();
    }
    return {
      at: performance.now(),
      elu: utilization,
      eventLoopDelayP99Ms: p99,
      heapRatio: getHeapStatistics().used_heap_size / this.heapLimit,
    };
  }
}
