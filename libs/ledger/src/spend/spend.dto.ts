import { ApiDateTime, ApiInteger, IsInteger, NumberFromText } from '@app/common';
import { IsIn, IsOptional, Max, Min } from 'class-validator';

/** The longest window a spend report covers, in hours (31 days). */
export const MAX_SPEND_HOURS = 744;

/** How a spend report groups calls: always by API key (principal), optionally also by model or endpoint. */
export const SPEND_GROUPINGS = [
  'principal',
  'principal,model',
  'principal,endpoint',
  'principal,endpoint,model',
] as const;
export type SpendGrouping = (typeof SPEND_GROUPINGS)[number];

/** `GET /usage/spend?hours=24&group_by=principal`. */
export class SpendQueryDto {
  /** The window: the current hour and the `hours − 1` before it (1..744, default 24). */
  @IsOptional()
  @NumberFromText()
  @IsInteger()
  @Min(1)
  @Max(MAX_SPEND_HOURS)
  hours?: number = 24;
  /** The groups: per API key (default), per key and model, per key and endpoint, or per key, endpoint and model. */
  @IsOptional()
  @IsIn(SPEND_GROUPINGS)
  group_by?: SpendGrouping = 'principal';
}

/** What a group (or the whole window) spent. */
export class SpendMeasuresDto {
  /** LLM calls, whatever their outcome (aborted ones included: their tokens and cost were spent). */
  @ApiInteger()
  calls!: number;
  /** Calls that failed (`error`). */
  @ApiInteger()
  errors!: number;
  /** Calls refused by the safety checks. */
  @ApiInteger()
  safety_blocks!: number;
  /** Calls the client abandoned (or the shutdown cut): billed for what the provider was asked and generated. */
  @ApiInteger()
  aborted!: number;
  /** Calls answered from the response cache (cost 0). */
  @ApiInteger()
  cache_hits!: number;
  @ApiInteger()
  input_tokens!: number;
  @ApiInteger()
  output_tokens!: number;
  @ApiInteger()
  cached_tokens!: number;
  @ApiInteger()
  reasoning_tokens!: number;
  /** Spend, USD: the sum of the calls' ledger cost. */
  cost_usd!: number;
  /** Calls whose model has no known price: recorded, but they add nothing to `cost_usd`. */
  @ApiInteger()
  unpriced_calls!: number;
  /** What the cache hits saved, USD (the cost of the calls they repeated). */
  saved_cost_usd!: number;
}

export class SpendGroupDto extends SpendMeasuresDto {
  /**
   * The API key's name (its name in API_KEYS, or `development`; never the key). null: calls made without a key
   * (AUTH_DISABLED=true), or recorded before the ledger kept the key's name.
   */
  principal!: string | null;
  /** The endpoint (`qa`, `reason`, `stress`, `chat`); only when grouped by endpoint. */
  endpoint?: string;
  /** The model that answered (or the last one tried); only when grouped by model. */
  model?: string;
  /** This group's share of the window's total cost, 0..1 (4 decimals); null when the total cost is 0. */
  cost_share!: number | null;
}

export class SpendReportDto {
  /** The window's length in hours, as asked. */
  @ApiInteger()
  hours!: number;
  /** Start of the window: the start of the hour `hours − 1` before the current one (ISO 8601). */
  @ApiDateTime()
  from!: string;
  /** End of the window: now (ISO 8601); calls recorded in the last flush interval (about a second) may be missing. */
  @ApiDateTime()
  to!: string;
  group_by!: SpendGrouping;
  /** The sums of every group. */
  total!: SpendMeasuresDto;
  /** One entry per group, the most expensive first (then the most calls); empty when no call was recorded. */
  groups!: SpendGroupDto[];
  /**
   * From when the rollup by API key is complete (ISO 8601): the first start of the version that keeps it rolled up
   * the 24 hours before. Calls before it are not counted (a note says so when the window begins earlier).
   */
  @ApiDateTime()
  complete_from!: string | null;
  /** What to know to read the figures: calls without a key, a window that begins before `complete_from`. */
  notes!: string[];
}
