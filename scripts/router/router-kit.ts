/**
 * What the router's training, replay and benchmark share: the offline quality scorer (GloVe + the committed quality
 * model, as the service scores answers), the token estimator, the price table, the outcome simulator, and the
 * default candidates. Scripts reach into the libraries by path (docs/architecture.md); libraries never import this.
 */
import { join } from 'node:path';
import { type AppConfig, loadConfig, type RouteConstraints } from '@app/config';
import { QualityScorer, type RoutePredictor } from '@app/ml';
import { createOfflineEmbedder } from '../../libs/ml/src/embeddings/offline-embedder.factory';
import { QualityModelStore } from '../../libs/ml/src/quality/quality-model.store';
import { PriceTable, readPriceTable, shippedPriceTable } from '../../libs/llm/src/pricing/price-table';
import { TokenEstimator } from '../../libs/llm/src/tokens/token-estimator';
import { RouteDecider } from '../../libs/llm/src/routing/route-decider';
import { OutcomeSimulator } from '../../libs/llm/src/routing/simulation/outcome-simulator';
import {
  deciderPolicy,
  fixedPolicy,
  oraclePolicy,
  type ReplayPolicy,
  type ReplayRow,
} from '../../libs/llm/src/routing/simulation/router-replay';

/** Cheapest first: the example, used when ROUTER_CANDIDATES is empty. */
export const DEFAULT_CANDIDATES: readonly string[] = ['gemini-2.5-flash-lite', 'gemini-2.5-flash', 'gemini-2.5-pro'];

export interface RouterKit {
  config: AppConfig;
  candidates: readonly string[];
  scorer: QualityScorer;
  tokens: TokenEstimator;
  prices: PriceTable;
  simulator: OutcomeSimulator;
  seed: number;
}

/** The service's config (from the environment, like the service), and everything the router tasks need. */
export async function routerKit(env: Record<string, string | undefined> = process.env): Promise<RouterKit> {
  const config = loadConfig({ envFile: false, packageVersion: '0.0.0-ml', env: { LOG_LEVEL: 'silent', ...env } });
  const store = new QualityModelStore(config);
  await store.onModuleInit();
  const scorer = new QualityScorer(createOfflineEmbedder(config.ml.modelsDir), store);
  const tokens = new TokenEstimator();
  const prices = new PriceTable(
    config.llm.priceTablePath ? readPriceTable(config.llm.priceTablePath) : shippedPriceTable(),
  );
  const seed = config.llm.simulated.seed;
  const candidates = config.router.candidates.length > 1 ? config.router.candidates : DEFAULT_CANDIDATES;
  return {
    config,
    candidates,
    scorer,
    tokens,
    prices,
    seed,
    simulator: new OutcomeSimulator({ scorer, tokens, prices, seed }),
  };
}

export function routerModelDir(config: AppConfig, override?: string): string {
  return override ?? join(config.ml.modelsDir, 'router');
}

/** `--name value` options of a task's argument list. */
export function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

/** The output tokens ModelRouter's rules assume (RULES_OUTPUT_TOKENS in libs/llm/src/routing/model-router.ts). */
export const RULES_OUTPUT_TOKENS = 512;

/** The configured constraints of an endpoint (its own entry, else `*`), as ModelRouter applies them. */
export function constraintsFor(config: AppConfig, endpoint: string): RouteConstraints {
  const defaults = config.router.constraints;
  return defaults[endpoint] ?? defaults['*'] ?? {};
}

/** The replay's policies: always-strongest, always-cheapest, the rules, the learned router (exploration 0), the oracle. */
export function replayPoliciesFor(
  kit: Pick<RouterKit, 'config' | 'candidates' | 'prices'>,
  predictor: RoutePredictor,
  confidence: number,
  /** Constraints for every request instead of the configured ones (ROUTER_CONSTRAINTS). */
  constraints?: RouteConstraints,
): ReplayPolicy[] {
  const { candidates, prices, config } = kit;
  const decider = (mode: 'rules' | 'learned'): RouteDecider =>
    new RouteDecider({
      mode,
      candidates,
      exploration: 0,
      minHistory: 0,
      predictor,
      price: (model, input, output) => prices.maxCost(model, input, output),
      rulesOutputTokens: RULES_OUTPUT_TOKENS,
      confidence,
      random: () => 0,
    });
  const constraintsOf = (row: ReplayRow): RouteConstraints =>
    constraints ?? constraintsFor(config, row.features.endpoint);
  return [
    fixedPolicy('always-strongest', candidates[candidates.length - 1]!),
    fixedPolicy('always-cheapest', candidates[0]!),
    deciderPolicy('rules', decider('rules'), constraintsOf),
    deciderPolicy('learned', decider('learned'), constraintsOf),
    oraclePolicy(candidates),
  ];
}
