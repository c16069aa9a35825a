/**
 * `npm run ml:eval -- router [--models DIR] [--generated N] [--seed S] [--set FILE] [--no-ledger]`
 *
 * The router's offline replay. For every request of an evaluation workload, the full outcome matrix (every candidate
 * through the simulator's model profiles, scored by the real QualityScorer), then the policies: always-strongest,
 * always-cheapest, the rules and the learned router (RouteDecider, exploration 0, with the model of models/router),
 * and an oracle for reference. Two workloads, both reported:
 *   (a) GENERATED: the training generator with another seed (default 2; training uses 1), N requests (default 2000);
 *   (b) HAND-WRITTEN: data/router-eval/requests.jsonl, written by hand, never produced by the generator, never trained
 *       or tuned on; reported as written and reweighted by kind to the documented mixture.
 * Then the current ledger (DATA_DIR / DATABASE_URL): what its routed rows say (only the chosen model's outcome is
 * known there). Prints markdown tables and a JSON summary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLedgerStore } from '@app/ledger';
import { decodeRouteDecision, GOOD_THRESHOLD, type RoutePredictor } from '@app/ml';
import { RouterModel } from '../../libs/ml/src/router/router-model';
import { ROUTE_CONFIDENCE } from '../../libs/llm/src/routing/route-decider';
import { generateWorkload, type WorkloadRequest } from '../../libs/llm/src/routing/simulation/workload-generator';
import {
  WORKLOAD_KINDS,
  WORKLOAD_MIXTURE,
  WORKLOAD_MIXTURE_SOURCE,
  type WorkloadKind,
} from '../../libs/llm/src/routing/simulation/workload-mixture';
import {
  readAllRecords,
  replayRowsFromOutcomes,
  routerOutcomes,
} from '../../libs/llm/src/routing/simulation/router-ledger';
import { type PolicyResult, replayPolicies, type ReplayRow } from '../../libs/llm/src/routing/simulation/router-replay';
import { constraintsFor, option, replayPoliciesFor, routerKit, routerModelDir, type RouterKit } from './router-kit';

/** The generated evaluation workload's seed (training uses TRAIN_WORKLOAD_SEED = 1). */
export const EVAL_WORKLOAD_SEED = 2;
export const HAND_WRITTEN_SET = 'data/router-eval/requests.jsonl';
/** The issue's target: at least 30 % cheaper than always-strongest, at most 2 % lower mean quality. */
export const TARGET = { costVsStrongestPct: -30, qualityVsStrongestPct: -2 };
/** The learned router held to min_quality 0.5, the quality scorer's own "good" threshold (GOOD_THRESHOLD). */
const LEARNED_GOOD = 'learned, min_quality 0.5';

/** Reads the hand-written set: one JSON object a line with kind, endpoint (qa|reason), text and optional document. */
export function readEvalSet(path: string): WorkloadRequest[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const row = JSON.parse(line) as Partial<WorkloadRequest>;
      if (
        !row.kind ||
        !WORKLOAD_KINDS.includes(row.kind) ||
        !row.text ||
        (row.endpoint !== 'qa' && row.endpoint !== 'reason')
      ) {
        throw new Error(`${path}:${i + 1}: needs kind (${WORKLOAD_KINDS.join('|')}), endpoint (qa|reason) and text`);
      }
      return {
        id: row.id ?? `eval-${i + 1}`,
        kind: row.kind,
        endpoint: row.endpoint,
        text: row.text,
        document: row.document,
      };
    });
}

/** The full outcome matrix of a workload. */
export function outcomeMatrix(kit: RouterKit, requests: readonly WorkloadRequest[]): ReplayRow[] {
  return requests.map((request) => {
    const row = kit.simulator.row(request, kit.candidates);
    return {
      id: request.id,
      kind: request.kind,
      features: row.features,
      outcomes: Object.fromEntries(
        row.outcomes.map((o) => [
          o.model,
          { ok: o.ok, quality: o.quality ?? 0, costUsd: o.costUsd ?? 0, latencyMs: o.latencyMs },
        ]),
      ),
    };
  });
}

/** Weights that bring the rows' kinds to the documented mixture (kinds absent from the rows are renormalised away). */
export function mixtureWeights(rows: readonly ReplayRow[]): ReplayRow[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.kind ?? '', (counts.get(r.kind ?? '') ?? 0) + 1);
  const present = WORKLOAD_KINDS.filter((k) => counts.has(k));
  const mass = present.reduce((a, k) => a + WORKLOAD_MIXTURE[k], 0);
  return rows.map((r) => ({
    ...r,
    weight: (WORKLOAD_MIXTURE[r.kind as WorkloadKind] / mass) * (rows.length / counts.get(r.kind ?? '')!),
  }));
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;

