import { ApiDateTime, ApiInteger, BooleanFromText } from '@app/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { HealthComponentsDto, type HealthStatus } from '@app/health-score';

export const INSIGHT_CATEGORIES = ['cost', 'reliability', 'performance', 'quality', 'security'] as const;
export type InsightCategory = (typeof INSIGHT_CATEGORIES)[number];
export const INSIGHT_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type InsightPriority = (typeof INSIGHT_PRIORITIES)[number];
export const PREDICTIVE_INSIGHT_TYPES = [
  'budget_breach',
  'quality_degradation',
  'latency_trend',
  'reported_trend',
] as const;
export type PredictiveInsightType = (typeof PREDICTIVE_INSIGHT_TYPES)[number];

/** The origin's `POST /insights` query (ORIGIN §1.2). */
export class InsightsQueryDto {
  /**
   * Accepted for compatibility with the origin and ignored, as it was there: the health summary is always
   * computed.
   */
  @IsOptional()
  @BooleanFromText()
  @IsBoolean()
  compute_health_score?: boolean;
}

/**
 * The origin's `POST /insights` body (ORIGIN §1.2): caller-supplied aggregates. Every field is optional; a body with
 * none of them (`{}`, or no body) asks for insights from live data instead.
 */
export class InsightsRequestDto {
  /** Mean latency per call, ms (scored as the p95 the live score uses). */
  @IsOptional() @IsNumber() @Min(0) @Max(3_600_000) avg_latency_ms?: number;
  /** Mean cost per call, USD. */
  @IsOptional() @IsNumber() @Min(0) @Max(1000) avg_cost_per_request?: number;
  /** Mean prompt size, tokens (not a health input; named in a prompt-size recommendation). */
  @IsOptional() @IsNumber() @Min(0) @Max(10_000_000) avg_input_tokens?: number;
  /** Mean answer size, tokens (not scored: the origin's "efficiency bonus" rewarded longer answers). */
  @IsOptional() @IsNumber() @Min(0) @Max(10_000_000) avg_output_tokens?: number;
  /** Failed calls per call, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) error_rate?: number;
  /** Retries per call, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) retry_rate?: number;
  /** Mean quality score, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) avg_quality_score?: number;
  /** Share of answers not grounded in their document, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) ungrounded_rate?: number;
  /** Share of calls blocked by the provider's safety filter, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) safety_block_rate?: number;
  /** Share of prompts flagged as prompt injection, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) injection_risk_rate?: number;
  /** Share of prompts flagged as token abuse, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) token_abuse_rate?: number;
  /** Calls that timed out, per call, 0-1. */
  @IsOptional() @IsNumber() @Min(0) @Max(1) timeout_rate?: number;
  /** Free text (the origin's default "stable"); a rising/increasing/degrading trend becomes a predictive insight. */
  @IsOptional() @IsString() @MaxLength(50) latency_trend?: string;
  @IsOptional() @IsString() @MaxLength(50) cost_trend?: string;
  @IsOptional() @IsString() @MaxLength(50) error_trend?: string;
}

export class InsightsWindowDto {
  /** `5m`, `1h` or `24h`. */
  name!: string;
  /** Start (inclusive) and end (exclusive), ISO 8601. */
  @ApiDateTime()
  from!: string;
  @ApiDateTime()
  to!: string;
  @ApiInteger()
  duration_ms!: number;
}

export class InsightEvidenceDto {
  /** The numbers and the window behind the item, in words. */
  summary!: string;
  /** The window the figures were measured over; null for caller-supplied aggregates. */
  window!: InsightsWindowDto | null;
  /** The window compared against, when the item is a change; else null. */
  baseline_window!: InsightsWindowDto | null;
  /** Calls (or answers, or samples) behind the figures; null when the caller's aggregates carry no count. */
  @ApiInteger()
  requests!: number | null;
  /** The figures themselves, by name (rates 0-1, ms, USD, tokens). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number', nullable: true } })
  figures!: Record<string, number | null>;
}

export class InsightRecommendationDto {
  title!: string;
  category!: InsightCategory;
  /** critical, high, medium or low (from the component score or the size of the effect). */
  priority!: InsightPriority;
  /** 0-1, from the volume behind the figures and the size of the effect (docs/insights.md). */
  confidence!: number;
  /** What to do. */
  description!: string;
  evidence!: InsightEvidenceDto;
  /** What doing it would change, in the evidence's terms. */
  expected_impact!: string;
  /** The model or endpoint it is about; null when it is about all traffic. */
  model!: string | null;
  endpoint!: string | null;
}

export class PredictiveInsightDto {
  type!: PredictiveInsightType;
  title!: string;
  description!: string;
  /** 0-1, from the volume behind the figures and the size of the effect (docs/insights.md). */
  confidence!: number;
  evidence!: InsightEvidenceDto;
  model!: string | null;
  endpoint!: string | null;
}

export class InsightsHealthSummaryDto {
  /** 0-100 (2 decimals); null when there is nothing to score. */
  overall_health_score!: number | null;
  component_scores!: HealthComponentsDto;
  status!: HealthStatus;
  /** The window scored (the live 5-minute window); null for caller-supplied aggregates. */
  window!: InsightsWindowDto | null;
  /** Calls in that window; null for caller-supplied aggregates. */
  @ApiInteger()
  requests!: number | null;
}

export class InsightsResponseDto {
  /** `live` (the usage ledger, the forecast, the drift monitor) or `request` (the posted aggregates). */
  source!: 'live' | 'request';
  /** ISO 8601. */
  @ApiDateTime()
  generated_at!: string;
  health_summary!: InsightsHealthSummaryDto;
  /** Sorted by priority (critical first), then confidence. Empty when the data supports none. */
  recommendations!: InsightRecommendationDto[];
  predictive_insights!: PredictiveInsightDto[];
  /** The titles of the first 5 recommendations. */
  priority_actions!: string[];
}
