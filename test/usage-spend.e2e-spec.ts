import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { apiKeyEntry, sha256Hex } from './support/api-keys';
import { post } from './support/http';
import { ServiceProcess } from './support/service-process';

/** Two teams' keys (invoke) and the operator's (read): what a showback answers "who spent it?" about. */
const KEYS = {
  'team-a': 'spend-e2e-team-a-key-000000000000000000000',
  'team-b': 'spend-e2e-team-b-key-000000000000000000000',
  ops: 'spend-e2e-ops-key-00000000000000000000000000',
  drills: 'spend-e2e-drills-key-0000000000000000000000',
} as const;
const API_KEYS = [
  apiKeyEntry('team-a', ['invoke'], KEYS['team-a']),
  apiKeyEntry('team-b', ['invoke'], KEYS['team-b']),
  apiKeyEntry('ops', ['read'], KEYS.ops),
  apiKeyEntry('drills', ['admin'], KEYS.drills),
].join(',');
const as = (name: keyof typeof KEYS): Record<string, string> => ({ authorization: `Bearer ${KEYS[name]}` });

interface Group {
  principal: string | null;
  endpoint?: string;
  model?: string;
  calls: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  cost_share: number | null;
}
interface Report {
  hours: number;
  from: string;
  to: string;
  group_by: string;
  total: Omit<Group, 'principal' | 'cost_share'>;
  groups: Group[];
  complete_from: string | null;
  notes: string[];
}
interface Problem {
  status: number;
  code: string;
  errors?: { field: string; reason: string }[];
}

/**
 * Spend per API key (showback) on the built service: two keys make calls on /qa, /reason and /v1/chat/completions
 * (simulated provider, priced), and `GET /usage/spend` attributes each call and its cost to the key that made it,
 * with totals that match the cost the ledger holds (its raw rows and its hourly rollup). The ledger keeps the key's
 * name, never the key or its hash. A bad query is a 400 naming the field; the report needs the `read` scope.
 */
