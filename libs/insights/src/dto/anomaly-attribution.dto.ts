import { ApiDateTime, ApiInteger, IsInteger, NumberFromText } from '@app/common';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, isISO8601, Max, Min, ValidateBy, type ValidationOptions } from 'class-validator';

export const ANOMALY_METRICS = ['cost', 'latency', 'errors', 'quality'] as const;
/** Where attribution reads its figures: the usage ledger (default) or the service's own metrics in Datadog. */
export const ATTRIBUTION_SOURCES = ['ledger', 'datadog'] as const;
export type AttributionSource = (typeof ATTRIBUTION_SOURCES)[number];
export type AnomalyMetric = (typeof ANOMALY_METRICS)[number];
export const ANOMALY_SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type AnomalySeverity = (typeof ANOMALY_SEVERITIES)[number];

export const MAX_BASELINE_HOURS = 720;
export const MAX_ANALYSIS_HOURS = 168;

/**
 * Where an anomaly may fall: before the last hour of year 9999. The analysis window ends with the next hour, and a
 * moment past year 9999 is no RFC 3339 date-time (`toISOString()` writes `+010000-01-01T00:00:00.000Z`), which the
 * answer's windows (`format: date-time`) must be.
 */
const LATEST_ANOMALY_MS = Date.parse('9999-12-31T23:00:00Z');

/**
 * Epoch ms of an ISO 8601 timestamp; a date-time without an offset (`2026-03-01T14:00:00`, as Python's `isoformat()`
 * writes a naive one) is UTC. `Date.parse` alone reads it in the process's time zone (`TZ`), so the same request
 * named another hour on a host that is not on UTC.
 */
