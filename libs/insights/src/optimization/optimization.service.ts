import { randomBytes } from 'node:crypto';
import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DomainError } from '@app/common';
import { UsageLedger } from '@app/ledger';
import type {
  CreateRecommendationDto,
  CreateRecommendationResponseDto,
  ImplementRecommendationResponseDto,
  RecommendationDetailDto,
  RecommendationPage,
  RecommendationResultDto,
  RecommendationSummaryDto,
  RecordResultResponseDto,
  UsageWindowDto,
} from './dto/recommendation.dto';
import type { RoiCategoryDto, RoiReportItemDto, RoiReportResponseDto } from './dto/roi-report.dto';
import { decodeRecommendationCursor, encodeRecommendationCursor } from './dto/recommendation-cursor';
import { OPTIMIZATION_ERRORS } from './optimization.errors';
import {
  BASELINE_DAYS,
  computeRoi,
  costPerRequest,
  DAY_MS,
  measure,
  type Recommendation,
  recommendationId,
  type RecommendationResult,
  requestsPerHour,
  round,
  unmeasurable,
  type UsageWindow,
} from './recommendation';
import { RecommendationStore } from './store/recommendation-store.port';

const iso = (ms: number): string => new Date(ms).toISOString();
const usd = (value: number): number => round(value, 6);
const randomSuffix = (): string => randomBytes(3).toString('hex');
/** How many times record-result measures again when concurrent calls keep recording over its window. */
const RECORD_ATTEMPTS = 3;

export function toWindowDto(w: UsageWindow): UsageWindowDto {
  const cpr = costPerRequest(w);
  return {
    start: iso(w.from),
    end: iso(w.to),
    requests: w.requests,
    priced_requests: w.pricedRequests,
    cost_usd: usd(w.costUsd),
    cost_per_request: cpr === null ? null : round(cpr, 8),
    requests_per_hour: round(requestsPerHour(w), 3),
  };
}

function toResultDto(r: RecommendationResult): RecommendationResultDto {
  return {
    id: r.id,
    recorded_at: iso(r.recordedAt),
    period_days: r.periodDays,
    period_start: iso(r.after.from),
    period_end: iso(r.after.to),
    before_cost: r.beforeCost,
    after_cost: r.afterCost,
    actual_savings: r.actualSavings,
    roi_percentage: r.roiPercentage,
    roi_reason: r.roiReason,
    confidence_score: r.confidenceScore,
    requests: r.after.pricedRequests,
  };
}

/**
 * The items by key, each group in the items' order: linear in the items. (The groups were copied on each item added,
 * `[...group, item]`: quadratic in the size of a group, 10,000 results of one recommendation cost 50 million copies.)
 */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Each recommendation's summary, from its results among `results` (in the order recorded): linear in both. */
export function summarise(
  recs: readonly Recommendation[],
  results: readonly RecommendationResult[],
): RecommendationSummaryDto[] {
  const byRec = groupBy(results, (r) => r.recommendationId);
  return recs.map((rec) => toSummaryDto(rec, byRec.get(rec.id) ?? []));
}

function toSummaryDto(rec: Recommendation, results: readonly RecommendationResult[]): RecommendationSummaryDto {
  return {
    id: rec.id,
    title: rec.title,
    category: rec.category,
    description: rec.description,
    status: rec.status,
    priority: rec.priority,
    created_at: iso(rec.createdAt),
    implemented_at: rec.implementedAt === null ? null : iso(rec.implementedAt),
    est_savings_per_request: rec.estimatedSavingsPerRequest,
    est_savings_percentage: rec.estimatedSavingsPercentage,
    implementation_cost: rec.implementationCost,
    total_savings: usd(results.reduce((sum, r) => sum + r.actualSavings, 0)),
    results_count: results.length,
    latest_roi: results.at(-1)?.roiPercentage ?? null,
  };
}

