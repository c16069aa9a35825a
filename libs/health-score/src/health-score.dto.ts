import { ApiDateTime, ApiInteger } from '@app/common';
import { IsIn, IsOptional } from 'class-validator';
import type { HealthAssessment, HealthStatus, HealthWindowName } from './health-score.types';
import type { HealthReport } from './health-score.service';

export class HealthScoreQueryDto {
  /** The window: the last 5 minutes (default) or the last hour, ending on the last step boundary. */
  @IsOptional()
  @IsIn(['5m', '1h'])
  window?: HealthWindowName = '5m';
}

export class HealthComponentsDto {
  /** p95 latency against HEALTH_LATENCY_SLO_MS, 0-100; null with no latency measured. */
  performance!: number | null;
  /** Errors, timeouts and retries per call, 0-100. */
  reliability!: number | null;
  /** Spend per priced call against HEALTH_COST_PER_REQUEST_USD, and the spend pace against DAILY_BUDGET_USD. */
  cost!: number | null;
  /** Mean quality score, ungrounded and failure-to-answer rates of answered calls; null with no answer. */
  quality!: number | null;
  /** Safety blocks, prompt injections, PII and token abuse per call. */
  security!: number | null;
}

export class HealthSignalsDto {
  /** Calls in the window (aborted ones included). */
  @ApiInteger()
  requests!: number;
  /** Median latency, ms, interpolated from the same bucket counts as p95; aborted calls excluded. */
  p50LatencyMs!: number | null;
  /** p95 latency, ms, interpolated from bucket counts (at most 4 × the SLO); aborted calls excluded. */
  p95LatencyMs!: number | null;
  meanLatencyMs!: number | null;
  /** Failed calls per call. */
  errorRate!: number | null;
  /** Calls that failed on a timeout, per call. */
  timeoutRate!: number | null;
  /**
   * Retries per call. A model's counts its own only: not those of the calls that fell back to it, which were the
   * failed model's attempts (docs/health-score.md).
   */
  retriesPerRequest!: number | null;
  /**
   * Spend per priced call answered or billed, USD: a failed (or blocked, aborted) call that cost nothing is not
   * counted, so an outage does not read as cheaper calls; null when there is none.
   */
  costPerRequestUsd!: number | null;
  /**
   * The window's spend extrapolated to a day, over DAILY_BUDGET_USD; null without a budget, or without a priced call
   * (a model missing from the price table: its spend is unknown, not $0).
   */
  budgetPace!: number | null;
  /** Mean quality score of the scored answers, 0-1. */
  meanQuality!: number | null;
  /** Share of answered calls flagged ungrounded. */
  ungroundedRate!: number | null;
  /** Share of answered calls flagged failure to answer. */
  failureToAnswerRate!: number | null;
  safetyBlockRate!: number | null;
  promptInjectionRate!: number | null;
  piiRate!: number | null;
  tokenAbuseRate!: number | null;
}

export class HealthAssessmentDto {
  /** 0-100 (2 decimals); null when the window holds no call. */
  score!: number | null;
  /** healthy (≥ 80), degraded (≥ 60), critical, or no_data. */
  status!: HealthStatus;
  components!: HealthComponentsDto;
  signals!: HealthSignalsDto;
}

export class ModelHealthDto extends HealthAssessmentDto {
  model!: string;
}

export class EndpointHealthDto extends HealthAssessmentDto {
  endpoint!: string;
}

export class HealthScoreWindowDto {
  /** 5m or 1h. */
  name!: HealthWindowName;
  /** Start (inclusive) and end (exclusive) of the window, ISO 8601; the end is a multiple of HEALTH_WINDOW_STEP_MS. */
  @ApiDateTime()
  from!: string;
  @ApiDateTime()
  to!: string;
  /** Length in ms (HEALTH_WINDOW_SHORT_MS or HEALTH_WINDOW_LONG_MS). */
  @ApiInteger()
  durationMs!: number;
}

export class HealthScoreResponseDto {
  /** Overall score 0-100 (2 decimals); null when the window holds no call. */
  score!: number | null;
  status!: HealthStatus;
  components!: HealthComponentsDto;
  signals!: HealthSignalsDto;
  window!: HealthScoreWindowDto;
  /** The component weights in use (HEALTH_WEIGHTS). */
  weights!: HealthComponentsDto;
  models!: ModelHealthDto[];
  endpoints!: EndpointHealthDto[];
}

const assessment = (a: HealthAssessment): HealthAssessmentDto => ({
  score: a.score,
  status: a.status,
  components: { ...a.components },
  signals: { ...a.signals },
});

export function toHealthScoreResponse(report: HealthReport, weights: HealthComponentsDto): HealthScoreResponseDto {
  return {
    ...assessment(report.overall),
    window: {
      name: report.window,
      from: new Date(report.from).toISOString(),
      to: new Date(report.to).toISOString(),
      durationMs: report.to - report.from,
    },
    weights,
    models: report.models.map((m) => ({ model: m.model, ...assessment(m) })),
    endpoints: report.endpoints.map((e) => ({ endpoint: e.endpoint, ...assessment(e) })),
  };
}
