import type { RouteConstraints } from '@app/config';
import type { RouteFeatures } from '@app/ml';
import type { RouteDecider } from '../route-decider';

/** What one candidate achieved on one request (an error: quality 0, cost as billed). */
export interface ReplayOutcome {
  ok: boolean;
  quality: number;
  costUsd: number;
  latencyMs: number;
}

/** One request of a replay: its features and every candidate's outcome (the full matrix). */
export interface ReplayRow {
  id: string;
  kind?: string;
  features: RouteFeatures;
  /** Weight of the request in the totals (reweighting to a mixture); default 1. */
  weight?: number;
  outcomes: Readonly<Record<string, ReplayOutcome>>;
}

/** A routing policy: the model it sends a request to. */
export interface ReplayPolicy {
  name: string;
  choose(row: ReplayRow): string;
}

export interface PolicyResult {
  policy: string;
  requests: number;
  /** Sum of the chosen calls' costs (weighted). */
  totalCostUsd: number;
  /** Mean quality of the chosen calls (errors count 0). */
  meanQuality: number;
  /** Share of requests whose chosen call reached the minimum quality. */
  meetsMinQuality: number;
  meanLatencyMs: number;
  /** Relative to the always-strongest policy (the first policy named `always-strongest`), in percent. */
  costVsStrongestPct: number;
  qualityVsStrongestPct: number;
  /** Share of requests sent to each candidate. */
  shares: Record<string, number>;
}

export function fixedPolicy(name: string, model: string): ReplayPolicy {
  return { name, choose: () => model };
}

/**
 * The reference oracle: per request, the cheapest candidate whose actual quality equals the best candidate's (no
 * quality lost, least cost). Not achievable: it knows the outcomes.
 */
export function oraclePolicy(candidates: readonly string[]): ReplayPolicy {
  return {
    name: 'oracle',
    choose: (row) => {
      const best = Math.max(...candidates.map((m) => row.outcomes[m]!.quality));
      const fitting = candidates.filter((m) => row.outcomes[m]!.quality >= best - 1e-9);
      return fitting.reduce((a, m) => (row.outcomes[m]!.costUsd < row.outcomes[a]!.costUsd ? m : a));
    },
  };
}

/** RouteDecider as the service runs it (every circuit closed; exploration as the decider was built). */
export function deciderPolicy(
  name: string,
  decider: RouteDecider,
  constraintsOf: (row: ReplayRow) => RouteConstraints,
): ReplayPolicy {
  return { name, choose: (row) => decider.decide(row.features, constraintsOf(row), () => true).selectedModel };
}

/** Cost, mean quality and shares of each policy over the rows (weighted), and their change vs always-strongest. */
export function replayPolicies(
  rows: readonly ReplayRow[],
  policies: readonly ReplayPolicy[],
  candidates: readonly string[],
  minQuality: number,
): PolicyResult[] {
  const results = policies.map((policy) => {
    let weight = 0;
    let cost = 0;
    let quality = 0;
    let meets = 0;
    let latency = 0;
    const counts: Record<string, number> = Object.fromEntries(candidates.map((m) => [m, 0]));
    for (const row of rows) {
      const model = policy.choose(row);
      const outcome = row.outcomes[model];
      if (!outcome) throw new Error(`policy ${policy.name} chose ${model}, which has no outcome for ${row.id}`);
      const w = row.weight ?? 1;
      weight += w;
      cost += w * outcome.costUsd;
      quality += w * outcome.quality;
      meets += outcome.ok && outcome.quality >= minQuality ? w : 0;
      latency += w * outcome.latencyMs;
      counts[model] = (counts[model] ?? 0) + w;
    }
    const n = Math.max(weight, 1e-12);
    return {
      policy: policy.name,
      requests: rows.length,
      totalCostUsd: cost,
      meanQuality: quality / n,
      meetsMinQuality: meets / n,
      meanLatencyMs: latency / n,
      costVsStrongestPct: 0,
      qualityVsStrongestPct: 0,
      shares: Object.fromEntries(Object.entries(counts).map(([m, c]) => [m, c / n])),
    };
  });
  const strongest = results.find((r) => r.policy === 'always-strongest');
  if (strongest) {
    for (const r of results) {
      r.costVsStrongestPct =
        strongest.totalCostUsd > 0 ? (100 * (r.totalCostUsd - strongest.totalCostUsd)) / strongest.totalCostUsd : 0;
      r.qualityVsStrongestPct =
        strongest.meanQuality > 0 ? (100 * (r.meanQuality - strongest.meanQuality)) / strongest.meanQuality : 0;
    }
  }
  return results;
}
