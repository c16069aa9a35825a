import { HOUR_MS } from '@app/common';
import { BootError } from '@app/config';
import {
  emptyHourly,
  emptyPrincipalUsage,
  FRACTIONAL_HOURLY_MEASURES,
  HOURLY_MEASURES,
  LATENCY_LADDER_MS,
  LEDGER_SCHEMA,
  rollUp,
  type LedgerStore,
  type LedgerStoreOptions,
  type PrincipalUsage,
  type UsageRecord,
  WINDOW_MEASURES,
  type WindowUsage,
} from '@app/ledger';
import { MEASURE_COLUMNS } from '../../libs/ledger/src/store/ledger-sql';

export interface LedgerStoreHarness {
  /** Opens a new connection (a new store instance) to the same database; `init()` already called. */
  open(options?: LedgerStoreOptions): Promise<LedgerStore>;
  /** Restarts the database itself where that means something (PostgreSQL); the SQLite harness reopens the file. */
  restartDatabase(): Promise<void>;
  /**
   * Opens a store on a new, empty database after running `setup(id)` on it (`id`: the dialect's spelling of an
   * auto-increment primary key column), e.g. a schema of an earlier version; `init()` already called.
   */
  openFresh(setup: (id: string) => string[], options?: LedgerStoreOptions): Promise<LedgerStore>;
  /** Opens another store instance on the database of the last `openFresh`; `init()` already called. */
  reopenFresh(options?: LedgerStoreOptions): Promise<LedgerStore>;
  /** `ledger_meta` of the database of the last `openFresh`, read directly (key to value). */
  freshMeta(): Promise<Record<string, number>>;
  /** Runs `statements` directly on the database of the last `openFresh` (what another program writes there). */
  freshExec(statements: string[]): Promise<void>;
}

/** `ledger_meta` as a newer build would leave it: its schema version, and the oldest version that can use it. */
function newerMeta(version: number, usableFrom: number): string[] {
  return [
    'CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    `INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ${version}), ('schema_usable_from', ${usableFrom})`,
  ];
}

/** An INSERT of a record into `usage_records` as the first release wrote it (test values only: inlined). */
export function legacyInsert(r: UsageRecord): string {
  const v = (x: string | number | null): string => (x === null ? 'NULL' : typeof x === 'number' ? String(x) : `'${x}'`);
  return `INSERT INTO usage_records (ts, endpoint, provider, model, status, error_type, latency_ms, input_tokens,
  output_tokens, cached_tokens, reasoning_tokens, tokens_estimated, cost_usd, quality_score, flags, retry_count,
  fallback_used, router_decision, prompt_hash, prompt_chars, answer_chars, preview) VALUES (${[
    r.ts,
    r.endpoint,
    r.provider,
    r.model,
    r.status,
    r.errorType,
    r.latencyMs,
    r.inputTokens,
    r.outputTokens,
    r.cachedTokens,
    r.reasoningTokens,
    0,
    r.costUsd,
    r.qualityScore,
    JSON.stringify(r.flags),
    r.retryCount,
    0,
    null,
    r.promptHash,
    r.promptChars,
    r.answerChars,
    null,
  ]
    .map(v)
    .join(', ')})`;
}

/** `usage_records` as the first release created it (before `prompt_id` and `trace_id`), with one row. */
function legacySchema(id: string): string[] {
  return [
    `CREATE TABLE usage_records (id ${id}, ts BIGINT NOT NULL, endpoint TEXT NOT NULL, provider TEXT NOT NULL,
  model TEXT NOT NULL, status TEXT NOT NULL, error_type TEXT, latency_ms DOUBLE PRECISION NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cached_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL, tokens_estimated INTEGER NOT NULL, cost_usd DOUBLE PRECISION,
  quality_score DOUBLE PRECISION, flags TEXT NOT NULL, retry_count INTEGER NOT NULL, fallback_used INTEGER NOT NULL,
  router_decision TEXT, prompt_hash TEXT NOT NULL, prompt_chars INTEGER NOT NULL, answer_chars INTEGER NOT NULL,
  preview TEXT)`,
    `INSERT INTO usage_records (ts, endpoint, provider, model, status, error_type, latency_ms, input_tokens,
  output_tokens, cached_tokens, reasoning_tokens, tokens_estimated, cost_usd, quality_score, flags, retry_count,
  fallback_used, router_decision, prompt_hash, prompt_chars, answer_chars, preview)
  VALUES (${T0}, '/qa', 'simulated', 'flash', 'ok', NULL, 10, 100, 20, 0, 0, 0, 0.5, NULL, '[]', 0, 0, NULL, 'h', 5, 7, NULL)`,
  ];
}

/**
 * `usage_10s` as the version before `noCapacity`, `fallbacks`, `fallbackRetries` and the fallbacks' latency created it
 * (every measure but those, then the latency ladder's buckets, not the fallbacks' ones), with one slot row in it. `id` tells the dialect (the auto-increment
 * column of `legacySchema`).
 */
function legacyRollupSchema(id: string): string[] {
  const float = id.startsWith('BIGSERIAL') ? 'DOUBLE PRECISION' : 'REAL';
  const added: readonly string[] = [
    'noCapacity',
    'fallbacks',
    'fallbackRetries',
    'fallbackLatencyCount',
    'fallbackLatencyMsSum',
    'freeFailures',
  ];
  const measures = WINDOW_MEASURES.filter((m) => !added.includes(m)).map(
    (m) =>
      `w_${m.toLowerCase()} ${['costUsd', 'latencyMsSum', 'qualitySum'].includes(m) ? float : 'BIGINT'} NOT NULL DEFAULT 0`,
  );
  const buckets = LATENCY_LADDER_MS.map((_, i) => `h_${i} BIGINT NOT NULL DEFAULT 0`);
  return [
    `CREATE TABLE usage_10s (slot BIGINT NOT NULL, endpoint TEXT NOT NULL, provider TEXT NOT NULL,
  model TEXT NOT NULL, ${[...measures, ...buckets].join(', ')}, PRIMARY KEY (slot, endpoint, provider, model))`,
    `INSERT INTO usage_10s (slot, endpoint, provider, model, w_requests, w_errors)
  VALUES (${T0}, '/qa', 'simulated', 'flash', 3, 1)`,
    // That version rolled up from T0 on (no backfill now).
    'CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    `INSERT INTO ledger_meta (key, value) VALUES ('rollup_10s_since', ${T0})`,
  ];
}

