/**
 * Trains the ML lib's models from the labelled data committed under data/ and writes their artifacts
 * under models/.   npm run ml:train -- <task> [options]
 *
 *   quality      data/quality/examples.jsonl + data/quality-dev/dev.jsonl → models/quality/ (monotone TensorFlow.js
 *                model), held-out and dev cross-validation report; the test set (data/quality-eval) only with --eval-test
 *   injection    data/injection/examples.jsonl + data/injection-dev/dev.jsonl → models/injection/ (logistic regression,
 *                flag threshold chosen on dev 5-fold CV); the test set (data/injection-eval) only with --eval-test
 *   cost         ledger (or --from file|datadog|synthetic) → models/cost-forecaster/ (TensorFlow.js), metrics table vs baselines
 *   router       ledger outcomes (or --simulate N: generated requests × candidates through the simulator and the real
 *                scorer, into a temporary SQLite ledger) → models/router/ (TensorFlow.js), held-out metrics and the
 *                decider's confidence tuned on held-out generated rows (scripts/router/router-train.task.ts)
 *
 * Each task prints its held-out metrics as JSON (docs/ml.md quotes them).
 */
import { trainCostTask } from '../libs/forecast/src/cost-train.task';
import { trainInjectionTask } from '../libs/ml/src/safety/injection-train.task';
import { trainQualityTask } from '../libs/ml/src/quality/quality-train.task';
import { trainRouterTask } from './router/router-train.task';

const TASKS: Record<string, (args: string[]) => Promise<void>> = {
  quality: trainQualityTask,
  injection: trainInjectionTask,
  cost: trainCostTask,
  router: trainRouterTask,
};

async function main(): Promise<void> {
  const [task, ...args] = process.argv.slice(2);
  const run = task ? TASKS[task] : undefined;
  if (!run) {
    console.error(`usage: npm run ml:train -- <${Object.keys(TASKS).join('|')}> [options]`);
    process.exit(2);
  }
  await run(args);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
