import { Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { type HourlyUsage, type UsageDimension, UsageLedger, UsageMetricsSource } from '@app/ledger';
import type { AnomalyAttributionResponseDto, AnomalyMetric, AttributionSource } from '../dto/anomaly-attribution.dto';
import { ATTRIBUTION_DIMENSIONS, attributeAnomaly, attributionWindows } from './attribution';
import { ATTRIBUTION_ERRORS } from './attribution.errors';

export interface AttributionRequest {
  metric: AnomalyMetric;
  /** Epoch ms; default now. */
  anomalyAt?: number;
  baselineHours: number;
  analysisHours: number;
  /** Default the ledger. */
  source?: AttributionSource;
}

/**
 * Reads hourly figures over both windows (total and by each dimension) from the ledger's rollups, or from the
 * service's metrics in Datadog (`source: 'datadog'`, through the ledger's `UsageMetricsSource`), and attributes the
 * change. A Datadog failure is a 502 naming it, never figures made up.
 */
@Injectable()
export class AnomalyAttributionService {
  constructor(
    private readonly ledger: UsageLedger,
    private readonly metrics: UsageMetricsSource,
  ) {}

  async attribute(request: AttributionRequest, now = Date.now()): Promise<AnomalyAttributionResponseDto> {
    const anomalyAt = request.anomalyAt ?? now;
    const { baselineStart, analysisEnd } = attributionWindows(anomalyAt, request.baselineHours, request.analysisHours);
    const range = { from: baselineStart, to: analysisEnd };
    const source = request.source ?? 'ledger';
    const [total = [], ...grouped] =
      source === 'datadog'
        ? await this.fromDatadog(baselineStart, Math.min(analysisEnd, now + 1))
        : await Promise.all([
            this.ledger.hourly(range),
            ...ATTRIBUTION_DIMENSIONS.map((dim) => this.ledger.hourly({ ...range, groupBy: [dim] })),
          ]);
    const byDimension = Object.fromEntries(ATTRIBUTION_DIMENSIONS.map((dim, i) => [dim, grouped[i]!])) as Record<
      UsageDimension,
      (typeof grouped)[number]
    >;
    const historyFrom = source === 'ledger' ? await this.historyStart(total, baselineStart) : undefined;
    return attributeAnomaly({
      metric: request.metric,
      anomalyAt,
      baselineHours: request.baselineHours,
      analysisHours: request.analysisHours,
      now,
      total,
      byDimension,
      source,
      ...(historyFrom === undefined ? {} : { historyFrom }),
    });
  }

  /**
   * The ledger's first hour with usage when it is inside the windows (none before the baseline's start): the
   * baseline starts there. Before, a ledger that began 3 hours into a 24 h baseline read 21 hours at $0, and a cost
   * as flat as ever was a `critical` spike (+686 %) on every fresh deployment's first day.
   */
  private async historyStart(total: readonly HourlyUsage[], baselineStart: number): Promise<number | undefined> {
    const used = (r: HourlyUsage): boolean => r.requests > 0 || r.costUsd !== 0;
    const first = total.filter(used).reduce((min, r) => Math.min(min, r.hour), Infinity);
    if (!Number.isFinite(first) || first <= baselineStart) return undefined;
    const before = await this.ledger.hourly({ from: 0, to: baselineStart });
    return before.some(used) ? undefined : first;
  }

  /** Totals, then one read per dimension, in the order of ATTRIBUTION_DIMENSIONS. */
  private async fromDatadog(from: number, to: number): Promise<HourlyUsage[][]> {
    if (!this.metrics.configured) {
      throw new DomainError(
        ATTRIBUTION_ERRORS.ATTRIBUTION_SOURCE_UNCONFIGURED,
        'source=datadog needs DD_API_KEY and DD_APP_KEY (and DD_SITE or DATADOG_API_URL); use source=ledger without them',
      );
    }
    try {
      // One dimension at a time: the metrics API is rate limited, and each read is 10 queries.
      const out: HourlyUsage[][] = [];
      for (const groupBy of [null, ...ATTRIBUTION_DIMENSIONS]) {
        out.push(await this.metrics.hourlyUsage(from, to, { groupBy, latencyAndQuality: true }));
      }
      return out;
    } catch (error) {
      throw new DomainError(
        ATTRIBUTION_ERRORS.ATTRIBUTION_SOURCE_FAILED,
        `The Datadog metrics query failed: ${error instanceof Error ? error.message : String(error)}`,
        {},
        {},
        { cause: error },
      );
    }
  }
}
