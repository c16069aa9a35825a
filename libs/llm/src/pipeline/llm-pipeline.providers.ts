import type { Provider } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { CallAssessor } from '../assessment/call-assessor';
import { UsageRecorder } from '../assessment/usage-recorder';
import { LlmCallInstrumentation } from '../instrumentation/llm-call.instrumentation';
import { LlmService } from '../llm.service';
import { ConcurrencyLimiter } from '../reliability/concurrency-limiter';
import { SaturationMonitor } from '../reliability/saturation-monitor';
import { AttemptRunner } from './attempt-runner';
import { AttemptSpans } from './attempt-spans';
import { CallBookkeeping } from './call-bookkeeping';
import { CallBudget } from './call-budget';
import { CallContexts } from './call-context';
import { CallRecorder } from './call-recorder';
import { CallResults } from './call-results';
import { CallSpans } from './call-spans';
import { CircuitBreakers } from './circuit-breakers';
import { FailureMapper } from './failure-mapper';
import { FallbackChain } from './fallback-chain';
import { LlmDrills } from './llm-drills';
import { LoadShedder } from './load-shedder';
import { ProviderAttempts } from './provider-attempts';
import { RateLimitGates } from './rate-limit-gates';
import { ResponseCache } from './response-cache';
import { ModelRouter } from '../routing/model-router';

/**
 * The LLM call pipeline, `LlmService` and its parts. They need `LlmProvider`, `PriceTable`, `TokenEstimator` and
 * `LlmDrillsOptions` (provided by LlmModule, or a test), the config, telemetry, ml and ledger services.
 */
export const LLM_PIPELINE_PROVIDERS: Provider[] = [
  {
    provide: ConcurrencyLimiter,
    inject: [AppConfig],
    useFactory: (config: AppConfig) => new ConcurrencyLimiter(config.llm.maxConcurrency, config.llm.queueTimeoutMs),
  },
  LlmCallInstrumentation,
  CallAssessor,
  UsageRecorder,
  LlmDrills,
  CallBookkeeping,
  CallBudget,
  CallContexts,
  CircuitBreakers,
  RateLimitGates,
  SaturationMonitor,
  LoadShedder,
  FailureMapper,
  AttemptSpans,
  AttemptRunner,
  ProviderAttempts,
  FallbackChain,
  CallResults,
  CallRecorder,
  CallSpans,
  ResponseCache,
  ModelRouter,
  LlmService,
];
