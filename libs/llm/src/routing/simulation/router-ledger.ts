import type { LedgerStore, UsageRecord } from '@app/ledger';
import { decodeRouteDecision, type RouteFeatures } from '@app/ml';
import { type OutcomeRow, simulatedUsageRecord } from './outcome-simulator';
import type { ReplayOutcome, ReplayRow } from './router-replay';

/**
 * One call's outcome as the router learns from it (the shape of the ML lib's RouterOutcome): a ledger row whose
 * `router_decision` decodes. An error or a safety block answered nothing: quality 0 for the quality heads.
 */
export interface LedgerOutcome {
  features: RouteFeatures;
  model: string;
  ok: boolean;
  quality: number;
  latencyMs: number;
  outputTokens: number;
  costUsd: number | null;
  /** The prompt hash: the held-out split and the replay group by it. */
  group: string;
  explored: boolean;
}

export interface LedgerOutcomes {
  outcomes: LedgerOutcome[];
  /** Rows read, and why the others were left out. */
  read: number;
  skipped: { noRouting: number; aborted: number; rejected: number; noQuality: number };
}

/** At most this many records are read (about 2 GB of heap at the outside; the ledger's retention bounds it). */
export const MAX_RECORDS = 5_000_000;

/** The raw records of the store with ts in [from, to), oldest first. */
export function readAllRecords(store: LedgerStore, from = 0, to = Number.MAX_SAFE_INTEGER): Promise<UsageRecord[]> {
  return store.records(from, to, MAX_RECORDS);
}

/**
 * The router's training rows from ledger records: those whose routing decodes (rf1). Labels: the quality score of an
 * answered call; 0 for an error or a safety block (it met no quality target); aborted calls (the client left: the
 * outcome is unknown), rejected ones (the provider refused the caller's own request, a prompt over the context
 * window: no fault of the model) and answered calls without a score are left out.
 */
export function routerOutcomes(records: readonly UsageRecord[]): LedgerOutcomes {
  const skipped = { noRouting: 0, aborted: 0, rejected: 0, noQuality: 0 };
  const outcomes: LedgerOutcome[] = [];
  for (const r of records) {
    const routing = decodeRouteDecision(r.routerDecision);
    if (!routing) {
      skipped.noRouting += 1;
      continue;
    }
    if (r.status === 'aborted') {
      skipped.aborted += 1;
      continue;
    }
    if (r.status === 'rejected') {
      skipped.rejected += 1;
      continue;
    }
    const ok = r.status === 'ok';
    if (ok && r.qualityScore === null) {
      skipped.noQuality += 1;
      continue;
    }
    outcomes.push({
      features: routing.features,
      model: r.model,
      ok,
      quality: ok ? r.qualityScore! : 0,
      latencyMs: r.latencyMs,
      outputTokens: r.outputTokens,
      costUsd: r.costUsd,
      group: r.promptHash,
      explored: routing.explored,
    });
  }
  return { outcomes, read: records.length, skipped };
}

/** Appends one ledger record per (request, candidate) of the simulated rows, a second apart, in batches. */
export async function writeSimulatedLedger(
  store: LedgerStore,
  rows: Iterable<OutcomeRow>,
  startTs: number,
): Promise<number> {
  let ts = startTs;
  let batch: UsageRecord[] = [];
  let written = 0;
  for (const row of rows) {
    for (const outcome of row.outcomes) batch.push(simulatedUsageRecord(row, outcome, ts));
    ts += 1000;
    if (batch.length >= 2000) {
      await store.append(batch);
      written += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) await store.append(batch);
  return written + batch.length;
}

/**
 * Replay rows from ledger outcomes: one per prompt hash whose calls cover every candidate (a simulated ledger, or
 * explored calls); the first call of each candidate counts.
 */
export function replayRowsFromOutcomes(outcomes: readonly LedgerOutcome[], candidates: readonly string[]): ReplayRow[] {
  const groups = new Map<string, { features: RouteFeatures; outcomes: Record<string, ReplayOutcome> }>();
  for (const o of outcomes) {
    let group = groups.get(o.group);
    if (!group) {
      group = { features: o.features, outcomes: {} };
      groups.set(o.group, group);
    }
    group.outcomes[o.model] ??= { ok: o.ok, quality: o.quality, costUsd: o.costUsd ?? 0, latencyMs: o.latencyMs };
  }
  const rows: ReplayRow[] = [];
  for (const [id, group] of groups) {
    if (candidates.every((m) => group.outcomes[m] !== undefined)) rows.push({ id, ...group });
  }
  return rows;
}
