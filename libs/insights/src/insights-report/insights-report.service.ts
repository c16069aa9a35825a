import { Injectable } from '@nestjs/common';
import { DAY_MS, HOUR_MS } from '@app/common';
import { AppConfig } from '@app/config';
import { BudgetOutlook } from '@app/forecast';
import { type HealthAssessment, HealthScoreService } from '@app/health-score';
import { UsageLedger, type WindowUsage } from '@app/ledger';
import { DriftMonitor } from '@app/ml';
import {
  type InsightRecommendationDto,
  type InsightsHealthSummaryDto,
  type InsightsRequestDto,
  type InsightsResponseDto,
  type PredictiveInsightDto,
} from './insights-report.dto';
import {
  type EndpointPrompts,
  type LiveFacts,
  livePredictions,
  liveRecommendations,
  requestPredictions,
  requestRecommendations,
  windowOf,
} from './insights-rules';
import type { EndpointModelCalls } from './traffic-rules';

/** The origin body's fields that are scored or named; a body with none of them asks for live insights. */
const REQUEST_FIELDS: readonly (keyof InsightsRequestDto)[] = [
  'avg_latency_ms',
  'avg_cost_per_request',
  'avg_input_tokens',
  'avg_output_tokens',
  'error_rate',
  'retry_rate',
  'avg_quality_score',
  'ungrounded_rate',
  'safety_block_rate',
  'injection_risk_rate',
  'token_abuse_rate',
  'timeout_rate',
  'latency_trend',
  'cost_trend',
  'error_trend',
];

const PRIORITY_ACTIONS = 5;
/** Most repeated prompts read for the caching rule (the most repeated first). */
const REPEATS_LIMIT = 500;

/**
 * `POST /insights`: the health summary, recommendations, predictive insights and priority actions, from live data
 * (the health score's windows, the ledger's hourly rollups, the budget outlook, the drift monitor) or, for the
 * origin's body, from the caller's aggregates scored with the same curves (docs/insights.md, "Insights report").
 */
@Injectable()
export class InsightsReportService {
  constructor(
    private readonly config: AppConfig,
    private readonly health: HealthScoreService,
    private readonly ledger: UsageLedger,
    private readonly outlook: BudgetOutlook,
    private readonly drift: DriftMonitor,
  ) {}

  /** True when the body holds any of the origin's fields. */
  static isAggregates(body: InsightsRequestDto | undefined): body is InsightsRequestDto {
    return body !== undefined && REQUEST_FIELDS.some((key) => body[key] !== undefined);
  }

  async insights(body?: InsightsRequestDto, now = Date.now()): Promise<InsightsResponseDto> {
    return InsightsReportService.isAggregates(body) ? this.fromAggregates(body, now) : this.live(now);
  }

  /** The origin's body: the posted aggregates, scored with the health score's curves and weights. */
  fromAggregates(body: InsightsRequestDto, now = Date.now()): InsightsResponseDto {
    const assessment = this.health.assessAggregates({
      p95LatencyMs: body.avg_latency_ms,
      costPerRequestUsd: body.avg_cost_per_request,
      errorRate: body.error_rate,
      timeoutRate: body.timeout_rate,
      retriesPerRequest: body.retry_rate,
      meanQuality: body.avg_quality_score,
      ungroundedRate: body.ungrounded_rate,
      safetyBlockRate: body.safety_block_rate,
      promptInjectionRate: body.injection_risk_rate,
      tokenAbuseRate: body.token_abuse_rate,
    });
    return this.respond(
      'request',
      now,
      summary(assessment, null),
      requestRecommendations(body, assessment.components, this.config.health.latencySloMs),
      requestPredictions(body, assessment.components),
    );
  }

  /** Live data: the last 5 minutes against the last hour, prompt sizes over a day, the budget and drift. */
  async live(now = Date.now()): Promise<InsightsResponseDto> {
    const facts = await this.gather(now);
    return this.respond(
      'live',
      now,
      summary(facts.short.overall, windowOf(facts.short.window, facts.short.from, facts.short.to)),
      liveRecommendations(facts),
      livePredictions(facts),
    );
  }

