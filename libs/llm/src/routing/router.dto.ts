import { ApiDateTime, ApiInteger } from '@app/common';
import { ApiProperty } from '@nestjs/swagger';

/** Constraints of one endpoint (ROUTER_CONSTRAINTS). */
export class RouteConstraintsDto {
  minQuality?: number;
  maxLatencyMs?: number;
  maxCostUsd?: number;
}

/** The learned predictor's state. */
export class RoutePredictorStatusDto {
  /** A trained model is loaded (models/router). */
  loaded!: boolean;
  /** Why none is loaded. */
  reason?: string;
  /** Outcomes it was trained on (learned mode serves the rules below ROUTER_MIN_HISTORY). */
  @ApiInteger()
  trainedOn!: number;
  @ApiDateTime()
  trainedAt?: string;
  /** The models it has evidence for. */
  models!: string[];
  /** The decision threshold tuned with the model (probability of meeting the quality target). */
  confidence?: number;
}

/** Decisions by one model over the window. */
export class RouteModelCountDto {
  model!: string;
  @ApiInteger()
  count!: number;
  /** Decisions by reason (rules, cheapest_meeting_constraints, exploration, ...). */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  byReason!: Record<string, number>;
}

/** Routing decisions of this process over the last hour (in memory: from zero after a restart; per replica). */
export class RouteDecisionCountsDto {
  /** The window's length (s). */
  @ApiInteger()
  windowS!: number;
  @ApiInteger()
  total!: number;
  @ApiProperty({ type: [RouteModelCountDto] })
  byModel!: RouteModelCountDto[];
}

/** The model router: its configuration, its predictor and its recent decisions (docs/router.md). */
export class RouterStatusDto {
  /** ROUTER_MODE. */
  mode!: 'off' | 'rules' | 'learned';
  /** The router is at work: a mode other than off and at least two candidates. */
  active!: boolean;
  /** ROUTER_CANDIDATES, cheapest first. */
  candidates!: string[];
  /** ROUTER_EXPLORATION. */
  exploration!: number;
  /** ROUTER_MIN_HISTORY. */
  @ApiInteger()
  minHistory!: number;
  /** Default constraints by endpoint (`*`: every endpoint). */
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/RouteConstraintsDto' } })
  constraints!: Record<string, RouteConstraintsDto>;
  predictor!: RoutePredictorStatusDto;
  decisions!: RouteDecisionCountsDto;
}
