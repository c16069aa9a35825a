/**
 * Request-path cost of the model router's learned decision (issue #18: ≤ 0.5 ms p50): RouteDecider.decide in learned
 * mode with the committed model (models/router) over 3 candidates, including feature extraction, on the prompts of the
 * hand-written evaluation set (data/router-eval) and of the generated workload. Prints p50/p99 in microseconds as JSON.
 *
 *   sh scripts/node24.sh node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON bench/router-decision.ts [decisions=20000]
 *
 * Run directly by Node (type stripping), it re-runs itself through scripts/ts-run.sh: the libraries it measures use
 * path aliases and extensionless imports, which only the transpiled tree resolves.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as RouteFeaturesNs from '../libs/ml/src/router/route-features';
import type * as RouterModelNs from '../libs/ml/src/router/router-model';
import type * as RouteDeciderNs from '../libs/llm/src/routing/route-decider';
import type * as PriceTableNs from '../libs/llm/src/pricing/price-table';
import type * as EndpointsNs from '../libs/llm/src/llm-endpoints.service';
import type * as GeneratorNs from '../libs/llm/src/routing/simulation/workload-generator';
import type * as EvalTaskNs from '../scripts/router/router-eval.task';
import type * as RouterKitNs from '../scripts/router/router-kit';

type RouteFeaturesModule = typeof RouteFeaturesNs;
type RouterModelModule = typeof RouterModelNs;
type RouteDeciderModule = typeof RouteDeciderNs;
type PriceTableModule = typeof PriceTableNs;
type EndpointsModule = typeof EndpointsNs;
type GeneratorModule = typeof GeneratorNs;
type EvalTaskModule = typeof EvalTaskNs;
type RouterKitModule = typeof RouterKitNs;

const DEFAULT_DECISIONS = 20_000;
const WARM_UP = 3_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(samples: number[]): { p50Us: number; p99Us: number; meanUs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const us = (ms: number): number => Math.round(ms * 1000 * 100) / 100;
  return {
    p50Us: us(percentile(sorted, 50)),
    p99Us: us(percentile(sorted, 99)),
    meanUs: us(samples.reduce((a, b) => a + b, 0) / samples.length),
  };
}

async function main(): Promise<void> {
  const decisions = Number(process.argv[2] ?? DEFAULT_DECISIONS);
  // CommonJS here (the transpiled tree): require resolves the path aliases and extensionless imports.
  const load = createRequire(__filename);
  const { extractRouteFeatures } = load('../libs/ml/src/router/route-features') as RouteFeaturesModule;
  const { RouterModel } = load('../libs/ml/src/router/router-model') as RouterModelModule;
  const { RouteDecider, ROUTE_CONFIDENCE } = load('../libs/llm/src/routing/route-decider') as RouteDeciderModule;
  const { PriceTable, shippedPriceTable } = load('../libs/llm/src/pricing/price-table') as PriceTableModule;
  const { qaPrompt } = load('../libs/llm/src/llm-endpoints.service') as EndpointsModule;
  const { generateWorkload } = load('../libs/llm/src/routing/simulation/workload-generator') as GeneratorModule;
  const { readEvalSet } = load('../scripts/router/router-eval.task') as EvalTaskModule;
  const { DEFAULT_CANDIDATES, RULES_OUTPUT_TOKENS } = load('../scripts/router/router-kit') as RouterKitModule;

  const root = process.cwd();
  const router = await RouterModel.load(join(root, 'models', 'router'));
  if (!router.status().loaded) throw new Error(router.status().reason ?? 'router model not loaded');
  const prices = new PriceTable(shippedPriceTable());
  const decider = new RouteDecider({
    mode: 'learned',
    candidates: DEFAULT_CANDIDATES,
    exploration: 0,
    minHistory: 0,
    predictor: router,
    price: (model, input, output) => prices.maxCost(model, input, output),
    rulesOutputTokens: RULES_OUTPUT_TOKENS,
    // As ModelRouter: the model's own tuned threshold, else the default.
    confidence: router.status().confidence ?? ROUTE_CONFIDENCE,
    random: Math.random,
  });
  const requests = [
    ...readEvalSet(join(root, 'data', 'router-eval', 'requests.jsonl')),
    ...generateWorkload(500, 99),
  ].map((r) => ({
    endpoint: r.endpoint,
    userText: r.text,
    prompt: r.endpoint === 'qa' ? qaPrompt(r.text, r.document) : r.text,
    document: r.document,
  }));
  // The service's default (ROUTER_CONSTRAINTS `*:min_quality=0.5`).
  const constraints = { minQuality: 0.5 };
  const admits = (): boolean => true;

  const reasons: Record<string, number> = {};
  for (let i = 0; i < WARM_UP; i++) {
    const request = requests[i % requests.length]!;
    decider.decide(extractRouteFeatures(request), constraints, admits);
  }
  const decide: number[] = [];
  const predictOnly: number[] = [];
  const features = requests.map((r) => extractRouteFeatures(r));
  for (let i = 0; i < decisions; i++) {
    const request = requests[i % requests.length]!;
    const t0 = performance.now();
    const decision = decider.decide(extractRouteFeatures(request), constraints, admits);
    const t1 = performance.now();
    router.predict(features[i % features.length]!, DEFAULT_CANDIDATES, 0.7);
    const t2 = performance.now();
    decide.push(t1 - t0);
    predictOnly.push(t2 - t1);
    reasons[decision.reason] = (reasons[decision.reason] ?? 0) + 1;
  }
  console.log(
    JSON.stringify(
      {
        bench: 'router-decision',
        node: process.version,
        decisions,
        warmUp: WARM_UP,
        candidates: DEFAULT_CANDIDATES,
        prompts: requests.length,
        model: { trainedOn: router.status().trainedOn, trainedAt: router.status().trainedAt },
        decide: summarise(decide),
        predictOnly: summarise(predictOnly),
        target: { p50Us: 500 },
        reasons,
      },
      null,
      2,
    ),
  );
}

// Node's type stripping runs this file as an ES module (no __filename); the transpiled tree runs it as CommonJS.
if (typeof __filename === 'undefined' || __filename.endsWith('.ts')) {
  // Re-run through the transpiled tree (path aliases, extensionless imports).
  const child = spawnSync('sh', ['scripts/ts-run.sh', 'bench/router-decision.ts', ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