export function parseTimestamp(iso: string): number {
  const time = iso.split(/[Tt ]/)[1];
  const naive = time !== undefined && !/(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(time);
  return Date.parse(naive ? `${iso}Z` : iso);
}

/**
 * An ISO 8601 date-time that `Date.parse` reads (class-validator's ISO check alone also passes week dates), before
 * `LATEST_ANOMALY_MS`.
 */
function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          // RFC 3339 allows a lower-case `t` and `z` (`2026-03-01t14:00:00z`); class-validator's check refuses the `t`.
          isISO8601(value.replace(/^(\d{4}-\d{2}-\d{2})t/, '$1T'), { strict: true }) &&
          Number.isFinite(parseTimestamp(value)) &&
          parseTimestamp(value) < LATEST_ANOMALY_MS,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an ISO 8601 date-time (e.g. 2026-03-01T14:00:00Z) before ` +
          `9999-12-31T23:00:00Z`,
      },
    },
    options,
  );
}

/**
 * The origin's metric names are free text matched by substring (`llm.latency.ms` → latency); its answer-quality
 * metric, `llm.semantic_similarity_score` (what its quality monitors watched), is the quality score here. Anything
 * else is kept as given, so the validation error names it.
 */
function metricFromName({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  const name = value.toLowerCase();
  if (name.includes('cost')) return 'cost';
  if (name.includes('latency')) return 'latency';
  if (name.includes('error')) return 'errors';
  if (name.includes('quality') || name.includes('similarity')) return 'quality';
  return value;
}

export class AttributeAnomalyRequestDto {
  /** The metric: cost (USD per hour), latency (mean ms per request), errors (error rate), quality (mean score). */
  @IsIn(ANOMALY_METRICS)
  metric!: AnomalyMetric;
  /**
   * The moment of the anomaly (ISO 8601, UTC when it has no offset; default now): the analysis window ends with the
   * hour holding it.
   */
  @IsOptional()
  @IsTimestamp()
  anomalyTimestamp?: string;
  /** Hours of the baseline window, just before the analysis window. */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(MAX_BASELINE_HOURS)
  baselinePeriodHours?: number = 24;
  /** Hours of the analysis window, ending with the hour of `anomalyTimestamp`. */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(MAX_ANALYSIS_HOURS)
  analysisWindowHours?: number = 1;
  /** ledger (default), or datadog: the service's own metrics through the Datadog metrics API (needs the API keys). */
  @IsOptional()
  @IsIn(ATTRIBUTION_SOURCES)
  source?: AttributionSource = 'ledger';
}

/** The origin's query form of `POST /optimization/anomaly/attribute`. */
export class AttributeAnomalyQueryDto {
  /**
   * The metric, by name: any name containing cost, latency, error or quality (`llm.cost.usd`, `latency`, ...);
   * similarity (the origin's `llm.semantic_similarity_score`) is quality.
   */
  @Transform(metricFromName)
  @ValidateBy({
    // Not @IsIn: the document would then restrict the name to the four words.
    name: 'isMetricName',
    validator: {
      validate: (value: unknown) => (ANOMALY_METRICS as readonly unknown[]).includes(value),
      defaultMessage: () => 'metric_name must name cost, latency, errors or quality',
    },
  })
  metric_name!: string;
  /** The moment of the anomaly (ISO 8601, UTC when it has no offset; default now). */
  @IsOptional()
  @IsTimestamp()
  anomaly_timestamp?: string;
  /** Hours of the baseline window. */
  @IsOptional()
  @NumberFromText()
  @IsInteger()
  @Min(1)
  @Max(MAX_BASELINE_HOURS)
  baseline_period_hours?: number = 24;
  /** Hours of the analysis window. */
  @IsOptional()
  @NumberFromText()
  @IsInteger()
  @Min(1)
  @Max(MAX_ANALYSIS_HOURS)
  analysis_window_hours?: number = 1;
  /** ledger (default) or datadog. */
  @IsOptional()
  @IsIn(ATTRIBUTION_SOURCES)
  source?: AttributionSource = 'ledger';
}

export class AttributionWindowDto {
  /** Start of the window (ISO 8601, on the hour). */
  @ApiDateTime()
  start!: string;
  /** End of the window, exclusive. */
  @ApiDateTime()
  end!: string;
  /** Hours of the window up to now (the current hour counts in part; a future window 0). */
  elapsedHours!: number;
  /** The metric over the window, in `unit`; null when there is no data to compute it from. */
  value!: number | null;
  /** Requests recorded in the window. */
  @ApiInteger()
  requests!: number;
  /**
   * Requests the metric is computed from (latency: the timed calls, not refusals that reached no model, aborted or
   * rejected calls, nor imported usage; quality: the scored ones).
   */
  @ApiInteger()
  sampleSize!: number;
  /** Hours of the window with usage. */
  @ApiInteger()
  hoursWithData!: number;
}

export class AttributionChangeDto {
  /** Analysis value − baseline value, in `unit`. */
  absolute!: number;
  /** Relative change, percent; null when the baseline value is 0. */
  percent!: number | null;
  /**
   * The change over the standard error of the baseline's hourly values (scaled to the analysis window's hours);
   * null with fewer than 3 baseline hours with data, or when the baseline never varied.
   */
  zScore!: number | null;
  /** worse (cost, latency, errors up; quality down), better or unchanged. */
  direction!: 'worse' | 'better' | 'unchanged';
}

export class AttributionItemDto {
  /** model, provider or endpoint (the endpoint is the request type: qa, reason, stress). */
  dimension!: string;
  value!: string;
  /** The metric for this value in the baseline; null when it had no requests there. */
  baselineValue!: number | null;
  /** The metric for this value in the analysis window; null when it had no requests there. */
  analysisValue!: number | null;
  /** Its own relative change, percent; null when absent from a window or from 0. */
  changePct!: number | null;
  /** Its part of the total change, in `unit` (the parts of one dimension add up to the change). */
  effect!: number;
  /** Ratio metrics: the part due to its own rate changing (Δrate × mean share); null for cost. */
  rateEffect!: number | null;
  /** Ratio metrics: the part due to its share of requests changing; null for cost. */
  mixEffect!: number | null;
  /** `effect` as a percentage of the total change (negative: it moved the other way). */
  contributionPct!: number;
  /** The contribution it would have if the change were spread evenly (its share of the baseline), percent. */
  expectedSharePct!: number;
  /** contributionPct − expectedSharePct: how much more of the change it carries than its size. Ranks causes. */
  excessPct!: number;
  @ApiInteger()
  baselineRequests!: number;
  @ApiInteger()
  analysisRequests!: number;
}

export class AttributionBreakdownDto {
  /** By model, largest |contribution| first (at most 50). */
  model!: AttributionItemDto[];
  provider!: AttributionItemDto[];
  /** By endpoint, i.e. request type. */
  endpoint!: AttributionItemDto[];
}

export class AnomalyAttributionResponseDto {
  /** ok, or no_data when a window holds nothing to compare (every figure is then null, none is made up). */
  status!: 'ok' | 'no_data';
  metric!: AnomalyMetric;
  /** cost_spike, latency_spike, error_burst or quality_drop (the origin's types). */
  anomalyType!: string;
  /** usd_per_hour, ms, error_rate (0..1) or score (0..1). */
  unit!: string;
  /** Where the figures come from: the usage ledger, or the service's metrics in Datadog. */
  source!: AttributionSource;
  /** The moment asked about (ISO 8601). */
  @ApiDateTime()
  anomalyTimestamp!: string;
  @ApiDateTime()
  generatedAt!: string;
  /** One sentence: the change, its severity and the primary cause, or why there is none. */
  summary!: string;
  baseline!: AttributionWindowDto;
  analysis!: AttributionWindowDto;
  /** Null when there is no data. */
  change!: AttributionChangeDto | null;
  /**
   * none, low, medium, high or critical: from the relative change (error rate: its change in points), at most low
   * within the baseline's hourly variation, none for an improvement; null when there is no data.
   */
  severity!: AnomalySeverity | null;
  /**
   * 0..1: requests in the smaller window (n / (n + 30)) × significance against the baseline's hourly variation
   * (1 − e^(−|z|/3), 0.5 when unknown) × the primary cause's share of the change; null when there is no data.
   */
  confidence!: number | null;
  /** The value that carries the most change beyond its size (by at least 10 points); null when none does. */
  primaryCause!: AttributionItemDto | null;
  /** The next ones (at least 10 % of the change and 10 points beyond their size), at most 3. */
  contributingFactors!: AttributionItemDto[];
  breakdown!: AttributionBreakdownDto;
  /** How to read the report (request type, source). */
  notes!: string[];
}
