import { ApiPropertyOptional } from '@nestjs/swagger';
import { ApiDateTime, ApiInteger, IsInteger, NumberFromText } from '@app/common';
import { IsIn, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { RECOMMENDATION_PRIORITIES, type RecommendationPriority, type RecommendationStatus } from '../recommendation';
import { IsRecommendationCursor, MAX_RECOMMENDATION_CURSOR_LENGTH } from './recommendation-cursor';

const FINITE = { allowNaN: false, allowInfinity: false } as const;
export const MAX_PERIOD_DAYS = 90;
export const MAX_REPORT_DAYS = 3650;

export class CreateRecommendationDto {
  /** Short name of the change. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  title!: string;
  /** Free category (e.g. caching, model_routing, prompt_compression): reports group savings by it. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  category!: string;
  /** What the change is. */
  @IsString()
  @MaxLength(4000)
  description!: string;
  /** Estimated saving per request, USD (informational; results are measured from the ledger). */
  @IsNumber(FINITE)
  @Min(0)
  @Max(1_000_000)
  estimated_savings_per_request!: number;
  /** Estimated saving, percent of cost (informational). */
  @IsNumber(FINITE)
  @Min(0)
  @Max(100)
  estimated_savings_percentage!: number;
  /** low, medium (default), high or critical. */
  @IsOptional()
  @IsIn(RECOMMENDATION_PRIORITIES)
  priority?: RecommendationPriority = 'medium';
  /** One-off cost of implementing it, USD (default 0: ROI is then reported as null, with the reason). */
  @IsOptional()
  @IsNumber(FINITE)
  @Min(0)
  @Max(1_000_000_000)
  implementation_cost?: number = 0;
}

export class CreateRecommendationResponseDto {
  id!: string;
  title!: string;
  category!: string;
  status!: RecommendationStatus;
  /** ISO 8601. */
  @ApiDateTime()
  created_at!: string;
  message!: string;
}

export class ImplementRecommendationDto {
  /** Accepted for compatibility with the origin and ignored: the id is the path's. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  recommendation_id?: string;
  /**
   * The caller's own baseline figures, kept as sent (informational). The baseline the results are measured
   * against is read from the ledger at implementation.
   */
  @IsOptional()
  @IsObject()
  baseline_metrics?: Record<string, unknown>;
}

export class UsageWindowDto {
  /** Start of the window, ISO 8601 (inclusive). */
  @ApiDateTime()
  start!: string;
  /** End of the window, ISO 8601 (exclusive). */
  @ApiDateTime()
  end!: string;
  /** Every call in the window (ledger records). */
  @ApiInteger()
  requests!: number;
  /**
   * Calls with a cost (a model missing from the price table has none), failed calls that cost nothing left out; the
   * per-request figures use these.
   */
  @ApiInteger()
  priced_requests!: number;
  /** Spend in the window, USD. */
  cost_usd!: number;
  /** cost_usd / priced_requests; null without priced requests. */
  cost_per_request!: number | null;
  /** Priced requests per hour. */
  requests_per_hour!: number;
}

export class ImplementRecommendationResponseDto {
  id!: string;
  status!: RecommendationStatus;
  /** ISO 8601. */
  @ApiDateTime()
  implemented_at!: string;
  /** The ledger's usage over the days before implementation: what results are compared with. */
  baseline!: UsageWindowDto;
  message!: string;
}

export class RecordResultDto {
  /** Accepted for compatibility with the origin and ignored: the id is the path's. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  recommendation_id?: string;
  /**
   * The after window is at most this many days, ending now and starting no earlier than implementation nor the end
   * of the previous result (results never overlap).
   */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(MAX_PERIOD_DAYS)
  period_days?: number = 7;
}

export class RecordResultResponseDto {
  recommendation_id!: string;
  recommendation_title!: string;
  /** The result's id. */
  result_id!: string;
  @ApiInteger()
  period_days!: number;
  /** What the after window's priced requests would have cost at the baseline's cost per request, USD. */
  before_cost!: number;
  /** What they cost, USD. */
  after_cost!: number;
  /** before_cost − after_cost, USD (negative: the change cost more). */
  actual_savings!: number;
  /** (actual_savings − implementation_cost) / implementation_cost × 100; null when implementation_cost is 0. */
  roi_percentage!: number | null;
  /** Why roi_percentage is null; null when it is a number. */
  roi_reason!: string | null;
  /** 0..1, from the request volume of both windows: n / (n + 30), n the thinner window's priced requests. */
  confidence_score!: number;
  /** The baseline window (before implementation). */
  before!: UsageWindowDto;
  /** The window measured (since implementation, at most period_days). */
  after!: UsageWindowDto;
  message!: string;
}

export class RecommendationResultDto {
  id!: string;
  /** ISO 8601. */
  @ApiDateTime()
  recorded_at!: string;
  @ApiInteger()
  period_days!: number;
  /** Start of the after window, ISO 8601. */
  @ApiDateTime()
  period_start!: string;
  /** End of the after window, ISO 8601. */
  @ApiDateTime()
  period_end!: string;
  before_cost!: number;
  after_cost!: number;
  actual_savings!: number;
  roi_percentage!: number | null;
  roi_reason!: string | null;
  confidence_score!: number;
  /** Priced requests in the after window. */
  @ApiInteger()
  requests!: number;
}

export class RecommendationSummaryDto {
  id!: string;
  title!: string;
  category!: string;
  description!: string;
  status!: RecommendationStatus;
  priority!: RecommendationPriority;
  /** ISO 8601. */
  @ApiDateTime()
  created_at!: string;
  /** ISO 8601; null until implemented. */
  @ApiDateTime()
  implemented_at!: string | null;
  est_savings_per_request!: number;
  est_savings_percentage!: number;
  implementation_cost!: number;
  /** Sum of the results' actual savings, USD. */
  total_savings!: number;
  @ApiInteger()
  results_count!: number;
  /** The ROI of the latest result; null without results or when it was null. */
  latest_roi!: number | null;
}

/** Recommendations a page of the list holds when `limit` is not given. */
export const DEFAULT_RECOMMENDATION_PAGE = 50;

export class ListRecommendationsQueryDto {
  /** Recommendations returned, newest first (1..200, default 50). */
  @IsOptional()
  @NumberFromText()
  @IsInteger()
  @Min(1)
  @Max(200)
  limit?: number = DEFAULT_RECOMMENDATION_PAGE;
  /**
   * The `next_cursor` of the previous page: the recommendations older than that page's last one (keyset paging, stable
   * while new recommendations are created). Opaque: never build one.
   */
  @ApiPropertyOptional({ type: 'string', maxLength: MAX_RECOMMENDATION_CURSOR_LENGTH })
  @IsOptional()
  @IsRecommendationCursor()
  cursor?: string;
}

/**
 * A page of the list: the body is its entries (the origin's bare array); `next_cursor` goes out in the `X-Next-Cursor`
 * and `Link` headers.
 */
export interface RecommendationPage {
  entries: RecommendationSummaryDto[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

export class RecommendationDetailDto extends RecommendationSummaryDto {
  /** The ledger's usage before implementation; null until implemented. */
  baseline!: UsageWindowDto | null;
  /** The caller's baseline_metrics as sent at implementation; null when none. */
  baseline_metrics!: Record<string, unknown> | null;
  results!: RecommendationResultDto[];
}