/**
 * `usage_hourly` as the version before `latency_count` and `timed_latency_ms_sum` created it, with a recorded hour (a latency sum) and an
 * imported one (requests and cost, no latency) in it.
 */
function legacyHourlySchema(id: string): string[] {
  const float = id.startsWith('BIGSERIAL') ? 'DOUBLE PRECISION' : 'REAL';
  // That version's latency: `latency_ms_sum` of every call, no count.
  // Nor `errors_unknown` (schema 3): that version read every imported request's errors as known.
  const measures = HOURLY_MEASURES.filter(
    (m) => m !== 'latencyCount' && m !== 'latencyMsSum' && m !== 'errorsUnknown',
  ).map((m) => `${MEASURE_COLUMNS[m]} ${FRACTIONAL_HOURLY_MEASURES.has(m) ? float : 'BIGINT'} NOT NULL DEFAULT 0`);
  measures.push(`latency_ms_sum ${float} NOT NULL DEFAULT 0`);
  return [
    `CREATE TABLE usage_hourly (hour BIGINT NOT NULL, endpoint TEXT NOT NULL, provider TEXT NOT NULL,
  model TEXT NOT NULL, ${measures.join(', ')}, PRIMARY KEY (hour, endpoint, provider, model))`,
    `INSERT INTO usage_hourly (hour, endpoint, provider, model, requests, cost_usd, latency_ms_sum)
  VALUES (${T0}, '/qa', 'simulated', 'flash', 4, 0.5, 1000)`,
    `INSERT INTO usage_hourly (hour, endpoint, provider, model, requests, cost_usd, latency_ms_sum)
  VALUES (${T0 - HOUR_MS}, '/qa', '*', 'flash', 50, 2, 0)`,
  ];
}

const T0 = Date.UTC(2026, 10, 2, 0, 0, 0); // a Monday, 00:00 UTC

export function usageRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    ts: T0,
    endpoint: '/qa',
    provider: 'simulated',
    model: 'gemini-2.5-flash',
    status: 'ok',
    errorType: null,
    latencyMs: 100,
    inputTokens: 1000,
    outputTokens: 200,
    cachedTokens: 0,
    reasoningTokens: 0,
    tokensEstimated: false,
    costUsd: 0.001,
    qualityScore: 0.9,
    flags: [],
    retryCount: 0,
    fallbackUsed: false,
    routerDecision: null,
    promptHash: 'sha256:abc',
    promptChars: 42,
    answerChars: 420,
    preview: null,
    promptId: null,
    traceId: null,
    savedCostUsd: null,
    principal: null,
    ...overrides,
  };
}

/** Records of every kind (statuses, error types, flags, unpriced, unscored, aborted) spread over [from, from + span). */
function mixedRecords(from: number, span: number, n: number): UsageRecord[] {
  let seed = 3;
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const status = pick(['ok', 'ok', 'ok', 'error', 'safety_block', 'aborted'] as const);
    return usageRecord({
      ts: from + Math.floor((i / n) * span),
      endpoint: pick(['qa', 'reason']),
      provider: pick(['vertex', 'openai']),
      model: pick(['flash', 'pro', 'mini']),
      status,
      errorType: status === 'error' ? pick(['timeout', 'circuit_open', 'no_capacity', 'server']) : null,
      latencyMs: Math.round(random() * 5000) / 4,
      costUsd: random() < 0.1 ? null : Math.round(random() * 1000) / 1e6,
      qualityScore: random() < 0.2 ? null : Math.round(random() * 100) / 100,
      retryCount: pick([0, 0, 1, 2]),
      flags:
        random() < 0.3 ? [pick(['ungrounded', 'failure_to_answer', 'pii', 'prompt_injection', 'token_abuse'])] : [],
      inputTokens: Math.floor(random() * 3000),
      outputTokens: Math.floor(random() * 500),
      fallbackUsed: random() < 0.2,
    });
  });
}

/**
 * What the rollup by principal must hold for `records`, computed here from the records themselves (the reference):
 * per principal and the kept dimensions, ordered like the store (no key, keyed '', first).
 */
function principalSums(
  records: readonly UsageRecord[],
  groupBy: readonly ('endpoint' | 'model')[] = [],
): PrincipalUsage[] {
  const rows = new Map<string, PrincipalUsage>();
  for (const r of records) {
    const endpoint = groupBy.includes('endpoint') ? r.endpoint : '*';
    const model = groupBy.includes('model') ? r.model : '*';
    const key = `${r.principal ?? ''}\u0000${endpoint}\u0000${model}`;
    const row = rows.get(key) ?? emptyPrincipalUsage(r.principal ?? null, endpoint, model);
    rows.set(key, row);
    row.requests += 1;
    row.errors += r.status === 'error' ? 1 : 0;
    row.safetyBlocks += r.status === 'safety_block' ? 1 : 0;
    row.aborted += r.status === 'aborted' ? 1 : 0;
    row.cacheHits += r.flags.includes('cache_hit') ? 1 : 0;
    row.inputTokens += r.inputTokens;
    row.outputTokens += r.outputTokens;
    row.cachedTokens += r.cachedTokens;
    row.reasoningTokens += r.reasoningTokens;
    row.costUsd += r.costUsd ?? 0;
    row.unpriced += r.costUsd === null ? 1 : 0;
    row.savedCostUsd += r.savedCostUsd ?? 0;
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => roundedPrincipal(row));
}

function roundedPrincipal(row: PrincipalUsage): PrincipalUsage {
  return {
    ...row,
    costUsd: Math.round(row.costUsd * 1e9) / 1e9,
    savedCostUsd: Math.round(row.savedCostUsd * 1e9) / 1e9,
  };
}

/** Window rows with their sums rounded (the two reads add the same numbers in another order). */
function comparable(rows: WindowUsage[]): WindowUsage[] {
  return rows.map((w) => ({
    ...w,
    costUsd: Math.round(w.costUsd * 1e9) / 1e9,
    latencyMsSum: Math.round(w.latencyMsSum * 1e6) / 1e6,
    qualitySum: Math.round(w.qualitySum * 1e6) / 1e6,
  }));
}