describe('GET /usage/spend (built service, API keys, SQLite ledger)', () => {
  let service: ServiceProcess;
  let dataDir: string;

  const spend = async (query: string, key: keyof typeof KEYS = 'ops'): Promise<Response> =>
    fetch(`${service.url}/usage/spend${query}`, { headers: as(key) });

  /** The ledger as the service wrote it, read from its SQLite file. */
  const ledger = <T>(sql: string): T[] => {
    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-spend-'));
    service = await new ServiceProcess({
      AUTH_DISABLED: 'false',
      API_KEYS,
      DATA_DIR: dataDir,
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: '9',
      SIM_LATENCY_MEDIAN_MS: '5',
      LEDGER_FLUSH_MS: '100',
    }).start();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('attributes every call and its cost to the key that made it; the totals are the ledger cost', async () => {
    const calls = [
      post(`${service.url}/qa`, { question: 'What colour is the sky on Mars?' }, as('team-a')),
      post(`${service.url}/qa`, { question: 'Why do leaves change colour in autumn?' }, as('team-a')),
      post(`${service.url}/qa`, { question: 'How far away is the Moon?' }, as('team-a')),
      post(`${service.url}/reason`, { prompt: 'Compare two sorting algorithms, step by step.' }, as('team-b')),
      post(
        `${service.url}/v1/chat/completions`,
        { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Say hello in French.' }] },
        as('team-b'),
      ),
    ];
    expect((await Promise.all(calls)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    // The records reach the ledger at its next flush (100 ms).
    let report: Report | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const res = await spend('?hours=24');
      expect(res.status).toBe(200);
      report = (await res.json()) as Report;
      if (report.total.calls === 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(report?.total.calls).toBe(5);
    const byKey = report!;
    expect(byKey).toMatchObject({ hours: 24, group_by: 'principal', notes: [] });
    expect(Date.parse(byKey.to) - Date.parse(byKey.from)).toBeGreaterThan(23 * 3_600_000);

    // What the ledger holds, per key: its raw rows and its hourly rollup (the `llm` cost of every other report).
    const rows = ledger<{ principal: string | null; calls: number; cost: number }>(
      'SELECT principal, COUNT(*) AS calls, SUM(cost_usd) AS cost FROM usage_records GROUP BY principal ORDER BY principal',
    );
    expect(rows.map((r) => [r.principal, r.calls])).toEqual([
      ['team-a', 3],
      ['team-b', 2],
    ]);
    const [hourly] = ledger<{ cost: number }>('SELECT SUM(cost_usd) AS cost FROM usage_hourly');
    const ledgerCost = rows.reduce((sum, r) => sum + r.cost, 0);
    expect(ledgerCost).toBeGreaterThan(0);
    expect(hourly!.cost).toBeCloseTo(ledgerCost, 12);
    expect(byKey.total.cost_usd).toBeCloseTo(ledgerCost, 12);

    // Each key's spend is its own calls', the most expensive first, with shares that add up to 1.
    const costs = byKey.groups.map((g) => g.cost_usd);
    expect([...costs].sort((a, b) => b - a)).toEqual(costs);
    for (const row of rows) {
      const group = byKey.groups.find((g) => g.principal === row.principal);
      expect(group).toMatchObject({ calls: row.calls, errors: 0 });
      expect(group!.cost_usd).toBeCloseTo(row.cost, 12);
      expect(group!.cost_share).toBeCloseTo(row.cost / ledgerCost, 4);
      expect(group!.input_tokens).toBeGreaterThan(0);
    }
    expect(byKey.groups.map((g) => g.principal).sort()).toEqual(['team-a', 'team-b']);
    expect(byKey.groups.reduce((sum, g) => sum + (g.cost_share ?? 0), 0)).toBeCloseTo(1, 3);

    // Per key and endpoint: team-b's two calls went to two endpoints. Over 2 hours: `hours=1` is the current hour
    // alone, which holds none of the calls when an hour began since they were made.
    const byEndpoint = (await (await spend('?hours=2&group_by=principal,endpoint')).json()) as Report;
    expect(byEndpoint.groups.map((g) => `${g.principal} ${g.endpoint} ${g.calls}`).sort()).toEqual([
      'team-a qa 3',
      'team-b chat 1',
      'team-b reason 1',
    ]);
    const byModel = (await (await spend('?group_by=principal,model')).json()) as Report;
    expect(byModel.groups.every((g) => typeof g.model === 'string' && g.endpoint === undefined)).toBe(true);
    expect(byModel.groups.reduce((sum, g) => sum + g.calls, 0)).toBe(5);
  });

  it('attributes a /stress drill to the key that ran it, as every other call', async () => {
    // /stress set no principal on its call: its spend, the largest a single call makes, was the null group's.
    const res = await post(
      `${service.url}/stress`,
      { prompt: 'Summarise the SRE book.', repetitions: 3 },
      as('drills'),
    );
    expect(res.status).toBe(200);
    let groups: string[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      // The current hour and the one before (an hour may begin between the call and the report).
      const report = (await (await spend('?hours=2&group_by=principal,endpoint')).json()) as Report;
      groups = report.groups.filter((g) => g.endpoint === 'stress').map((g) => `${g.principal} ${g.calls}`);
      if (groups.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(groups).toEqual(['drills 1']);
  });

  it("keeps the key's name in the ledger, never the key or its hash", () => {
    const files = readdirSync(dataDir).filter((f) => f.startsWith('ledger.sqlite'));
    const bytes = files.map((f) => readFileSync(join(dataDir, f)).toString('latin1')).join('');
    expect(bytes).toContain('team-a');
    for (const key of Object.values(KEYS)) {
      expect(bytes).not.toContain(key);
      expect(bytes).not.toContain(sha256Hex(key));
    }
  });

  it('refuses a bad query with a 400 naming the field, and a key without the read scope with a 403', async () => {
    for (const [query, field] of [
      ['?hours=0', 'hours'],
      ['?hours=745', 'hours'],
      ['?hours=abc', 'hours'],
      ['?hours=2.5', 'hours'],
      ['?group_by=model', 'group_by'],
      ['?group_by=principal,provider', 'group_by'],
      ['?days=7', 'days'],
    ] as const) {
      const res = await spend(query);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as Problem;
      expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    }
    expect((await spend('', 'team-a')).status).toBe(403);
    expect((await fetch(`${service.url}/usage/spend`)).status).toBe(401);
  });
});
