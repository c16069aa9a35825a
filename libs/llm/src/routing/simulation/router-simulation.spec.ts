import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedgerStore } from '../../../../ledger/src/store/sqlite-ledger.store';
import { isHeldOutGroup } from '../../../../ml/src/router/router-training';
import { routerKit, type RouterKit } from '../../../../../scripts/router/router-kit';
import { trainRouterFromLedger } from '../../../../../scripts/router/router-train.task';
import { generateWorkload } from './workload-generator';
import { readAllRecords, routerOutcomes, writeSimulatedLedger } from './router-ledger';
import type { OutcomeRow } from './outcome-simulator';

const MODELS_DIR = join(__dirname, '../../../../../models');
const LITE = 'gemini-2.5-flash-lite';
const PRO = 'gemini-2.5-pro';

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

describe('router training on a small simulated ledger', () => {
  let dir: string;
  let kit: RouterKit;
  let store: SqliteLedgerStore;
  let rows: OutcomeRow[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'router-sim-'));
    kit = await routerKit({ MODELS_DIR, SIM_SEED: '42', ROUTER_CANDIDATES: '', DATA_DIR: dir });
    store = new SqliteLedgerStore(join(dir, 'ledger.sqlite'));
    await store.init();
    rows = generateWorkload(1200, 5).map((r) => kit.simulator.row(r, kit.candidates));
    await writeSimulatedLedger(store, rows, Date.now() - 3_600_000);
  });

  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one decodable ledger row per request and candidate', async () => {
    const { outcomes, read, skipped } = routerOutcomes(await readAllRecords(store));
    expect(read).toBe(3600);
    expect(outcomes).toHaveLength(3600);
    expect(skipped).toEqual({ noRouting: 0, aborted: 0, rejected: 0, noQuality: 0 });
    expect(new Set(outcomes.map((o) => o.model))).toEqual(new Set(kit.candidates));
  });

  it("leaves out a call the provider refused as the caller's own (status rejected): no fault of the model", async () => {
    const records = (await readAllRecords(store)).slice(0, 10);
    const rejected = records.map((r, i) => (i < 4 ? { ...r, status: 'rejected' as const, qualityScore: null } : r));
    const { outcomes, skipped } = routerOutcomes(rejected);
    expect(skipped.rejected).toBe(4);
    expect(outcomes).toHaveLength(6);
  });

  it('learns that the strong model is better on hard requests (held-out prompts)', async () => {
    const { router } = await trainRouterFromLedger(kit, store, { source: 'test', epochs: 12 });
    const heldOut = rows.filter((r) => isHeldOutGroup(r.promptHash));
    expect(heldOut.length).toBeGreaterThan(100);
    // Hard: the simulator's difficulty in its upper range, on the tasks where the models' benchmark scores differ most.
    const hard = heldOut.filter(
      (r) => r.outcomes[0]!.difficulty >= 0.45 && ['knowledge', 'math', 'code'].includes(r.outcomes[0]!.task),
    );
    const easy = heldOut.filter((r) => r.outcomes[0]!.difficulty < 0.35 && r.outcomes[0]!.task === 'chat');
    expect(hard.length).toBeGreaterThan(15);

    const gap = (set: OutcomeRow[], q: number): number =>
      mean(
        set.map((r) => {
          const [lite, pro] = router.predict(r.features, [LITE, PRO], q);
          return pro!.pMeetsQuality - lite!.pMeetsQuality;
        }),
      );
    // Share of answers scoring at least 0.5: a failed answer (a hedge, a cut-off or off-topic answer) mostly scores
    // below it, a correct one above (a confidently wrong answer without a document is beyond the offline scorer).
    const observed = (set: OutcomeRow[], model: string): number =>
      mean(set.map((r) => ((r.outcomes.find((o) => o.model === model)!.quality ?? 0) >= 0.5 ? 1 : 0)));

    // What the held-out data shows, and what the model predicts for it.
    expect(observed(hard, PRO)).toBeGreaterThan(observed(hard, LITE) + 0.1);
    expect(gap(hard, 0.5)).toBeGreaterThan(0.1);
    if (easy.length >= 5) expect(gap(hard, 0.5)).toBeGreaterThan(gap(easy, 0.5));
  });
});
