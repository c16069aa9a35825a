import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LoggerModule } from 'nestjs-pino';
import { BasicTextRedactor, TextRedactor } from '@app/common';
import { ConfigModule } from '@app/config';
import { LedgerModule, LedgerStore, ResponseCacheStore, UsageLedger } from '@app/ledger';
import { MlModule } from '@app/ml';
import {
  InMemoryMetrics,
  LogSanitizer,
  MetricsPort,
  NoopTracer,
  type EvaluationInput,
  type LlmSpanAnnotation,
  type LlmSpanHandle,
  type LlmSpanOptions,
  ReadinessRegistry,
  type SpanTags,
  type SpanTagValue,
  TracerPort,
  type WorkflowSpanOptions,
} from '@app/telemetry';
import { NO_DRILLS, type LlmCallInput } from '../../libs/llm/src/llm-call.types';
import { LlmService } from '../../libs/llm/src/llm.service';
import { CallBookkeeping } from '../../libs/llm/src/pipeline/call-bookkeeping';
import { CircuitBreakers } from '../../libs/llm/src/pipeline/circuit-breakers';
import { DEFAULT_LLM_DRILLS, LlmDrillsOptions } from '../../libs/llm/src/pipeline/llm-drills';
import { LLM_PIPELINE_PROVIDERS } from '../../libs/llm/src/pipeline/llm-pipeline.providers';
import { LoadShedder } from '../../libs/llm/src/pipeline/load-shedder';
import { ResponseCache } from '../../libs/llm/src/pipeline/response-cache';
import { LlmProvider } from '../../libs/llm/src/ports/llm-provider.port';
import { PriceTable, shippedPriceTable } from '../../libs/llm/src/pricing/price-table';
import { ModelRouter } from '../../libs/llm/src/routing/model-router';
import { TokenEstimator } from '../../libs/llm/src/tokens/token-estimator';
import { testConfig } from './app-config';
import type { ScriptedProvider } from './scripted-provider';

/** The LLM pipeline's unit specs: LlmService and its parts in a Nest testing module, on a scripted provider. */

export const input = (prompt = 'What is the capital of France?'): LlmCallInput => ({
  endpoint: 'reason',
  userText: prompt,
  prompt,
  drills: NO_DRILLS,
});

/** The call's records are made at the latest 2 ms after its answer (BOOKKEEPING_MAX_DELAY_MS). */
export const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

export async function answered<T>(call: Promise<T>): Promise<T> {
  const result = await call;
  await settled();
  return result;
}

/** A tracer that remembers the LLM spans asked for (whether each goes to LLM Observability). */
export class RecordingTracer extends NoopTracer {
  readonly llmSpans: LlmSpanOptions[] = [];
  /** The messages of the errors that ended an LLM span (what the dd-trace adapter puts on it). */
  readonly spanErrors: string[] = [];
  /** The tags put on the request's span (`tagRequest`), in order. */
  readonly requestTags: SpanTags[] = [];

  override tagRequest(tags: SpanTags): void {
    this.requestTags.push(tags);
  }

  /**
   * Off by default (every span is the no-op span). On: the LLM Observability spans (`llmobs` true) are `RecordedSpan`s,
   * kept in `recorded` (workflow spans and attempts, in the order they opened), and evaluations in `evaluations`.
   */
  recordSpans = false;
  readonly recorded: RecordedSpan[] = [];
  readonly evaluations: { ref: unknown; label: string }[] = [];