/**
 * Cost-optimisation recommendations and their measured results (issue #14). Recommendations and results are
 * kept in the `RecommendationStore`; baselines and results are measured from the usage ledger's raw records:
 * the baseline is the BASELINE_DAYS (7) before implementation, the after window runs from implementation (or
 * `period_days` before now, whichever is later) to now, so the two never overlap.
 */
@Injectable()
export class OptimizationService implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly store: RecommendationStore,
    private readonly ledger: UsageLedger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.store.init();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }

  async create(dto: CreateRecommendationDto, now = Date.now()): Promise<CreateRecommendationResponseDto> {
    const rec: Recommendation = {
      id: recommendationId(now, randomSuffix()),
      title: dto.title,
      category: dto.category,
      description: dto.description,
      estimatedSavingsPerRequest: dto.estimated_savings_per_request,
      estimatedSavingsPercentage: dto.estimated_savings_percentage,
      priority: dto.priority ?? 'medium',
      implementationCost: dto.implementation_cost ?? 0,
      status: 'pending',
      createdAt: now,
      implementedAt: null,
      baseline: null,
    };
    await this.store.create(rec);
    return {
      id: rec.id,
      title: rec.title,
      category: rec.category,
      status: rec.status,
      created_at: iso(now),
      message: `Recommendation ${rec.id} created (pending): implement it to record its baseline from the ledger.`,
    };
  }

  /**
   * A page of the recommendations, newest first: at most `limit`, older than the `cursor`'s position when given (a
   * `next_cursor` this answered), with the results of those only. It read every recommendation and every result
   * of the store on each call.
   */
  async list(limit: number, cursor?: string): Promise<RecommendationPage> {
    const before = cursor === undefined ? undefined : decodeRecommendationCursor(cursor);
    const recs = await this.store.list({ limit: limit + 1, ...(before === undefined ? {} : { before }) });
    const page = recs.slice(0, limit);
    const results = page.length === 0 ? [] : await this.store.results({ recommendationIds: page.map((rec) => rec.id) });
    const last = page.at(-1);
    return {
      entries: summarise(page, results),
      next_cursor: recs.length > limit && last ? encodeRecommendationCursor(last) : null,
    };
  }

  async get(id: string): Promise<RecommendationDetailDto> {
    const rec = await this.find(id);
    const results = await this.store.results({ recommendationId: id });
    return {
      ...toSummaryDto(rec, results),
      baseline: rec.baseline ? toWindowDto(rec.baseline.window) : null,
      baseline_metrics: rec.baseline?.declared ?? null,
      results: results.map(toResultDto),
    };
  }

  async implement(
    id: string,
    declared: Record<string, unknown> | undefined,
    now = Date.now(),
  ): Promise<ImplementRecommendationResponseDto> {
    const rec = await this.find(id);
    if (rec.status !== 'pending') throw this.alreadyImplemented(rec);
    const window = await this.usage(now - BASELINE_DAYS * DAY_MS, now);
    const implemented = await this.store.implement(id, now, { window, declared: declared ?? null });
    if (!implemented) throw this.alreadyImplemented((await this.store.get(id)) ?? rec);
    const baseline = toWindowDto(window);
    return {
      id,
      status: 'implemented',
      implemented_at: iso(now),
      baseline,
      message:
        window.pricedRequests > 0
          ? `Implemented. Baseline from the ledger over the ${BASELINE_DAYS} days before: ${window.pricedRequests} priced requests, $${baseline.cost_usd}, $${baseline.cost_per_request} per request.`
          : `Implemented, but the ledger holds no priced requests in the ${BASELINE_DAYS} days before: results cannot be measured against this baseline.`,
    };
  }

  async recordResult(id: string, periodDays: number, now = Date.now()): Promise<RecordResultResponseDto> {
    // A result recorded by a concurrent call (another replica) between the read of the previous results and the
    // insert moves the start of the window: measured again from its end (a window with nothing left is a 409).
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.measureResult(id, periodDays, now);
      if (outcome.stored) return outcome.response;
      if (attempt === RECORD_ATTEMPTS) {
        throw new DomainError(
          'CONFLICT',
          `recommendation ${id}: other results were being recorded over the same time; record again`,
          { recommendationId: id },
        );
      }
    }
  }

  /**
   * One attempt of record-result: the after window starts at the latest of implementation, the end of the last
   * result already recorded (so results never count a request twice and their savings add up) and `periodDays`
   * before now. `stored: false` when another result took part of that window meanwhile.
   */
  private async measureResult(
    id: string,
    periodDays: number,
    now: number,
  ): Promise<{ stored: true; response: RecordResultResponseDto } | { stored: false }> {
    const rec = await this.find(id);
    if (rec.status !== 'implemented' || rec.implementedAt === null || rec.baseline === null) {
      throw new DomainError(
        OPTIMIZATION_ERRORS.RECOMMENDATION_NOT_IMPLEMENTED,
        `recommendation ${id} is ${rec.status}: implement it first (POST /optimization/recommendations/${id}/implement), which records the baseline its results are measured against`,
        { recommendationId: id, recommendationStatus: rec.status },
      );
    }
    const before = rec.baseline.window;
    const measuredTo = (await this.store.results({ recommendationId: id })).reduce(
      (end, r) => Math.max(end, r.after.to),
      rec.implementedAt,
    );
    const after = await this.usage(Math.min(now, Math.max(measuredTo, now - periodDays * DAY_MS)), now);
    const why = unmeasurable(before, after, measuredTo > rec.implementedAt);
    if (why) {
      throw new DomainError(OPTIMIZATION_ERRORS.INSUFFICIENT_USAGE, `recommendation ${id}: ${why}`, {
        recommendationId: id,
        beforeRequests: before.pricedRequests,
        afterRequests: after.pricedRequests,
      });
    }
    const result: RecommendationResult = {
      id: `res-${rec.id}-${now}-${randomSuffix()}`,
      recommendationId: id,
      recordedAt: now,
      periodDays,
      before,
      after,
      implementationCost: rec.implementationCost,
      ...measure(before, after, rec.implementationCost),
    };
    if (!(await this.store.addResult(result))) return { stored: false };
    const response: RecordResultResponseDto = {
      recommendation_id: id,
      recommendation_title: rec.title,
      result_id: result.id,
      period_days: periodDays,
      before_cost: result.beforeCost,
      after_cost: result.afterCost,
      actual_savings: result.actualSavings,
      roi_percentage: result.roiPercentage,
      roi_reason: result.roiReason,
      confidence_score: result.confidenceScore,
      before: toWindowDto(before),
      after: toWindowDto(after),
      message:
        `${after.pricedRequests} priced requests since implementation cost $${result.afterCost}; at the baseline's ` +
        `cost per request they would have cost $${result.beforeCost}: ${result.actualSavings >= 0 ? 'saved' : 'lost'} ` +
        `$${Math.abs(result.actualSavings)}.` +
        (result.roiPercentage === null ? ` ROI: none (${result.roiReason}).` : ` ROI ${result.roiPercentage} %.`),
    };
    return { stored: true, response };
  }

  async roiReport(days: number, category: string | undefined, now = Date.now()): Promise<RoiReportResponseDto> {
    const [results, recs] = await Promise.all([
      this.store.results({ periodEndFrom: now - days * DAY_MS, category }),
      this.store.list(),
    ]);
    const recById = new Map(recs.map((r) => [r.id, r]));
    const perRec = groupBy(results, (r) => r.recommendationId);
    const items: (RoiReportItemDto & { cost: number })[] = [];
    for (const [recId, list] of perRec) {
      const rec = recById.get(recId);
      if (!rec) continue;
      const savings = usd(list.reduce((sum, r) => sum + r.actualSavings, 0));
      const roi = computeRoi(savings, rec.implementationCost);
      items.push({
        id: rec.id,
        title: rec.title,
        category: rec.category,
        savings,
        roi_percentage: roi.roiPercentage,
        roi_reason: roi.roiReason,
        results_count: list.length,
        confidence: round(list.reduce((sum, r) => sum + r.confidenceScore, 0) / list.length, 3),
        cost: rec.implementationCost,
      });
    }
    const categories = groupBy(items, (item) => item.category);
    const byCategory: RoiCategoryDto[] = [...categories]
      .map(([name, list]) => {
        const savings = usd(list.reduce((sum, i) => sum + i.savings, 0));
        const cost = usd(list.reduce((sum, i) => sum + i.cost, 0));
        const roi = computeRoi(savings, cost);
        return {
          category: name,
          savings,
          implementation_cost: cost,
          roi_percentage: roi.roiPercentage,
          roi_reason: roi.roiReason,
          recommendations_count: list.length,
          results_count: list.reduce((sum, i) => sum + i.results_count, 0),
        };
      })
      .sort((a, b) => b.savings - a.savings || a.category.localeCompare(b.category));
    const totalSavings = usd(items.reduce((sum, i) => sum + i.savings, 0));
    const totalCost = usd(items.reduce((sum, i) => sum + i.cost, 0));
    const overall = computeRoi(totalSavings, totalCost);
    const rois = results.map((r) => r.roiPercentage).filter((v): v is number => v !== null);
    const top = [...items]
      .sort((a, b) => b.savings - a.savings || a.id.localeCompare(b.id))
      .slice(0, 5)
      .map(({ cost: _cost, ...item }) => item);
    const scope = category === undefined ? '' : ` in category ${category}`;
    return {
      period_days: days,
      category: category ?? null,
      generated_at: iso(now),
      total_savings: totalSavings,
      total_requests: results.reduce((sum, r) => sum + r.after.pricedRequests, 0),
      total_implementation_cost: totalCost,
      roi_percentage: overall.roiPercentage,
      roi_reason: overall.roiReason,
      average_roi: rois.length ? round(rois.reduce((a, b) => a + b, 0) / rois.length, 2) : null,
      recommendations_count: items.length,
      results_count: results.length,
      savings_by_category: Object.fromEntries(byCategory.map((c) => [c.category, c.savings])),
      by_category: byCategory,
      top_recommendations: top,
      message:
        results.length === 0
          ? `No results recorded in the last ${days} days${scope}.`
          : `${results.length} results of ${items.length} recommendations in the last ${days} days${scope}: saved $${totalSavings}.`,
    };
  }

  private async find(id: string): Promise<Recommendation> {
    const rec = await this.store.get(id);
    if (!rec) {
      throw new DomainError(OPTIMIZATION_ERRORS.RECOMMENDATION_NOT_FOUND, `no recommendation has id ${id}`, {
        recommendationId: id,
      });
    }
    return rec;
  }

  private alreadyImplemented(rec: Recommendation): DomainError {
    return new DomainError(
      OPTIMIZATION_ERRORS.RECOMMENDATION_ALREADY_IMPLEMENTED,
      `recommendation ${rec.id} was implemented at ${rec.implementedAt === null ? 'an unknown time' : iso(rec.implementedAt)}: its baseline is kept`,
      { recommendationId: rec.id },
    );
  }

  /**
   * Ledger usage in [from, to), written records (this instance's buffer is flushed first). Priced requests leave out
   * the failed calls that cost nothing: counted at the baseline's cost per request, an outage after implementation
   * read as savings (half the calls failing at $0 "saved" half the bill) and one in the baseline lowered its rate.
   */
  private async usage(from: number, to: number): Promise<UsageWindow> {
    await this.ledger.flush();
    const rows = await this.ledger.window({ from, to });
    return {
      from,
      to,
      requests: rows.reduce((sum, r) => sum + r.requests, 0),
      pricedRequests: rows.reduce((sum, r) => sum + Math.max(0, r.pricedRequests - r.freeFailures), 0),
      costUsd: rows.reduce((sum, r) => sum + r.costUsd, 0),
    };
  }
}
