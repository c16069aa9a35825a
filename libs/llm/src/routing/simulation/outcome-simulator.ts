import { createHash } from 'node:crypto';
import type { UsageRecord } from '@app/ledger';
import { encodeRouteDecision, extractRouteFeatures, type QualityScorer, type RouteFeatures } from '@app/ml';
import { planSimulatedCall } from '../../adapters/simulated-profiles';
import { qaPrompt } from '../../llm-endpoints.service';
import type { PriceTable } from '../../pricing/price-table';
import type { TokenEstimator } from '../../tokens/token-estimator';
import type { WorkloadRequest } from './workload-generator';

/** What one model's call on one request achieved (the simulator's plan, scored by the service's real scorer). */
export interface SimulatedOutcome {
  model: string;
  /** The call answered (no upstream error). */
  ok: boolean;
  /** The QualityScorer's overall score of the answer; null for an error. */
  quality: number | null;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
  /** Price table cost; 0 for an error (nothing billed), null for an unpriced model. */
  costUsd: number | null;
  /** The simulator's hidden truth (reported, never a feature). */
  success: boolean;
  task: string;
  difficulty: number;
}

export interface OutcomeSimulatorDeps {
  scorer: QualityScorer;
  tokens: TokenEstimator;
  prices: PriceTable;
  /** SIM_SEED. */
  seed: number;
}

/** A request with its prompt, the router's features and every candidate's outcome. */
export interface OutcomeRow {
  request: WorkloadRequest;
  prompt: string;
  promptHash: string;
  features: RouteFeatures;
  outcomes: SimulatedOutcome[];
}

/**
 * Runs workload requests through the simulated provider's per-model plans (`planSimulatedCall`, the same plan the
 * SimulatedLlmAdapter serves with SIM_MODEL_PROFILES=true), counts tokens with the service's TokenEstimator, prices
 * calls with the PriceTable and scores answers with the real QualityScorer, offline and without sleeping.
 */
export class OutcomeSimulator {
  constructor(private readonly deps: OutcomeSimulatorDeps) {}

  /** The prompt the provider sees: `qaPrompt(question, document)` for /qa, the user's prompt for /reason. */
  prompt(request: WorkloadRequest): string {
    return request.endpoint === 'qa' ? qaPrompt(request.text, request.document) : request.text;
  }

  features(request: WorkloadRequest, prompt = this.prompt(request)): RouteFeatures {
    return extractRouteFeatures({
      endpoint: request.endpoint,
      userText: request.text,
      prompt,
      document: request.document,
    });
  }

  outcome(request: WorkloadRequest, model: string, prompt = this.prompt(request)): SimulatedOutcome {
    const plan = planSimulatedCall(model, prompt, this.deps.seed);
    if (!plan) throw new Error(`the simulator has no profile for model ${model}`);
    const inputTokens = this.deps.tokens.count(prompt);
    const base = { model, latencyMs: plan.latencyMs, inputTokens, success: plan.success, task: plan.task };
    if (plan.fault === 'error') {
      return { ...base, ok: false, quality: null, outputTokens: 0, costUsd: 0, difficulty: plan.difficulty };
    }
    const outputTokens = this.deps.tokens.count(plan.text);
    const report = this.deps.scorer.score({
      endpoint: request.endpoint,
      question: request.text,
      answer: plan.text,
      document: request.document,
      finishReason: 'stop',
      safetyBlocked: false,
    });
    const { costUsd } = this.deps.prices.cost(model, {
      inputTokens,
      outputTokens,
      cachedTokens: 0,
      reasoningTokens: 0,
      totalTokens: inputTokens + outputTokens,
      estimated: true,
    });
    return { ...base, ok: true, quality: report.overall, outputTokens, costUsd, difficulty: plan.difficulty };
  }

  /** Every candidate's outcome for one request. */
  row(request: WorkloadRequest, candidates: readonly string[]): OutcomeRow {
    const prompt = this.prompt(request);
    return {
      request,
      prompt,
      promptHash: createHash('sha256').update(prompt).digest('hex').slice(0, 32),
      features: this.features(request, prompt),
      outcomes: candidates.map((model) => this.outcome(request, model, prompt)),
    };
  }
}

/**
 * The ledger row of one simulated call, as the service would write it for a call routed by exploration (every
 * candidate is tried on every request: `router_decision` = `rf1|simulated|exploration|1|<features>`).
 */
export function simulatedUsageRecord(row: OutcomeRow, outcome: SimulatedOutcome, ts: number): UsageRecord {
  return {
    ts,
    endpoint: row.request.endpoint,
    provider: 'simulated',
    model: outcome.model,
    status: outcome.ok ? 'ok' : 'error',
    errorType: outcome.ok ? null : 'server',
    latencyMs: Math.round(outcome.latencyMs * 100) / 100,
    inputTokens: outcome.inputTokens,
    outputTokens: outcome.outputTokens,
    cachedTokens: 0,
    reasoningTokens: 0,
    tokensEstimated: true,
    costUsd: outcome.costUsd,
    qualityScore: outcome.quality,
    flags: [],
    retryCount: 0,
    fallbackUsed: false,
    routerDecision: encodeRouteDecision(row.features, { mode: 'simulated', reason: 'exploration', explored: true }),
    promptHash: row.promptHash,
    promptChars: row.prompt.length,
    answerChars: 0,
    preview: null,
  };
}
