import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { BooleanFromText, IsInteger, IsNotBlank } from '@app/common';

/**
 * What a routed call must meet (docs/router.md). Each bound may only tighten the endpoint's default
 * (ROUTER_CONSTRAINTS): the higher minimum quality and the lower maxima apply. Ignored when the router is off.
 */
export class RoutingConstraintsDto {
  /** The quality score the answer should reach (0–1). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  min_quality?: number;

  /** The latency the call should stay under (ms). */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(3_600_000)
  max_latency_ms?: number;

  /** The cost the call should stay under (USD). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1000)
  max_cost_usd?: number;
}

/** A question, optionally grounded in a document. */
export class QaRequestDto {
  /** The question to answer. */
  @IsString()
  @IsNotBlank()
  @MaxLength(1000)
  question!: string;

  /** A document the answer must be grounded in; the answer is checked against it. */
  @IsOptional()
  @IsString()
  @MaxLength(10000)
  document?: string | null;

  /** Constraints for the model router (docs/router.md); they may only tighten the endpoint's defaults. */
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RoutingConstraintsDto)
  routing?: RoutingConstraintsDto;
}

/** A free-form reasoning prompt, sent unchanged. */
export class ReasonRequestDto {
  /** The prompt. */
  @IsString()
  @IsNotBlank()
  @MaxLength(5000)
  prompt!: string;

  /** Constraints for the model router (docs/router.md); they may only tighten the endpoint's defaults. */
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RoutingConstraintsDto)
  routing?: RoutingConstraintsDto;
}

/** A load drill: the prompt repeated `repetitions` times in one call (guarded by size and cost caps). */
export class StressRequestDto {
  /** The prompt to repeat. */
  @IsString()
  @IsNotBlank()
  @MaxLength(1000)
  prompt!: string;

  /** How many copies of the prompt to send in the one call. */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(100)
  repetitions?: number = 10;
}

/**
 * Drills from the origin system, as query toggles (`true`, `True`, `1`, `yes`... as FastAPI took them; empty is false);
 * each one's effect is listed in `metadata.drills`.
 */
export class DrillQueryDto {
  /** Adds 1 s inside the measured latency. */
  @IsOptional()
  @BooleanFromText({ emptyIs: false })
  @IsBoolean()
  simulate_latency?: boolean = false;

  /** Fails the first attempt with a synthetic retryable error, so a real retry runs. */
  @IsOptional()
  @BooleanFromText({ emptyIs: false })
  @IsBoolean()
  simulate_retry?: boolean = false;

  /** Replaces the prompt with a fixed harmful request: the provider's safety filter answers. */
  @IsOptional()
  @BooleanFromText({ emptyIs: false })
  @IsBoolean()
  simulate_bad_prompt?: boolean = false;

  /** Appends about 24k characters of neutral context: real extra tokens and cost. */
  @IsOptional()
  @BooleanFromText({ emptyIs: false })
  @IsBoolean()
  simulate_long_context?: boolean = false;
}