export function policyTable(results: readonly PolicyResult[], candidates: readonly string[]): string {
  const head = `| policy | total cost (USD) | mean quality | cost vs strongest | quality vs strongest | meets min quality | ${candidates.map((m) => `→ ${m}`).join(' | ')} |`;
  const sep = `|${' --- |'.repeat(6 + candidates.length)}`;
  const lines = results.map(
    (r) =>
      `| ${r.policy} | ${r.totalCostUsd.toFixed(4)} | ${r.meanQuality.toFixed(4)} | ${pct(r.costVsStrongestPct)} | ${pct(r.qualityVsStrongestPct)} | ${(100 * r.meetsMinQuality).toFixed(1)} % | ${candidates.map((m) => `${(100 * (r.shares[m] ?? 0)).toFixed(1)} %`).join(' | ')} |`,
  );
  return [head, sep, ...lines].join('\n');
}

function verdict(results: readonly PolicyResult[], policy: string): { met: boolean; cost: number; quality: number } {
  const r = results.find((x) => x.policy.startsWith(policy))!;
  return {
    met: r.costVsStrongestPct <= TARGET.costVsStrongestPct && r.qualityVsStrongestPct >= TARGET.qualityVsStrongestPct,
    cost: Math.round(r.costVsStrongestPct * 10) / 10,
    quality: Math.round(r.qualityVsStrongestPct * 100) / 100,
  };
}

/** What the current ledger's routed rows say: decisions by mode and reason, and the chosen calls' outcomes by model. */
async function ledgerReport(kit: RouterKit, router: RoutePredictor): Promise<Record<string, unknown>> {
  const store = createLedgerStore(kit.config);
  await store.init();
  try {
    const records = await readAllRecords(store);
    const routed = records.filter((r) => decodeRouteDecision(r.routerDecision) !== undefined);
    const decisions: Record<string, number> = {};
    for (const r of routed) {
      const d = decodeRouteDecision(r.routerDecision)!;
      const key = `${d.mode}/${d.reason}`;
      decisions[key] = (decisions[key] ?? 0) + 1;
    }
    const { outcomes, skipped } = routerOutcomes(records);
    const byModel = kit.candidates.map((model) => {
      const own = outcomes.filter((o) => o.model === model);
      const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
      const predicted =
        router.status().loaded && own.length
          ? mean(own.map((o) => router.predict(o.features, [model], 0)[0]?.expectedQuality ?? 0))
          : null;
      return {
        model,
        calls: own.length,
        explored: own.filter((o) => o.explored).length,
        meanQuality: mean(own.map((o) => o.quality)),
        predictedMeanQuality: predicted,
        meanCostUsd: mean(own.map((o) => o.costUsd ?? 0)),
        errorRate: mean(own.map((o) => (o.ok ? 0 : 1))),
      };
    });
    const fullRows = replayRowsFromOutcomes(outcomes, kit.candidates);
    return {
      dataDir: kit.config.ledger.databaseUrl ? 'DATABASE_URL' : kit.config.ledger.dataDir,
      records: records.length,
      routedRecords: routed.length,
      skipped,
      decisions,
      byModel,
      promptsWithEveryCandidate: fullRows.length,
    };
  } finally {
    await store.close();
  }
}

