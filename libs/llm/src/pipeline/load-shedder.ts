import { Injectable } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import type { LlmCallInput } from '../llm-call.types';
import { LlmProvider } from '../ports/llm-provider.port';
import { SATURATION_SAMPLE_MS, SaturationMonitor } from '../reliability/saturation-monitor';
import { FailureMapper } from './failure-mapper';

/**
 * Admission: a call arriving while the process is saturated (`SaturationMonitor`: the event loop or the heap, over
 * their LLM_SHED_* thresholds for LLM_SHED_SUSTAIN_MS) is refused before any work, 503 NO_CAPACITY naming the
 * resource, Retry-After 1 s, counted in `llm.shed.count`. A field read per call.
 */
@Injectable()
export class LoadShedder {
  private readonly why: Record<'event_loop' | 'heap', string>;

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
  }

  /** Throws 503 NO_CAPACITY when the process is saturated. */
  admit(input: LlmCallInput, model: string): void {
    const resource = this.saturation.saturated;
    if (resource === undefined) return;
    this.telemetry.shed(input.endpoint, this.provider.name, resource);
    throw this.failures.saturated(resource, this.why[resource], SATURATION_SAMPLE_MS, {
      model,
      modelsTried: [],
      attempts: 0,
      lastUpstreamStatus: null,
    });
  }
}
