import type { HealthComponentName } from '@app/config';

export type HealthStatus = 'healthy' | 'degraded' | 'critical' | 'no_data';
export type HealthWindowName = '5m' | '1h';
export const HEALTH_WINDOWS: readonly HealthWindowName[] = ['5m', '1h'];

/** What the components are computed from (rates over the window's calls); null where there is nothing to measure. */
export interface HealthSignals {
  requests: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  meanLatencyMs: number | null;
  errorRate: number | null;
  timeoutRate: number | null;
  retriesPerRequest: number | null;
  costPerRequestUsd: number | null;
  budgetPace: number | null;
  meanQuality: number | null;
  ungroundedRate: number | null;
  failureToAnswerRate: number | null;
  safetyBlockRate: number | null;
  promptInjectionRate: number | null;
  piiRate: number | null;
  tokenAbuseRate: number | null;
}

export interface HealthAssessment {
  /** 0–100; null with no data. */
  score: number | null;
  status: HealthStatus;
  components: Record<HealthComponentName, number | null>;
  signals: HealthSignals;
}
