import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { type LlmBody, post } from './support/http';
import { PostgresTestServer } from './support/postgres-server';
import { ServiceProcess } from './support/service-process';
import { withinOneUtcDay } from './support/wall-clock';

/**
 * Issue #12, "Budgets hold under concurrency": with BUDGET_POLICY=enforce each call reserves its worst case before
 * it starts, so a burst of concurrent calls against a budget that fits 5 answers at most 5 and refuses the rest
 * with 429, one process (in-memory reservations) or two on one PostgreSQL (shared reservations); and a process
 * killed mid-call stops holding the budget within its reservations' time to live (the call deadline + a flush +
 * 1 s).
 *
 * The slack stated: every call here sends the same prompt and the simulated provider counts its input with the
 * same tokenizer the worst case does and never writes more than LLM_MAX_OUTPUT_TOKENS, so a reservation is never
 * below the call's real cost; a settled call frees (worst − real) for later calls, but the calls of a burst are all
 * admitted or refused while the first 5 are still in flight (SIM latency 1.5 s), so the slack is 0 calls: at most
 * 5 answered, and the spend at most the budget (asserted; the issue allows one call's cost more).
 */
const QUESTION = { question: 'What colour is the sky on Mars?', document: 'The sky on Mars is butterscotch by day.' };
const BASE = {
  BUDGET_POLICY: 'enforce',
  SIM_LATENCY_MEDIAN_MS: '1500',
  SIM_LATENCY_SIGMA: '0',
  LEDGER_FLUSH_MS: '200',
};

interface Burst {
  answered: number;
  refused: number;
  other: number[];
  spentUsd: number;
  problems: Record<string, unknown>[];
}

/** `n` concurrent /qa calls, spread over the services in turn, all sent at once (loopback). */
async function burst(services: ServiceProcess[], n: number): Promise<Burst> {
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) => post(`${services[i % services.length]!.url}/qa`, QUESTION)),
  );
  const result: Burst = { answered: 0, refused: 0, other: [], spentUsd: 0, problems: [] };
  for (const res of responses) {
    if (res.status === 200) {
      result.answered += 1;
      result.spentUsd += Number(((await res.json()) as LlmBody).metadata.cost_usd);
    } else if (res.status === 429) {
      result.refused += 1;
      result.problems.push((await res.json()) as Record<string, unknown>);
    } else {
      result.other.push(res.status);
      await res.text();
    }
  }
  return result;
}

function expectWithinBudget(result: Burst, n: number, budgetUsd: number, worstUsd: number): void {
  expect(result.other).toEqual([]);
  expect(result.answered).toBeGreaterThanOrEqual(1);
  expect(result.answered).toBeLessThanOrEqual(5);
  expect(result.refused).toBe(n - result.answered);
  expect(result.spentUsd).toBeLessThanOrEqual(budgetUsd + 1e-9);
  for (const problem of result.problems) {
    expect(problem).toMatchObject({ code: 'BUDGET_EXCEEDED', status: 429, dailyBudgetUsd: budgetUsd });
    expect(problem.callWorstCaseUsd).toBeCloseTo(worstUsd, 9);
    expect(Number(problem.spentTodayUsd) + Number(problem.reservedUsd) + worstUsd).toBeGreaterThan(budgetUsd);
  }
}