/** The one suite every LedgerStore must pass. */
export function ledgerStoreContract(name: string, harness: () => LedgerStoreHarness): void {
  describe(`${name}: LedgerStore contract`, () => {
    const opened: LedgerStore[] = [];
    const open = async (options?: LedgerStoreOptions): Promise<LedgerStore> => {
      const store = await harness().open(options);
      opened.push(store);
      return store;
    };
    let store: LedgerStore;
    // Every test uses its own time window so the tests share one database without clearing it.
    let window = 0;
    const base = (): number => T0 + window * 30 * 24 * HOUR_MS;

    beforeEach(async () => {
      window += 1;
      store = await open();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    });

    it('stores every field of a record and reads it back unchanged', async () => {
      const record = usageRecord({
        ts: base() + 1234,
        status: 'error',
        errorType: 'UPSTREAM_TIMEOUT',
        costUsd: null,
        qualityScore: null,
        flags: ['pii', 'token_abuse'],
        retryCount: 2,
        fallbackUsed: true,
        routerDecision: 'flash:cheapest',
        tokensEstimated: true,
        cachedTokens: 5,
        reasoningTokens: 7,
        latencyMs: 12.5,
        preview: 'what is [EMAIL]?',
        promptId: '0b6f3a52-5d0e-4d4f-9a57-7c7f3e0b9c11',
        traceId: '6b0b4fc40000000046dd909b029c389c',
        savedCostUsd: 0.0125,
        principal: 'team-a',
      });
      await store.append([record]);
      expect(await store.records(base(), base() + HOUR_MS, 10)).toEqual([record]);
      expect(await store.countRecords(base(), base() + HOUR_MS)).toBe(1);
    });

    it('rolls records up by hour, and by model and endpoint on request', async () => {
      const t = base();
      await store.append([
        usageRecord({ ts: t + 10, model: 'flash', endpoint: '/qa', costUsd: 0.5, latencyMs: 100 }),
        usageRecord({ ts: t + 20, model: 'pro', endpoint: '/qa', costUsd: 1.25, status: 'error', errorType: 'X' }),
        usageRecord({ ts: t + 30, model: 'flash', endpoint: '/reason', costUsd: 0.25, status: 'safety_block' }),
        usageRecord({
          ts: t + HOUR_MS + 5,
          model: 'flash',
          endpoint: '/qa',
          costUsd: 2,
          flags: ['pii'],
          qualityScore: null,
        }),
      ]);
      const totals = await store.hourly({ from: t, to: t + 2 * HOUR_MS });
      expect(totals.map((h) => [h.hour - t, h.model, h.endpoint, h.requests, h.costUsd])).toEqual([
        [0, '*', '*', 3, 2],
        [HOUR_MS, '*', '*', 1, 2],
      ]);
      // Quality of answers only: the error's and the safety block's scores are not counted.
      expect(totals[0]).toMatchObject({ errors: 1, safetyBlocks: 1, inputTokens: 3000, qualityCount: 1 });
      expect(totals[1]).toMatchObject({ flagged: 1, qualityCount: 0, qualitySum: 0 });

      const byModel = await store.hourly({ from: t, to: t + HOUR_MS, groupBy: ['model'] });
      expect(byModel.map((h) => [h.model, h.endpoint, h.requests, h.costUsd])).toEqual([
        ['flash', '*', 2, 0.75],
        ['pro', '*', 1, 1.25],
      ]);
      const byEndpoint = await store.hourly({ from: t, to: t + HOUR_MS, groupBy: ['endpoint', 'model'] });
      expect(byEndpoint.map((h) => [h.endpoint, h.model, h.requests])).toEqual([
        ['/qa', 'flash', 1],
        ['/qa', 'pro', 1],
        ['/reason', 'flash', 1],
      ]);
      expect(await store.costBetween(t, t + HOUR_MS)).toBeCloseTo(2, 10);
      expect(await store.costBetween(t, t + 2 * HOUR_MS)).toBeCloseTo(4, 10);
    });

    it('rolls spend up by principal (the API key name), and by endpoint and model on request', async () => {
      const t = base();
      const records = [
        usageRecord({ ts: t + 10, principal: 'team-a', model: 'flash', endpoint: 'qa', costUsd: 0.5 }),
        usageRecord({ ts: t + 20, principal: 'team-a', model: 'pro', endpoint: 'qa', costUsd: 1.25, status: 'error' }),
        usageRecord({ ts: t + 30, principal: 'team-b', model: 'flash', endpoint: 'reason', costUsd: 0.25 }),
        usageRecord({
          ts: t + 40,
          principal: 'team-b',
          model: 'flash',
          endpoint: 'reason',
          costUsd: 0,
          inputTokens: 0,
          outputTokens: 0,
          flags: ['cache_hit'],
          savedCostUsd: 0.25,
        }),
        usageRecord({ ts: t + 50, principal: null, model: 'mystery', endpoint: 'chat', costUsd: null }), // unpriced
        usageRecord({ ts: t + 60, principal: 'team-a', status: 'aborted', errorType: 'client_abort', costUsd: 0.125 }),
        usageRecord({ ts: t + 70, principal: 'team-c', status: 'safety_block', costUsd: 0, cachedTokens: 7 }),
        usageRecord({ ts: t + HOUR_MS + 5, principal: 'team-a', model: 'flash', endpoint: 'qa', costUsd: 2 }),
      ];
      await store.append(records.slice(0, 3));
      await store.append(records.slice(3)); // a second batch adds to the same rows
      const inWindow = records.slice(0, 7);
      for (const groupBy of [[], ['model'], ['endpoint'], ['endpoint', 'model']] as const) {
        const { rows } = await store.principalUsage({ from: t, to: t + HOUR_MS, groupBy });
        expect(rows.map(roundedPrincipal)).toEqual(principalSums(inWindow, groupBy));
      }
      const { rows: perKey } = await store.principalUsage({ from: t, to: t + HOUR_MS });
      expect(perKey.map((r) => [r.principal, r.requests, r.errors, r.aborted, r.cacheHits, r.unpriced])).toEqual([
        [null, 1, 0, 0, 0, 1],
        ['team-a', 3, 1, 1, 0, 0],
        ['team-b', 2, 0, 0, 1, 0],
        ['team-c', 1, 0, 0, 0, 0],
      ]);
      expect(perKey[1]!.costUsd).toBeCloseTo(1.875, 10);
      expect(perKey[2]!.savedCostUsd).toBeCloseTo(0.25, 10);
      // `from` inside an hour counts that whole hour (the rollup's grain); `to` is exclusive.
      const both = await store.principalUsage({ from: t + 30 * 60_000, to: t + 2 * HOUR_MS });
      expect(both.rows.find((r) => r.principal === 'team-a')).toMatchObject({ requests: 4 });
      expect(both.completeFrom).not.toBeNull();
      // The rollup's spend is the hourly rollup's: the same calls, the same cost.
      const cost = both.rows.reduce((sum, r) => sum + r.costUsd, 0);
      expect(cost).toBeCloseTo(await store.costBetween(t, t + 2 * HOUR_MS), 10);
      expect((await store.principalUsage({ from: t + 3 * HOUR_MS, to: t + 4 * HOUR_MS })).rows).toEqual([]);
      // The raw rows keep the key's name, and nothing else about the key.
      expect((await store.records(t, t + HOUR_MS, 10)).map((r) => r.principal)).toEqual(
        inWindow.map((r) => r.principal),
      );
    });

    it('sums the raw records of a window [from, to), with latency buckets, flags and statuses', async () => {
      const t = base() + 60_000;
      await store.append([
        usageRecord({ ts: t - 1, latencyMs: 1 }), // before the window
        usageRecord({ ts: t, model: 'flash', latencyMs: 100, costUsd: 0.5, qualityScore: 0.5, retryCount: 2 }),
        usageRecord({ ts: t + 1, model: 'flash', latencyMs: 300, flags: ['ungrounded', 'pii'], qualityScore: 1 }),
        usageRecord({ ts: t + 2, model: 'pro', status: 'error', errorType: 'timeout', latencyMs: 900 }),
        usageRecord({ ts: t + 3, model: 'pro', status: 'safety_block', flags: ['prompt_injection'], costUsd: null }),
        usageRecord({ ts: t + 4, model: 'pro', status: 'aborted', errorType: 'client_abort', latencyMs: 5000 }),
        usageRecord({ ts: t + 5, model: 'pro', flags: ['failure_to_answer', 'token_abuse'], qualityScore: null }),
        usageRecord({ ts: t + 10, latencyMs: 1 }), // at `to`: excluded
      ]);
      const bounds = [100, 500, 1000];
      const [all] = await store.window({ from: t, to: t + 10, latencyBoundsMs: bounds });
      expect(all).toMatchObject({
        endpoint: '*',
        model: '*',
        requests: 6,
        answered: 3,
        errors: 1,
        timeouts: 1,
        circuitOpen: 0,
        safetyBlocks: 1,
        aborted: 1,
        retries: 2,
        pricedRequests: 5,
        latencyCount: 5,
        latencyMsSum: 100 + 300 + 900 + 100 + 100,
        latencyAtMost: [3, 4, 5],
        ungrounded: 1,
        failureToAnswer: 1,
        pii: 1,
        promptInjection: 1,
        tokenAbuse: 1,
      });
      expect(all!.costUsd).toBeCloseTo(0.5 + 0.001 * 4, 10);
      // Quality of answers only (status ok): not the error's, the safety block's or the aborted call's score.
      expect(all!.qualitySum).toBeCloseTo(0.5 + 1, 10);
      expect(all!.qualityCount).toBe(2);
      const byModel = await store.window({ from: t, to: t + 10, groupBy: ['model'] });
      expect(byModel.map((w) => [w.model, w.endpoint, w.requests, w.latencyAtMost])).toEqual([
        ['flash', '*', 2, []],
        ['pro', '*', 4, []],
      ]);
      expect(await store.window({ from: t + 20, to: t + 30 })).toEqual([]);
    });

    it('answers a window from its 10-second rollups exactly as from its raw records', async () => {
      const t = base() + 3 * HOUR_MS;
      const records = mixedRecords(t, 12 * 60_000, 900);
      for (let i = 0; i < records.length; i += 97) await store.append(records.slice(i, i + 97));
      const rawOnly = await open({ rollupReads: false });
      const bounds = [LATENCY_LADDER_MS[20]!, LATENCY_LADDER_MS[30]!, LATENCY_LADDER_MS[40]!];
      for (const [from, to] of [
        [t, t + 12 * 60_000], // whole slots
        [t + 1234, t + 11 * 60_000 + 777], // ragged edges
        [t + 30_000, t + 150_000],
        [t + 5_000, t + 50_000], // ragged, several slots
        [t + 12_000, t + 18_000], // inside one slot
        [t + 20_000, t + 20_000 + 5 * 60_000], // the health score's 5 minutes on its 10 s step: no raw scan
      ] as const) {
        for (const groupBy of [undefined, ['model'], ['endpoint', 'model'], ['provider']] as const) {
          const query = { from, to, groupBy, latencyBoundsMs: bounds };
          expect(comparable(await store.window(query))).toEqual(comparable(await rawOnly.window(query)));
        }
      }
      // Bounds off the ladder are read from the raw records: still the same answer.
      const off = { from: t, to: t + 12 * 60_000, latencyBoundsMs: [123, 456] };
      expect(comparable(await store.window(off))).toEqual(comparable(await rawOnly.window(off)));
    });

    it("rolls up the last hours of an earlier version's records on its first start, once", async () => {
      const now = T0 + 5 * HOUR_MS;
      const legacy = mixedRecords(now - 90 * 60_000, 80 * 60_000, 400);
      const upgraded = await harness().openFresh((id) => [...legacySchema(id), ...legacy.map((r) => legacyInsert(r))], {
        now: () => now,
      });
      opened.push(upgraded);
      await upgraded.append(mixedRecords(now - 60_000, 60_000, 50)); // after the upgrade: rolled up as written
      const query = {
        from: now - 85 * 60_000,
        to: now,
        groupBy: ['model'] as const,
        latencyBoundsMs: [LATENCY_LADDER_MS[25]!],
      };
      const first = comparable(await upgraded.window(query));
      // 1 legacy row at T0 is outside; the window holds the legacy records of its 85 minutes and the new ones.
      expect(first.reduce((n, w) => n + w.requests, 0)).toBeGreaterThan(300);
      const rawOnly = await harness().reopenFresh({ rollupReads: false });
      opened.push(rawOnly);
      expect(first).toEqual(comparable(await rawOnly.window(query)));
      // A second start (another instance, later) does not roll them up again.
      const again = await harness().reopenFresh({ now: () => now + HOUR_MS });
      opened.push(again);
      expect(comparable(await again.window(query))).toEqual(first);
    });

    it('counts the calls that fell back, their retries and their latency, under the model that answered them', async () => {
      const t = base() + 60_000;
      await store.append([
        usageRecord({ ts: t, model: 'flash', retryCount: 2, fallbackUsed: true, latencyMs: 1500 }),
        usageRecord({ ts: t + 1, model: 'flash', retryCount: 0, fallbackUsed: true, latencyMs: 390 }),
        usageRecord({ ts: t + 2, model: 'flash', retryCount: 1, latencyMs: 33 }),
        usageRecord({ ts: t + 3, model: 'mini', retryCount: 2, latencyMs: 1200 }),
        // A fallback the client abandoned: not timed, as any aborted call.
        usageRecord({ ts: t + 4, model: 'flash', status: 'aborted', fallbackUsed: true, latencyMs: 9000 }),
      ]);
      const slot = t - (t % 10_000);
      for (const [from, to] of [
        [t, t + 10], // raw records
        [slot, slot + 10_000], // a whole slot: the rollups
      ] as const) {
        const byModel = await store.window({ from, to, groupBy: ['model'], latencyBoundsMs: [39, 390, 1500] });
        expect(byModel.map((w) => [w.model, w.requests, w.retries, w.fallbacks, w.fallbackRetries])).toEqual([
          ['flash', 4, 3, 3, 2],
          ['mini', 1, 2, 0, 0],
        ]);
        // The fallbacks' latency, apart: the health score takes it out of the answering model's own p95.
        expect(
          byModel.map((w) => [
            w.model,
            w.latencyCount,
            w.fallbackLatencyCount,
            w.fallbackLatencyMsSum,
            w.fallbackLatencyAtMost,
          ]),
        ).toEqual([
          ['flash', 3, 2, 1890, [0, 1, 2]],
          ['mini', 1, 0, 0, [0, 0, 0]],
        ]);
        expect(byModel[0]!.latencyAtMost).toEqual([1, 2, 3]);
      }
    });

    it('counts the priced calls that failed and cost nothing, apart from those answered or billed', async () => {
      const t = base() + 60_000;
      await store.append([
        usageRecord({ ts: t, model: 'pro', costUsd: 0.02 }),
        usageRecord({ ts: t + 1, model: 'pro', status: 'error', errorType: 'server', costUsd: 0 }),
        usageRecord({ ts: t + 2, model: 'pro', status: 'error', errorType: 'server', costUsd: 0.01 }), // billed
        usageRecord({ ts: t + 3, model: 'pro', status: 'aborted', errorType: 'client_abort', costUsd: 0 }),
        usageRecord({ ts: t + 4, model: 'pro', status: 'error', errorType: 'server', costUsd: null }), // unpriced
        usageRecord({ ts: t + 5, model: 'pro', costUsd: 0 }), // answered for nothing (a cache hit): a call
      ]);
      const slot = t - (t % 10_000);
      for (const [from, to] of [
        [t, t + 10], // raw records
        [slot, slot + 10_000], // a whole slot: the rollups
      ] as const) {
        const [pro] = await store.window({ from, to, groupBy: ['model'] });
        expect([pro!.requests, pro!.pricedRequests, pro!.freeFailures]).toEqual([6, 5, 2]);
      }
    });

    it('counts calls refused by open circuits apart from other errors, and not in the latency', async () => {
      const t = base() + 60_000;
      await store.append([
        usageRecord({ ts: t, model: 'pro', status: 'error', errorType: 'circuit_open', latencyMs: 0.3 }),
        usageRecord({ ts: t + 1, model: 'pro', status: 'error', errorType: 'circuit_open', latencyMs: 0.3 }),
        usageRecord({ ts: t + 2, model: 'pro', status: 'error', errorType: 'server', latencyMs: 800 }),
        usageRecord({ ts: t + 3, model: 'pro', status: 'error', errorType: 'no_capacity', latencyMs: 0.2 }),
        usageRecord({ ts: t + 4, model: 'flash', latencyMs: 500 }),
      ]);
      const byModel = await store.window({ from: t, to: t + 10, groupBy: ['model'], latencyBoundsMs: [1, 1000] });
      // A refusal that reached no model took about 0.3 ms: counted, it pulled the p50 and p95 down in an outage.
      expect(
        byModel.map((w) => [w.model, w.errors, w.circuitOpen, w.noCapacity, w.latencyCount, w.latencyMsSum]),
      ).toEqual([
        ['flash', 0, 0, 0, 1, 500],
        ['pro', 4, 2, 1, 1, 800],
      ]);
      expect(byModel[1]!.latencyAtMost).toEqual([0, 1]);
      // The hourly rollup times the same calls: the attribution's latency is not pulled down by the refusals.
      await store.append([usageRecord({ ts: t + 5, model: 'flash', status: 'aborted', errorType: 'client_abort' })]);
      const hourly = await store.hourly({ from: t, to: t + 10, groupBy: ['model'] });
      expect(hourly.map((h) => [h.model, h.requests, h.latencyCount, h.latencyMsSum])).toEqual([
        ['flash', 2, 1, 500],
        ['pro', 4, 1, 800],
      ]);
    });

    it("adds the hourly rollup's latency count to an earlier version's usage_hourly, once, 0 on imported hours", async () => {
      const upgraded = await harness().openFresh((id) => [...legacySchema(id), ...legacyHourlySchema(id)]);
      opened.push(upgraded);
      const before = await upgraded.hourly({ from: T0 - HOUR_MS, to: T0 + HOUR_MS, groupBy: ['provider'] });
      // The recorded hour: its requests (what its latency was averaged over); the imported one has no latency.
      expect(before.map((h) => [h.hour - T0, h.provider, h.requests, h.latencyCount, h.latencyMsSum])).toEqual([
        [-HOUR_MS, '*', 50, 0, 0],
        [0, 'simulated', 4, 4, 1000],
      ]);
      await upgraded.append([
        usageRecord({ ts: T0 + 5, model: 'flash', endpoint: '/qa', latencyMs: 100 }),
        usageRecord({ ts: T0 + 6, model: 'flash', endpoint: '/qa', status: 'error', errorType: 'circuit_open' }),
      ]);
      await upgraded.init(); // a second start adds and backfills nothing
      const [after] = await upgraded.hourly({ from: T0, to: T0 + HOUR_MS });
      expect(after).toMatchObject({ requests: 6, latencyCount: 5, latencyMsSum: 1100 });
      // `errors_unknown` added too, 0 on the rows it held (no backfill), and written by an import from then on.
      expect(before.map((h) => h.errorsUnknown)).toEqual([0, 0]);
      await upgraded.putHourly([
        { ...emptyHourly(T0 - 2 * HOUR_MS, '*', '*', 'flash'), requests: 7, errorsUnknown: 7 },
      ]);
      const [imported] = await upgraded.hourly({ from: T0 - 2 * HOUR_MS, to: T0 - HOUR_MS });
      expect(imported).toMatchObject({ requests: 7, errors: 0, errorsUnknown: 7 });
    });

    it("adds the rollups' columns an earlier version's usage_10s lacks, and counts refusals for capacity and fallbacks", async () => {
      const now = T0 + HOUR_MS;
      const upgraded = await harness().openFresh((id) => [...legacySchema(id), ...legacyRollupSchema(id)], {
        now: () => now,
      });
      opened.push(upgraded);
      const t = now + 60_000;
      await upgraded.append([
        usageRecord({ ts: t, model: 'pro', status: 'error', errorType: 'no_capacity', latencyMs: 0.2 }),
        usageRecord({ ts: t + 1, model: 'pro', status: 'error', errorType: 'no_capacity', latencyMs: 0.2 }),
        usageRecord({ ts: t + 2, model: 'pro', status: 'error', errorType: 'server', latencyMs: 800 }),
        usageRecord({ ts: t + 3, model: 'flash', latencyMs: 900, retryCount: 2, fallbackUsed: true }),
        usageRecord({ ts: t + 4, model: 'flash', latencyMs: 90, retryCount: 1 }),
      ]);
      // Whole slots: read from the rollups, which now hold the new columns.
      const query = { from: t - (t % 10_000), to: t - (t % 10_000) + 10_000, groupBy: ['model'] as const };
      const [flash, pro] = await upgraded.window(query);
      expect(pro).toMatchObject({ model: 'pro', requests: 3, errors: 3, noCapacity: 2, latencyCount: 1 });
      expect(flash).toMatchObject({
        model: 'flash',
        requests: 2,
        retries: 3,
        fallbacks: 1,
        fallbackRetries: 2,
        fallbackLatencyCount: 1,
        fallbackLatencyMsSum: 900,
      });
      // The earlier version's slot row is kept, with no refusals or fallbacks counted.
      const [old] = await upgraded.window({ from: T0, to: T0 + 10_000 });
      expect(old).toMatchObject({
        requests: 3,
        errors: 1,
        noCapacity: 0,
        fallbacks: 0,
        fallbackRetries: 0,
        fallbackLatencyCount: 0,
      });
      await upgraded.init(); // a second start adds nothing
    });

    it('finds prompts answered several times (response-cache candidates), per endpoint and model', async () => {
      const t = base() + 60_000;
      const rec = (i: number, hash: string, extra: Partial<UsageRecord> = {}) =>
        usageRecord({ ts: t + i, promptHash: hash, costUsd: 0.01, inputTokens: 100, latencyMs: 200, ...extra });
      await store.append([
        rec(0, 'h-faq'),
        rec(1, 'h-faq'),
        rec(2, 'h-faq'),
        rec(3, 'h-faq', { status: 'error', errorType: 'server' }), // not answered: not cacheable
        rec(4, 'h-faq', { model: 'pro' }), // another model: another candidate
        rec(5, 'h-two'),
        rec(6, 'h-two', { endpoint: '/reason' }), // another endpoint
        rec(7, 'h-pair'),
        rec(8, 'h-pair'),
        rec(8, 'h-pair', { flags: ['cache_hit'], costUsd: 0, inputTokens: 0, savedCostUsd: 0.01 }), // a cache hit: saved already
        rec(8, 'h-once', { flags: ['cache_hit'], costUsd: 0, inputTokens: 0, savedCostUsd: 0.01 }),
        rec(9, 'h-once'),
        rec(-1, 'h-pair'), // before the window
      ]);
      const found = await store.repeatedPrompts({ from: t, to: t + 10, minCalls: 2, limit: 10 });
      expect(found.map((r) => [r.endpoint, r.model, r.promptHash, r.calls])).toEqual([
        ['/qa', 'gemini-2.5-flash', 'h-faq', 3],
        ['/qa', 'gemini-2.5-flash', 'h-pair', 2],
      ]);
      expect(found[0]!.costUsd).toBeCloseTo(0.03, 10);
      expect(found[0]!.inputTokens).toBe(300);
      expect(found[0]!.latencyMsSum).toBe(600);
      expect(await store.repeatedPrompts({ from: t, to: t + 10, minCalls: 3, limit: 10 })).toHaveLength(1);
      expect(await store.repeatedPrompts({ from: t, to: t + 10, minCalls: 2, limit: 1 })).toHaveLength(1);
    });

    it('counts an aborted call as a request with its tokens and cost, not as an error', async () => {
      const t = base();
      const aborted = usageRecord({
        ts: t + 1,
        status: 'aborted',
        errorType: 'client_abort',
        tokensEstimated: true,
        outputTokens: 30,
        costUsd: 0.2,
        promptId: 'aborted-call',
      });
      await store.append([usageRecord({ ts: t, costUsd: 0.1 }), aborted]);
      const [hour] = await store.hourly({ from: t, to: t + HOUR_MS });
      expect(hour).toMatchObject({ requests: 2, errors: 0, safetyBlocks: 0, outputTokens: 230 });
      expect(hour!.costUsd).toBeCloseTo(0.3, 10);
      expect((await store.records(t, t + HOUR_MS, 10))[1]).toEqual(aborted);
    });

    it('marks the ledger with its schema version, and a ledger of an earlier version once upgraded', async () => {
      const upgraded = await harness().openFresh(legacySchema);
      opened.push(upgraded);
      expect(await harness().freshMeta()).toMatchObject({
        schema_version: LEDGER_SCHEMA.version,
        schema_usable_from: LEDGER_SCHEMA.usableFrom,
      });
    });

    it('refuses to start on a ledger a newer version wrote that this build cannot use, and changes nothing', async () => {
      // A newer build's ledger: a column this build would leave null (its inserts are refused for good, and every
      // call was dropped unrecorded while the readiness said ok), and its marks saying builds before it cannot use it.
      const future = LEDGER_SCHEMA.version + 1;
      const error: unknown = await harness()
        .openFresh((id) => [
          ...legacySchema(id),
          "ALTER TABLE usage_records ADD COLUMN tenant TEXT NOT NULL DEFAULT 'a'",
          ...newerMeta(future, future),
        ])
        .then(
          (store) => {
            opened.push(store);
            return undefined;
          },
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(BootError);
      expect((error as BootError).variable).toMatch(/^(DATA_DIR|DATABASE_URL)$/);
      expect((error as Error).message).toContain(
        `was written by a newer version of the service (ledger schema ${future}, usable by builds of schema ${future} ` +
          `or later); this build knows schema ${LEDGER_SCHEMA.version}`,
      );
      expect((error as Error).message).toMatch(/Nothing was changed: run that version or a later one, or restore/);
      // Nothing was upgraded or marked: no rollup was started, the marks are the newer build's.
      expect(await harness().freshMeta()).toEqual({ schema_version: future, schema_usable_from: future });
    });

    it('starts on a newer ledger it can still use (a rollback), keeping the newer marks', async () => {
      const future = LEDGER_SCHEMA.version + 1;
      const store = await harness().openFresh((id) => [...legacySchema(id), ...newerMeta(future, 1)]);
      opened.push(store);
      const record = usageRecord({ ts: T0 + 1, promptId: 'after-rollback' });
      await store.append([record]);
      expect((await store.records(T0, T0 + HOUR_MS, 10))[1]).toEqual(record);
      expect(await harness().freshMeta()).toMatchObject({ schema_version: future, schema_usable_from: 1 });
    });

    it('rebuilds the 10-second and by-key rollups of an hour where a replica of an earlier version recorded calls', async () => {
      const now = T0 + 30 * HOUR_MS + 17 * 60_000;
      const hour = T0 + 29 * HOUR_MS; // complete, and after where both rollups begin
      const store = await harness().openFresh(() => [], { now: () => now });
      opened.push(store);
      const ours = mixedRecords(hour, HOUR_MS, 40).map((r, i) => ({ ...r, principal: i % 2 ? 'team-a' : null }));
      await store.append(ours);
      // An hour imported (ledger:import): in the hourly rollup only, with no records; nothing to rebuild there.
      await store.putHourly(rollUp(mixedRecords(hour - HOUR_MS, HOUR_MS, 30)));
      expect(await store.repairRollups(now - 24 * HOUR_MS, now - 17 * 60_000)).toBe(0);
      // An earlier version's replica on the same database, in the same hour: its records and hourly rows, no rollups.
      const theirs = mixedRecords(hour + 1_000, HOUR_MS - 2_000, 25).map((r) => ({ ...r, principal: null }));
      await harness().freshExec(theirs.map((r) => legacyInsert(r)));
      await store.putHourly(rollUp([...ours, ...theirs]));
      const all = [...ours, ...theirs];
      const totals = async (): Promise<{ requests: number; errors: number; costUsd: number }> => {
        const [w] = await store.window({ from: hour, to: hour + HOUR_MS });
        return { requests: w!.requests, errors: w!.errors, costUsd: Math.round(w!.costUsd * 1e9) / 1e9 };
      };
      const expected = {
        requests: all.length,
        errors: all.filter((r) => r.status === 'error').length,
        costUsd: Math.round(all.reduce((sum, r) => sum + (r.costUsd ?? 0), 0) * 1e9) / 1e9,
      };
      const byKey = async (): Promise<PrincipalUsage[]> =>
        (await store.principalUsage({ from: hour, to: hour + HOUR_MS, groupBy: ['endpoint', 'model'] })).rows.map(
          roundedPrincipal,
        );
      // Before: the windows and the spend by key miss the earlier version's 25 calls.
      expect((await totals()).requests).toBe(40);
      expect(await byKey()).toEqual(principalSums(ours, ['endpoint', 'model']));
      expect(await store.repairRollups(now - 24 * HOUR_MS, now - 17 * 60_000)).toBe(1);
      expect(await totals()).toEqual(expected);
      expect(await byKey()).toEqual(principalSums(all, ['endpoint', 'model']));
      // Once rebuilt, nothing is left to do, and the writes after it add up as before.
      expect(await store.repairRollups(now - 24 * HOUR_MS, now - 17 * 60_000)).toBe(0);
      const later = usageRecord({ ts: hour + HOUR_MS - 1, principal: 'team-b', costUsd: 0.25 });
      await store.append([later]);
      expect((await totals()).requests).toBe(all.length + 1);
      expect(await store.repairRollups(now - 24 * HOUR_MS, now - 17 * 60_000)).toBe(0);
    });

    it('adds the columns a ledger of an earlier version lacks, once, keeping its rows', async () => {
      const upgraded = await harness().openFresh(legacySchema);
      opened.push(upgraded);
      const [old] = await upgraded.records(T0, T0 + HOUR_MS, 10);
      expect(old).toMatchObject({ model: 'flash', costUsd: 0.5, promptId: null, traceId: null, principal: null });
      const record = usageRecord({ ts: T0 + 1, promptId: 'after-upgrade', traceId: 'abc123', principal: 'team-a' });
      await upgraded.append([record]);
      await upgraded.init();
      expect((await upgraded.records(T0, T0 + HOUR_MS, 10))[1]).toEqual(record);
    });

    it("rolls up the last 24 hours of an earlier version's records by principal on its first start, once", async () => {
      const now = T0 + 30 * HOUR_MS + 17 * 60_000;
      // Records of the earlier version (no principal column): 48 hours of them, the last 24 rolled up on the upgrade.
      const legacy = mixedRecords(now - 48 * HOUR_MS, 48 * HOUR_MS, 300);
      const upgraded = await harness().openFresh((id) => [...legacySchema(id), ...legacy.map((r) => legacyInsert(r))], {
        now: () => now,
      });
      opened.push(upgraded);
      const since = Math.floor((now - 24 * HOUR_MS) / HOUR_MS) * HOUR_MS;
      const before = await upgraded.principalUsage({ from: T0, to: now + HOUR_MS, groupBy: ['endpoint', 'model'] });
      expect(before.completeFrom).toBe(since);
      // Every backfilled call is `null` (no key was recorded), exactly the records from `since` on.
      const backfilled = legacy.filter((r) => r.ts >= since);
      expect(before.rows.map(roundedPrincipal)).toEqual(principalSums(backfilled, ['endpoint', 'model']));
      // Calls after the upgrade carry their key.
      const after = [
        usageRecord({ ts: now + 1, principal: 'team-a', costUsd: 0.5 }),
        usageRecord({ ts: now + 2, principal: 'team-b', costUsd: 0.25 }),
      ];
      await upgraded.append(after);
      const expected = principalSums([...backfilled, ...after]);
      expect((await upgraded.principalUsage({ from: T0, to: now + HOUR_MS })).rows.map(roundedPrincipal)).toEqual(
        expected,
      );
      // Another start (another instance, a day later) reads the mark and rolls up nothing again.
      const again = await harness().reopenFresh({ now: () => now + 24 * HOUR_MS });
      opened.push(again);
      const reread = await again.principalUsage({ from: T0, to: now + HOUR_MS });
      expect(reread.completeFrom).toBe(since);
      expect(reread.rows.map(roundedPrincipal)).toEqual(expected);
    });

    it('imports hourly rows idempotently (a re-import replaces, never doubles)', async () => {
      const t = base();
      const row = { ...emptyHourly(t), model: 'imported', requests: 10, costUsd: 3.5 };
      await store.putHourly([row, { ...row, hour: t + HOUR_MS, costUsd: 1 }]);
      await store.putHourly([row]);
      const hours = await store.hourly({ from: t, to: t + 2 * HOUR_MS });
      expect(hours.map((h) => [h.requests, h.costUsd])).toEqual([
        [10, 3.5],
        [10, 1],
      ]);
      // Imported usage has no key: it is not spend of any principal.
      expect((await store.principalUsage({ from: t, to: t + 2 * HOUR_MS })).rows).toEqual([]);
    });

    it('keeps exact totals with several concurrent writers on one database', async () => {
      const t = base();
      const writers = await Promise.all([open(), open(), open(), open()]);
      const batches = 10;
      const perBatch = 25;
      await Promise.all(
        writers.map(async (writer, w) => {
          for (let b = 0; b < batches; b++) {
            const batch = Array.from({ length: perBatch }, (_, i) =>
              usageRecord({
                ts: t + ((w * 7 + b * 3 + i) % 3) * HOUR_MS + i,
                model: i % 2 ? 'a' : 'b',
                principal: i % 3 === 0 ? null : `key-${(w + i) % 2}`,
                costUsd: 0.01,
              }),
            );
            await writer.append(batch);
          }
        }),
      );
      const expected = writers.length * batches * perBatch;
      expect(await store.countRecords(t, t + 3 * HOUR_MS)).toBe(expected);
      const hours = await store.hourly({ from: t, to: t + 3 * HOUR_MS, groupBy: ['model'] });
      expect(hours.reduce((sum, h) => sum + h.requests, 0)).toBe(expected);
      expect(await store.costBetween(t, t + 3 * HOUR_MS)).toBeCloseTo(expected * 0.01, 6);
      const { rows } = await store.principalUsage({ from: t, to: t + 3 * HOUR_MS, groupBy: ['model'] });
      expect(rows.reduce((sum, r) => sum + r.requests, 0)).toBe(expected);
      expect(rows.reduce((sum, r) => sum + r.costUsd, 0)).toBeCloseTo(expected * 0.01, 6);
      expect(new Set(rows.map((r) => r.principal))).toEqual(new Set([null, 'key-0', 'key-1']));
    });

    it('keeps committed data across a restart', async () => {
      const t = base();
      await store.append([usageRecord({ ts: t, costUsd: 0.75 }), usageRecord({ ts: t + 1, costUsd: 0.25 })]);
      await store.close();
      await harness().restartDatabase();
      const reopened = await open();
      expect(await reopened.countRecords(t, t + HOUR_MS)).toBe(2);
      expect(await reopened.costBetween(t, t + HOUR_MS)).toBeCloseTo(1, 10);
      await reopened.append([usageRecord({ ts: t + 2, costUsd: 1 })]);
      expect(await reopened.costBetween(t, t + HOUR_MS)).toBeCloseTo(2, 10);
    });

    it('purges records and rollups older than the retention cut-off', async () => {
      const t = base();
      await store.append([
        usageRecord({ ts: t }),
        usageRecord({ ts: t + 5 * HOUR_MS }),
        usageRecord({ ts: t + 6 * HOUR_MS }),
      ]);
      await store.append([
        usageRecord({ ts: t + 1, principal: 'team-a' }),
        usageRecord({ ts: t + 6 * HOUR_MS + 1, principal: 'team-a' }),
      ]);
      const purged = await store.purgeBefore(t + 5 * HOUR_MS);
      expect(purged.records).toBeGreaterThanOrEqual(1);
      expect(purged.hours).toBeGreaterThanOrEqual(1);
      expect(await store.countRecords(t, t + 7 * HOUR_MS)).toBe(3);
      // The rollup by principal goes with the hourly rollup: only the hours kept remain.
      const kept = await store.principalUsage({ from: t, to: t + 7 * HOUR_MS });
      expect(kept.rows.map((r) => [r.principal, r.requests])).toEqual([
        [null, 2],
        ['team-a', 1],
      ]);
      expect((await store.hourly({ from: t, to: t + 7 * HOUR_MS })).map((h) => h.hour - t)).toEqual([
        5 * HOUR_MS,
        6 * HOUR_MS,
      ]);
    });

    it('answers ping while open and fails after close', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });
  });
}
