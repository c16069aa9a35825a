import { IsNumber, IsOptional, Max, Min } from 'class-validator';
import { ApiDateTime, IsInteger } from '@app/common';

/** A provider fault drill: the shares of calls that fail, and for how long. At least one rate above 0. */
export class StartFaultDrillDto {
  /** Share of calls answered with a simulated HTTP 500 (0–1). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  error_rate?: number;

  /** Share of calls answered with a simulated HTTP 429 and Retry-After: 1 (0–1). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  rate_limit_rate?: number;

  /** Share of calls that hang until the attempt's timeout (0–1). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  timeout_rate?: number;

  /** Share of calls answered 8x slower (0–1). */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  slow_rate?: number;

  /** How long the drill lasts, in seconds (1–3600, default 60); it ends by itself. */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(3600)
  duration_s?: number;
}

/** The provider fault drill in force. */
export class FaultDrillStatusDto {
  /** A drill is running. */
  active!: boolean;
  /** The provider (faults are injected only into `simulated`). */
  provider!: string;
  error_rate!: number;
  rate_limit_rate!: number;
  timeout_rate!: number;
  slow_rate!: number;
  /** When the running drill started and ends (ISO 8601); null when none runs. */
  @ApiDateTime()
  started_at!: string | null;
  @ApiDateTime()
  ends_at!: string | null;
}
