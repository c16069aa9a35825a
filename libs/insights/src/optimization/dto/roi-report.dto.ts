import { ApiDateTime, ApiInteger, IsInteger, NumberFromText } from '@app/common';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_REPORT_DAYS } from './recommendation.dto';

/** `POST /optimization/roi-report`: a JSON body, whose `days` is a JSON number (`"7"` is refused, as on every body). */
export class RoiReportRequestDto {
  /** Results whose measured window ended in the last `days` days. */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(MAX_REPORT_DAYS)
  days?: number = 7;
  /** Only recommendations of this category; empty (`""`, `?category=`) or absent: every category. */
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value))
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  category?: string;
}

/**
 * `GET /optimization/roi-report?days=7&category=`: the same fields, where `days` comes as decimal text (an empty
 * `category=` means every category, as in the body: the origin's form, whose default was the empty string).
 */
export class RoiReportQueryDto extends RoiReportRequestDto {
  /** Results whose measured window ended in the last `days` days. */
  @NumberFromText()
  declare days?: number;
}

export class RoiReportItemDto {
  /** The recommendation's id. */
  id!: string;
  title!: string;
  category!: string;
  /** Its savings over the results in the period, USD. */
  savings!: number;
  /** (savings − implementation_cost) / implementation_cost × 100; null when the cost is 0. */
  roi_percentage!: number | null;
  roi_reason!: string | null;
  @ApiInteger()
  results_count!: number;
  /** The mean confidence of its results. */
  confidence!: number;
}

export class RoiCategoryDto {
  category!: string;
  savings!: number;
  implementation_cost!: number;
  roi_percentage!: number | null;
  roi_reason!: string | null;
  @ApiInteger()
  recommendations_count!: number;
  @ApiInteger()
  results_count!: number;
}

export class RoiReportResponseDto {
  @ApiInteger()
  period_days!: number;
  /** The category asked for; null for all. */
  category!: string | null;
  /** ISO 8601. */
  @ApiDateTime()
  generated_at!: string;
  /** Sum of the results' actual savings in the period, USD. */
  total_savings!: number;
  /** Priced requests of the results' after windows. */
  @ApiInteger()
  total_requests!: number;
  /** Sum of the implementation costs of the recommendations with results in the period, USD. */
  total_implementation_cost!: number;
  /** Overall ROI of the period; null when total_implementation_cost is 0 (see roi_reason). */
  roi_percentage!: number | null;
  roi_reason!: string | null;
  /** Mean of the results' ROIs that are numbers; null when none is. */
  average_roi!: number | null;
  /** Distinct recommendations with results in the period. */
  @ApiInteger()
  recommendations_count!: number;
  @ApiInteger()
  results_count!: number;
  /** Savings per category, USD. */
  savings_by_category!: Record<string, number>;
  by_category!: RoiCategoryDto[];
  /** The five recommendations that saved most. */
  top_recommendations!: RoiReportItemDto[];
  message!: string;
}
