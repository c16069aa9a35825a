/**
 * Offline evaluations of the ML lib's models that need more than a held-out split.   npm run ml:eval -- <task> [options]
 *
 *   router       the model router's replay: cost and mean quality of always-strongest, always-cheapest, the rules and
 *                the learned router (and an oracle) over a generated workload and the hand-written set
 *                data/router-eval/requests.jsonl, then what the current ledger's routed rows say
 *                (scripts/router/router-eval.task.ts; docs/ml.md, "Model router")
 *
 * Each task prints its tables and a JSON summary.
 */
import { evalRouterTask } from './router/router-eval.task';

const TASKS: Record<string, (args: string[]) => Promise<void>> = {
  router: evalRouterTask,
};

async function main(): Promise<void> {
  const [task, ...args] = process.argv.slice(2);
  const run = task ? TASKS[task] : undefined;
  if (!run) {
    console.error(`usage: npm run ml:eval -- <${Object.keys(TASKS).join('|')}> [options]`);
    process.exit(2);
  }
  await run(args);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
