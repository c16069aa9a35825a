/**
 * `npm run ml:train -- router [--simulate N] [--seed S] [--epochs N] [--train-seed N] [--models DIR] [--no-save]`
 *
 * Trains the router's predictor (libs/ml/src/router) from outcome rows of a ledger store: the rows whose
 * `router_decision` decodes. Without --simulate: the service's own ledger (DATA_DIR or DATABASE_URL). With
 * --simulate N (a fresh clone; what produced the committed model): N requests of the GENERATED training workload
 * (seed S, default 1) run through every candidate with the simulator's model profiles, scored by the real
 * QualityScorer, written into a fresh SQLite ledger in a temporary directory, then trained on through the same path
 * as real rows. Held-out rows: 20 % of prompt hashes. The decider's confidence is tuned on the held-out rows of this
 * (generated) data only, never on an evaluation set. Writes models/router/ (model.json, weights.bin, meta.json).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import { GOOD_THRESHOLD } from '@app/ml';
import { createLedgerStore, type LedgerStore } from '@app/ledger';
import { loadTfjs } from '../../libs/ml/src/tfjs';
import { RouterModel, type RouterModelMeta } from '../../libs/ml/src/router/router-model';
import {
  evaluateRouterModel,
  saveRouterModel,
  splitOutcomes,
  trainRouterModel,
  type RouterTrainOptions,
} from '../../libs/ml/src/router/router-training';
import { generateWorkload } from '../../libs/llm/src/routing/simulation/workload-generator';
import {
  readAllRecords,
  replayRowsFromOutcomes,
  routerOutcomes,
  writeSimulatedLedger,
  type LedgerOutcome,
} from '../../libs/llm/src/routing/simulation/router-ledger';
import { type PolicyResult, replayPolicies } from '../../libs/llm/src/routing/simulation/router-replay';
import { constraintsFor, option, replayPoliciesFor, routerKit, routerModelDir, type RouterKit } from './router-kit';

/** The generated training workload's seed (the evaluation workload uses another: router-eval.task.ts). */
export const TRAIN_WORKLOAD_SEED = 1;
/** Confidences tried on the development rows. */
const CONFIDENCE_GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** Quality loss vs always-strongest the tuning allows on the development rows (the target is 2 %). */
const DEV_QUALITY_BUDGET_PCT = 1;

export interface RouterTrainResult {
  router: RouterModel;
  meta: RouterModelMeta;
  outcomes: LedgerOutcome[];
}

/** Simulated outcomes of `count` generated requests, written into `store`. */
export async function simulateIntoLedger(
  kit: RouterKit,
  store: LedgerStore,
  count: number,
  seed: number,
): Promise<number> {
  const requests = generateWorkload(count, seed);
  const rows = requests.map((r) => kit.simulator.row(r, kit.candidates));
  // A day before now, a second apart: inside any retention window.
  return writeSimulatedLedger(store, rows, Date.now() - 86_400_000);
}