export async function evalRouterTask(args: string[]): Promise<void> {
  const kit = await routerKit();
  const dir = routerModelDir(kit.config, option(args, 'models'));
  const router = await RouterModel.load(dir);
  const status = router.status();
  if (!status.loaded) throw new Error(`${status.reason ?? 'router model not loaded'}`);
  const missing = kit.candidates.filter((m) => !status.models.includes(m));
  if (missing.length) console.warn(`the model has no evidence for ${missing.join(', ')}: the rules decide for them`);
  const minQuality = constraintsFor(kit.config, '*').minQuality ?? 0;
  // The confidences tuned on the training data's held-out rows (router-train.task.ts), by minimum quality.
  const tuning = (router.meta?.development as { byMinQuality?: { minQuality: number; confidence: number }[] })
    ?.byMinQuality;
  const tunedFor = (q: number): number => tuning?.find((t) => t.minQuality === q)?.confidence ?? ROUTE_CONFIDENCE;
  const good = { minQuality: GOOD_THRESHOLD };
  const served = status.confidence ?? ROUTE_CONFIDENCE;
  const run = (rows: ReplayRow[]): PolicyResult[] => {
    const learnedWith = (name: string, confidence: number, constraints?: { minQuality: number }): PolicyResult => ({
      ...replayPolicies(rows, replayPoliciesFor(kit, router, confidence, constraints), kit.candidates, minQuality).find(
        (r) => r.policy === 'learned',
      )!,
      policy: name,
    });
    // `learned`: as the service decides (ModelRouter): the model's own tuned threshold, else the default.
    const results = replayPolicies(rows, replayPoliciesFor(kit, router, served), kit.candidates, minQuality);
    const extra: PolicyResult[] = [];
    if (tunedFor(minQuality) !== served) {
      extra.push(learnedWith(`learned (confidence ${tunedFor(minQuality)}, dev-tuned)`, tunedFor(minQuality)));
    }
    extra.push(
      learnedWith(
        `${LEARNED_GOOD} (confidence ${tunedFor(GOOD_THRESHOLD)}, dev-tuned)`,
        tunedFor(GOOD_THRESHOLD),
        good,
      ),
    );
    results.splice(4, 0, ...extra);
    return results;
  };

  const generatedCount = Number(option(args, 'generated') ?? 2000);
  const seed = Number(option(args, 'seed') ?? EVAL_WORKLOAD_SEED);
  const generated = outcomeMatrix(kit, generateWorkload(generatedCount, seed));
  const setPath = option(args, 'set') ?? join(process.cwd(), HAND_WRITTEN_SET);
  const handWritten = outcomeMatrix(kit, readEvalSet(setPath));

  const tables = {
    generated: run(generated),
    handWritten: run(handWritten),
    handWrittenMixture: run(mixtureWeights(handWritten)),
  };
  const kinds: Record<string, number> = {};
  for (const r of handWritten) kinds[r.kind!] = (kinds[r.kind!] ?? 0) + 1;
  const perKind = Object.fromEntries(
    Object.keys(kinds).map((kind) => {
      const rows = handWritten.filter((r) => r.kind === kind);
      const results = run(rows);
      const brief = (r: PolicyResult): Record<string, unknown> => ({
        costVsStrongestPct: Math.round(r.costVsStrongestPct * 10) / 10,
        qualityVsStrongestPct: Math.round(r.qualityVsStrongestPct * 100) / 100,
        shares: Object.fromEntries(Object.entries(r.shares).map(([m, x]) => [m, Math.round(x * 100) / 100])),
      });
      return [
        kind,
        {
          requests: rows.length,
          learned: brief(results.find((r) => r.policy === 'learned')!),
          learnedGood: brief(results.find((r) => r.policy.startsWith(LEARNED_GOOD))!),
        },
      ];
    }),
  );
  const ledger = args.includes('--no-ledger') ? undefined : await ledgerReport(kit, router);

  console.log(
    `\n### Generated evaluation workload (${generated.length} requests, seed ${seed}; training used seed 1)\n`,
  );
  console.log(policyTable(tables.generated, kit.candidates));
  console.log(`\n### Hand-written evaluation set (${handWritten.length} requests, ${setPath}), as written\n`);
  console.log(policyTable(tables.handWritten, kit.candidates));
  console.log(`\n### Hand-written evaluation set, reweighted by kind to the documented mixture\n`);
  console.log(policyTable(tables.handWrittenMixture, kit.candidates));
  const summary = {
    model: { dir, trainedOn: status.trainedOn, trainedAt: status.trainedAt, models: status.models },
    candidates: kit.candidates,
    minQuality,
    confidence: { served, devTuned: tuning ?? null },
    mixture: { source: WORKLOAD_MIXTURE_SOURCE, shares: WORKLOAD_MIXTURE },
    target: TARGET,
    verdict: Object.fromEntries(
      ['learned', LEARNED_GOOD].map((policy) => [
        policy,
        {
          generated: verdict(tables.generated, policy),
          handWritten: verdict(tables.handWritten, policy),
          handWrittenMixture: verdict(tables.handWrittenMixture, policy),
        },
      ]),
    ),
    handWrittenKinds: kinds,
    handWrittenPerKind: perKind,
    tables,
    ledger,
  };
  console.log(`\n${JSON.stringify(summary, null, 2)}`);
}