  private async gather(now: number): Promise<LiveFacts> {
    const [short, long] = await Promise.all([this.health.score('5m', now), this.health.score('1h', now)]);
    const to = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS;
    const from = to - DAY_MS;
    const rows = await this.ledger.hourly({ from, to, groupBy: ['endpoint'] });
    const byEndpoint = new Map<string, EndpointPrompts>();
    for (const row of rows) {
      const e = byEndpoint.get(row.endpoint) ?? { endpoint: row.endpoint, requests: 0, inputTokens: 0 };
      e.requests += row.requests;
      e.inputTokens += row.inputTokens;
      byEndpoint.set(row.endpoint, e);
    }
    // A forecast read now: the judgement GET /forecast/cost gives at the same moment (one source, `judgeBudget`).
    const budget = await this.outlook.current(now);
    const [refusals, spendShort, answered, repeats] = await Promise.all([
      this.ledger.window({ from: short.from, to: short.to, groupBy: ['model'] }),
      this.ledger.window({ from: short.from, to: short.to, groupBy: ['endpoint', 'model'] }),
      this.ledger.window({ from: long.from, to: long.to, groupBy: ['endpoint', 'model'] }),
      this.ledger.repeatedPrompts({ from: long.from, to: long.to, minCalls: 2, limit: REPEATS_LIMIT }),
    ]);
    return {
      refusals: refusals.map((w) => ({
        model: w.model,
        requests: w.requests,
        errors: w.errors,
        refused: w.circuitOpen,
        noCapacity: w.noCapacity,
        fallbacks: w.fallbacks,
        fallbackRetries: w.fallbackRetries,
      })),
      refusalsWindow: windowOf(short.window, short.from, short.to),
      answered: answered.map(endpointModelCalls),
      spendShort: spendShort.map(endpointModelCalls),
      repeats,
      repeatsLimit: REPEATS_LIMIT,
      repeatsWindow: windowOf(long.window, long.from, long.to),
      cache: { mode: this.config.cache.mode, scope: this.config.cache.scope },
      chainModels: [this.config.llm.model, ...this.config.llm.fallbackModels],
      routerCandidates: this.config.router.mode === 'off' ? [] : this.config.router.candidates,
      short,
      long,
      prompts: [...byEndpoint.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint)),
      promptsWindow: windowOf('24h', from, Math.min(to, now)),
      budget: budget.dailyBudgetUsd === null ? null : budget,
      drift: this.drift.all(),
      safety: {
        redactPrompts: this.config.safety.redactPrompts,
        injectionPolicy: this.config.safety.injectionPolicy,
      },
      latencySloMs: this.config.health.latencySloMs,
      p95CeilingMs: this.health.p95CeilingMs,
      costPerRequestUsd: this.config.health.costPerRequestUsd,
    };
  }

  private respond(
    source: InsightsResponseDto['source'],
    now: number,
    health_summary: InsightsHealthSummaryDto,
    recommendations: InsightRecommendationDto[],
    predictive_insights: PredictiveInsightDto[],
  ): InsightsResponseDto {
    return {
      source,
      generated_at: new Date(now).toISOString(),
      health_summary,
      recommendations,
      predictive_insights,
      priority_actions: recommendations.slice(0, PRIORITY_ACTIONS).map((r) => r.title),
    };
  }
}

function summary(a: HealthAssessment, window: InsightsHealthSummaryDto['window']): InsightsHealthSummaryDto {
  return {
    overall_health_score: a.score,
    component_scores: { ...a.components },
    status: a.status,
    window,
    requests: window === null ? null : a.signals.requests,
  };
}

/** What the traffic rules read of a window row per endpoint and model. */
function endpointModelCalls(w: WindowUsage): EndpointModelCalls {
  return {
    endpoint: w.endpoint,
    model: w.model,
    requests: w.requests,
    answered: w.answered,
    errors: w.errors,
    costUsd: w.costUsd,
    pricedRequests: w.pricedRequests,
    freeFailures: w.freeFailures,
    fallbacks: w.fallbacks,
    qualitySum: w.qualitySum,
    qualityCount: w.qualityCount,
  };
}