  override async llmSpan<T>(options: LlmSpanOptions, fn: (span: LlmSpanHandle) => Promise<T>): Promise<T> {
    this.llmSpans.push(options);
    try {
      if (this.recordSpans && options.llmobs !== false) {
        const span = new RecordedSpan('llm', options.name);
        this.recorded.push(span);
        return await fn(span);
      }
      return await super.llmSpan(options, fn);
    } catch (error) {
      this.spanErrors.push(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  override workflowSpan<T>(options: WorkflowSpanOptions, fn: (span: LlmSpanHandle) => T): T {
    if (!this.recordSpans || !options.llmobs) return super.workflowSpan(options, fn);
    const span = new RecordedSpan('workflow', options.name);
    this.recorded.push(span);
    return fn(span);
  }

  override submitEvaluation(ref: unknown, evaluation: EvaluationInput): void {
    if (Array.isArray(ref)) for (const each of ref) this.submitEvaluation(each, evaluation);
    else if (ref !== undefined) this.evaluations.push({ ref, label: evaluation.label });
  }
}

/** An LLM Observability span of `RecordingTracer`: what was done to it, in order. */
export class RecordedSpan implements LlmSpanHandle {
  readonly owned = true;
  /** `annotate`, `drop`, `finish`, `error` in the order they came. */
  readonly events: string[] = [];
  readonly annotations: LlmSpanAnnotation[] = [];
  readonly tags: SpanTags = {};

  constructor(
    readonly kind: 'workflow' | 'llm',
    readonly name: string,
  ) {}

  get dropped(): boolean {
    return this.events.includes('drop');
  }

  get finished(): boolean {
    return this.events.includes('finish');
  }

  setTag(key: string, value: SpanTagValue): void {
    this.tags[key] = value;
  }
  addTags(tags: SpanTags): void {
    Object.assign(this.tags, tags);
  }
  setError(): void {
    this.events.push('error');
  }
  finish(): void {
    this.events.push('finish');
  }
  annotate(annotation: LlmSpanAnnotation): void {
    this.events.push('annotate');
    this.annotations.push(annotation);
  }
  dropLlmObs(): void {
    this.events.push('drop');
  }
  evaluationRef(): unknown {
    return this;
  }
}

export async function buildLlmPipeline(env: Record<string, string>, provider: ScriptedProvider) {
  const config = testConfig({
    LLM_PROVIDER: 'simulated',
    LLM_MODEL: 'gemini-2.5-flash',
    LLM_RETRY_BASE_MS: '5',
    LLM_RETRY_MAX_MS: '50',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'lrcp-llm-spec-')),
    ...env,
  });
  const metrics = new InMemoryMetrics();
  const tracer = new RecordingTracer();
  @Global()
  @Module({
    providers: [
      { provide: MetricsPort, useValue: metrics },
      { provide: TracerPort, useValue: tracer },
      { provide: TextRedactor, useClass: BasicTextRedactor },
      LogSanitizer,
      ReadinessRegistry,
    ],
    exports: [MetricsPort, TracerPort, TextRedactor, LogSanitizer, ReadinessRegistry],
  })
  class TestTelemetryModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forConfig(config),
      TestTelemetryModule,
      LoggerModule.forRoot({ pinoHttp: { level: 'silent' } }),
      MlModule,
      LedgerModule,
    ],
    providers: [
      { provide: LlmProvider, useValue: provider },
      { provide: PriceTable, useValue: new PriceTable(shippedPriceTable()) },
      { provide: LlmDrillsOptions, useValue: DEFAULT_LLM_DRILLS },
      TokenEstimator,
      ...LLM_PIPELINE_PROVIDERS,
    ],
  }).compile();
  await moduleRef.init();
  return {
    service: moduleRef.get(LlmService),
    breakers: moduleRef.get(CircuitBreakers),
    readiness: moduleRef.get(ReadinessRegistry),
    router: moduleRef.get(ModelRouter),
    bookkeeping: moduleRef.get(CallBookkeeping),
    shedder: moduleRef.get(LoadShedder),
    metrics,
    tracer,
    ledger: moduleRef.get(UsageLedger),
    ledgerStore: moduleRef.get(LedgerStore),
    cache: moduleRef.get(ResponseCache),
    cacheStore: moduleRef.get(ResponseCacheStore),
  };
}

export const named = (metrics: InMemoryMetrics, name: string) => metrics.named(name);