/** Reads the store's routed outcomes, trains, evaluates on held-out prompt hashes and tunes the confidence. */
export async function trainRouterFromLedger(
  kit: RouterKit,
  store: LedgerStore,
  options: RouterTrainOptions & { source: string; log?: (line: string) => void } = { source: 'ledger' },
): Promise<RouterTrainResult> {
  const log = options.log ?? (() => undefined);
  const { outcomes, read, skipped } = routerOutcomes(await readAllRecords(store));
  log(`ledger: ${read} rows read, ${outcomes.length} routed outcomes (skipped: ${JSON.stringify(skipped)})`);
  if (outcomes.length === 0) throw new Error('no routed outcomes in the ledger: run with --simulate N');
  const { train, heldOut } = splitOutcomes(outcomes);
  const { tf } = await loadTfjs();
  const started = performance.now();
  const { model, meta } = await trainRouterModel(tf, train, {
    models: kit.candidates.filter((m) => outcomes.some((o) => o.model === m)),
    ...options,
  });
  log(`trained on ${train.length} outcomes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const draft: RouterModelMeta = {
    ...meta,
    trainedAt: new Date().toISOString(),
    source: options.source,
    heldOut: {},
  };
  const router = RouterModel.fromLayers(tf, model, draft);
  const evaluation = evaluateRouterModel(router, heldOut);
  const tuning = tuneConfidence(kit, router, heldOut);
  const full: RouterModelMeta = {
    ...draft,
    heldOut: { split: 'prompt hash, 20 %', ...evaluation },
    confidence: tuning.byMinQuality.find((t) => t.minQuality === GOOD_THRESHOLD)!.confidence,
    development: tuning,
    hyperParameters: {
      seed: options.seed ?? 7,
      hidden: options.hidden ?? [32, 32],
      epochs: options.epochs ?? 30,
      learningRate: options.learningRate ?? 0.003,
      l2: options.l2 ?? 1e-5,
    },
  };
  return { router: RouterModel.fromLayers(tf, model, full), meta: full, outcomes };
}

/** One minimum quality's tuning: the confidence chosen and the development replay for each confidence tried. */
export interface ConfidenceTuning {
  minQuality: number;
  confidence: number;
  grid: { confidence: number; learned: PolicyResult }[];
}

/**
 * The decider's confidence from the development rows (held-out prompts of the training data, never an evaluation
 * set), for the configured minimum quality and for the quality scorer's "good" threshold (0.5): per minimum, the
 * confidence with the lowest cost whose mean quality stays within DEV_QUALITY_BUDGET_PCT of always-strongest (else
 * the highest tried).
 */
export function tuneConfidence(
  kit: RouterKit,
  router: RouterModel,
  heldOut: readonly LedgerOutcome[],
): { rows: number; byMinQuality: ConfidenceTuning[] } {
  const rows = replayRowsFromOutcomes(heldOut, kit.candidates);
  const configured = constraintsFor(kit.config, '*').minQuality ?? 0;
  const minima = [...new Set([GOOD_THRESHOLD, configured])];
  const byMinQuality = minima.map((minQuality) => {
    const grid = CONFIDENCE_GRID.map((confidence) => {
      const policies = replayPoliciesFor(kit, router, confidence, { minQuality });
      const results = replayPolicies(rows, policies, kit.candidates, minQuality);
      return { confidence, learned: results.find((r) => r.policy === 'learned')! };
    });
    const fitting = grid.filter((g) => g.learned.qualityVsStrongestPct >= -DEV_QUALITY_BUDGET_PCT);
    const best = fitting.length
      ? fitting.reduce((a, g) => (g.learned.totalCostUsd < a.learned.totalCostUsd ? g : a))
      : grid[grid.length - 1]!;
    return { minQuality, confidence: best.confidence, grid };
  });
  return { rows: rows.length, byMinQuality };
}

export async function trainRouterTask(args: string[]): Promise<void> {
  const simulate = option(args, 'simulate');
  const seed = Number(option(args, 'seed') ?? TRAIN_WORKLOAD_SEED);
  const epochs = option(args, 'epochs');
  const trainSeed = option(args, 'train-seed');
  const kit = await routerKit();
  let temp: string | undefined;
  let store: LedgerStore;
  if (simulate) {
    temp = await mkdtemp(join(tmpdir(), 'router-sim-'));
    const config = loadConfig({
      envFile: false,
      packageVersion: '0.0.0-ml',
      env: { ...process.env, LOG_LEVEL: 'silent', DATA_DIR: temp, DATABASE_URL: '' },
    });
    store = createLedgerStore(config);
  } else {
    store = createLedgerStore(kit.config);
  }
  await store.init();
  try {
    if (simulate) {
      const started = performance.now();
      const written = await simulateIntoLedger(kit, store, Number(simulate), seed);
      console.log(
        `simulated ${simulate} generated requests (seed ${seed}) × ${kit.candidates.length} candidates → ${written} ledger rows in ${temp} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
    const { router, meta } = await trainRouterFromLedger(kit, store, {
      source: simulate ? `simulated: ${simulate} generated requests, seed ${seed}, SIM_SEED ${kit.seed}` : 'ledger',
      ...(epochs ? { epochs: Number(epochs) } : {}),
      ...(trainSeed ? { seed: Number(trainSeed) } : {}),
      onEpoch: (epoch, loss) => {
        if (epoch % 5 === 0) console.log(`epoch ${epoch}: loss ${loss.toFixed(4)}`);
      },
      log: (line) => console.log(line),
    });
    const dir = routerModelDir(kit.config, option(args, 'models'));
    if (!args.includes('--no-save')) {
      await saveRouterModel(router.layers!, dir, meta);
      console.log(`saved to ${dir}`);
    }
    const development = meta.development as ReturnType<typeof tuneConfidence>;
    for (const t of development.byMinQuality) {
      console.log(`development replay (${development.rows} held-out prompts), min quality ${t.minQuality}:`);
      for (const g of t.grid) {
        const chosen = g.confidence === t.confidence ? '  ← chosen' : '';
        console.log(
          `  confidence ${g.confidence}: cost ${g.learned.costVsStrongestPct.toFixed(1)} %, quality ${g.learned.qualityVsStrongestPct.toFixed(2)} % vs always-strongest${chosen}`,
        );
      }
    }
    console.log(
      JSON.stringify({ trainedOn: meta.trainedOn, confidence: meta.confidence, heldOut: meta.heldOut }, null, 2),
    );
  } finally {
    await store.close();
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}