describe('budgets hold under concurrency (BUDGET_POLICY=enforce, reservations)', () => {
  const pg = new PostgresTestServer();
  const dirs: string[] = [];
  const running: ServiceProcess[] = [];
  let worstUsd = 0;
  let budgetUsd = 0;
  const report: string[] = [];

  const start = async (env: Record<string, string>): Promise<ServiceProcess> => {
    const dir = mkdtempSync(join(tmpdir(), 'budget-concurrency-'));
    dirs.push(dir);
    const service = new ServiceProcess({ ...BASE, DATA_DIR: dir, ...env });
    running.push(service);
    return service.start();
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  };
  const database = async (name: string): Promise<string> => {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    return pg.url.replace(/\/postgres$/, `/${name}`);
  };
  const query = async <T>(url: string, sql: string): Promise<T[]> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    ServiceProcess.assertBuilt();
    await pg.start();
    // The worst case of this call, as the service computes it: a budget too small for any call says it.
    const probe = await start({ DAILY_BUDGET_USD: '0.000001' });
    const res = await post(`${probe.url}/qa`, QUESTION);
    expect(res.status).toBe(429);
    worstUsd = Number(((await res.json()) as { callWorstCaseUsd: number }).callWorstCaseUsd);
    expect(worstUsd).toBeGreaterThan(0);
    budgetUsd = Math.round(worstUsd * 5.5 * 1e6) / 1e6; // fits 5 calls, not 6
    await stopAll();
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    pg.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    // The numbers, for the record (docs/ledger.md quotes them).
    process.stdout.write(`${report.join('\n')}\n`);
  });

  afterEach(stopAll);

  it.each([50, 200])(
    'one process (in-memory reservations): %i concurrent calls, budget fits 5',
    async (n) => {
      // Today's budget: a burst whose first calls settle after midnight (their spend yesterday's) leaves a new day's
      // budget to a second wave, rightly; such a run is made again on the new day.
      const result = await withinOneUtcDay(async () => {
        await stopAll();
        return burst([await start({ DAILY_BUDGET_USD: String(budgetUsd) })], n);
      });
      report.push(
        `one process, ${n} calls: ${result.answered} answered, ${result.refused} × 429, spent $${result.spentUsd.toFixed(6)} of $${budgetUsd} (worst case/call $${worstUsd})`,
      );
      expectWithinBudget(result, n, budgetUsd, worstUsd);
    },
    60_000,
  );

  it.each([50, 200])(
    'two processes on one PostgreSQL: %i concurrent calls across both, budget fits 5',
    async (n) => {
      // As above, a run over midnight is made again on the new day (on a database of its own).
      const { result, stored } = await withinOneUtcDay(async (attempt) => {
        const url = await database(`burst_${n}_${attempt}`);
        const env = { DAILY_BUDGET_USD: String(budgetUsd), DATABASE_URL: url };
        const services = await Promise.all([start(env), start(env)]);
        const result = await burst(services, n);
        await stopAll(); // flushes both ledgers
        const stored = (
          await query<{ cost: number; reserved: string }>(
            url,
            'SELECT (SELECT COALESCE(SUM(cost_usd), 0) FROM usage_hourly) AS cost, (SELECT COUNT(*) FROM budget_reservations) AS reserved',
          )
        )[0]!;
        return { result, stored };
      });
      report.push(
        `two processes on PostgreSQL, ${n} calls: ${result.answered} answered, ${result.refused} × 429, spent $${result.spentUsd.toFixed(6)} (ledger $${Number(stored.cost).toFixed(6)}) of $${budgetUsd}`,
      );
      expectWithinBudget(result, n, budgetUsd, worstUsd);
      expect(Number(stored.cost)).toBeCloseTo(result.spentUsd, 9);
      expect(Number(stored.reserved)).toBe(0); // settled and released on stop
    },
    60_000,
  );

  it('a process killed mid-call: its reservations stop holding the budget within their time to live', async () => {
    const url = await database('killed');
    // TTL = LLM_DEADLINE_MS + LEDGER_FLUSH_MS + 1 s = 2.7 s.
    const env = {
      DAILY_BUDGET_USD: String(budgetUsd),
      DATABASE_URL: url,
      LLM_DEADLINE_MS: '1500',
      SIM_LATENCY_MEDIAN_MS: '1000',
    };
    const ttlMs = 1500 + 200 + 1000;
    const [doomed, survivor] = await Promise.all([start(env), start(env)]);
    const inFlight = Array.from({ length: 5 }, () => post(`${doomed.url}/qa`, QUESTION).catch(() => undefined));
    // The 5 reservations are taken (one round trip each) before the kill.
    for (let i = 0; i < 50; i++) {
      const rows = await query<{ n: string }>(url, 'SELECT COUNT(*) AS n FROM budget_reservations');
      if (Number(rows[0]?.n) === 5) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const reservedAt = Date.now();
    await doomed.kill();
    await Promise.all(inFlight);

    const refused = await post(`${survivor.url}/qa`, QUESTION);
    expect(refused.status).toBe(429);
    const problem = (await refused.json()) as { reservedUsd: number; spentTodayUsd: number };
    expect(problem.reservedUsd).toBeCloseTo(5 * worstUsd, 5);
    expect(problem.spentTodayUsd).toBe(0);

    let freedAfterMs = -1;
    while (Date.now() - reservedAt < ttlMs + 3000) {
      const sentAt = Date.now();
      const res = await post(`${survivor.url}/qa`, QUESTION);
      if (res.status === 200) {
        freedAfterMs = sentAt - reservedAt;
        break;
      }
      await res.text();
      await new Promise((r) => setTimeout(r, 100));
    }
    report.push(
      `killed process: its 5 reservations held the budget, a call was admitted again ${freedAfterMs} ms after they were taken (TTL ${ttlMs} ms)`,
    );
    expect(freedAfterMs).toBeGreaterThan(0);
    // Admitted within the TTL of the last reservation taken, plus polling.
    expect(freedAfterMs).toBeLessThanOrEqual(ttlMs + 500);
  }, 60_000);

  it('two processes: a stream that goes on past the time to live of its reservation keeps holding the budget', async () => {
    // A slow model (a local one on CPU, a long answer): the deadline bounds a stream only until its first token, so
    // these streams (12 pieces 0.7 s apart, about 8 s) outlive the reservation's TTL (LLM_DEADLINE_MS + flush + 1 s =
    // 3.7 s; renewed every 1.2 s, so a renewal may come 2.4 s late on a loaded machine). Each writes the output limit,
    // so it costs about its worst case: the budget fits 5 of them.
    const openai = await new FakeOpenAiServer().start();
    try {
      openai.setDefault({
        type: 'answer',
        chunks: Array.from({ length: 12 }, (_, i) => `piece ${i} `),
        chunkDelayMs: 700,
        usage: { prompt: 12, output: 240 },
        finishReason: 'length',
      });
      const url = await database('long_streams');
      const env = {
        DATABASE_URL: url,
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: openai.url,
        LLM_MAX_OUTPUT_TOKENS: '240',
        LLM_DEADLINE_MS: '2500',
      };
      const probe = await start({ ...env, DAILY_BUDGET_USD: '0.000001' });
      const refused = await post(`${probe.url}/qa`, QUESTION, { accept: 'text/event-stream' });
      expect(refused.status).toBe(429);
      const worst = Number(((await refused.json()) as { callWorstCaseUsd: number }).callWorstCaseUsd);
      await stopAll();
      const budget = Math.round(worst * 5.5 * 1e6) / 1e6;
      const [a, b] = await Promise.all([
        start({ ...env, DAILY_BUDGET_USD: String(budget) }),
        start({ ...env, DAILY_BUDGET_USD: String(budget) }),
      ]);
      const stream = async (service: ServiceProcess): Promise<{ status: number; body: string }> => {
        const res = await post(`${service.url}/qa`, QUESTION, { accept: 'text/event-stream' });
        return { status: res.status, body: await res.text() };
      };
      const first = Array.from({ length: 5 }, () => stream(a));
      let takenAt = 0;
      for (let i = 0; i < 100 && takenAt === 0; i++) {
        const rows = await query<{ n: string }>(url, 'SELECT COUNT(*) AS n FROM budget_reservations');
        if (Number(rows[0]?.n) === 5) takenAt = Date.now();
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(takenAt).toBeGreaterThan(0);
      // Past the TTL (3.7 s) with the first streams still going (about 8 s): the other process's calls must not fit.
      await new Promise((r) => setTimeout(r, 4700 - (Date.now() - takenAt)));
      const second = await Promise.all(Array.from({ length: 5 }, () => stream(b)));
      const firstDone = await Promise.all(first);
      await stopAll();
      const spent = (
        await query<{ cost: number }>(url, 'SELECT COALESCE(SUM(cost_usd), 0) AS cost FROM usage_hourly')
      )[0]!;
      report.push(
        `streams past their reservation's TTL: ${firstDone.filter((r) => r.status === 200).length} + ${second.filter((r) => r.status === 200).length} admitted, spent $${Number(spent.cost).toFixed(6)} of $${budget}`,
      );
      expect(firstDone.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      for (const r of firstDone) expect(r.body).toContain('piece 11');
      expect(second.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
      expect(Number(spent.cost)).toBeLessThanOrEqual(budget + 1e-9);
    } finally {
      await openai.close();
    }
  }, 90_000);
});
