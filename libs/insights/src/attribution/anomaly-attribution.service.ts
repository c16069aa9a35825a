import { Injectable } from '@nestjs/common';
import { type UsageDimension, UsageLedger } from '@app/ledger';
import type { AnomalyAttributionResponseDto, AnomalyMetric } from '../dto/anomaly-attribution.dto';
import { ATTRIBUTION_DIMENSIONS, attributeAnomaly, attributionWindows } from './attribution';

export interface AttributionRequest {
  metric: AnomalyMetric;
  /** Epoch ms; default now. */
  anomalyAt?: number;
  baselineHours: number;
  analysisHours: number;
}

/** Reads the ledger's hourly rollups over both windows (total and by each dimension) and attributes the change. */
@Injectable()
export class AnomalyAttributionService {
  constructor(private readonly ledger: UsageLedger) {}

  async attribute(request: AttributionRequest, now = Date.now()): Promise<AnomalyAttributionResponseDto> {
    const anomalyAt = request.anomalyAt ?? now;
    const { baselineStart, analysisEnd } = attributionWindows(anomalyAt, request.baselineHours, request.analysisHours);
    const range = { from: baselineStart, to: analysisEnd };
    const [total, ...grouped] = await Promise.all([
      this.ledger.hourly(range),
      ...ATTRIBUTION_DIMENSIONS.map((dim) => this.ledger.hourly({ ...range, groupBy: [dim] })),
    ]);
    const byDimension = Object.fromEntries(ATTRIBUTION_DIMENSIONS.map((dim, i) => [dim, grouped[i]!])) as Record<
      UsageDimension,
      (typeof grouped)[number]
    >;
    return attributeAnomaly({
      metric: request.metric,
      anomalyAt,
      baselineHours: request.baselineHours,
      analysisHours: request.analysisHours,
      now,
      total,
      byDimension,
    });
  }
}
