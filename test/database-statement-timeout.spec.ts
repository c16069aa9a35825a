import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { AppConfig } from '@app/config';
import { createIncidentOutboxStore } from '../libs/incidents/src/outbox/incident-outbox.factory';
import { createRecommendationStore } from '../libs/insights/src/optimization/store/recommendation-store.factory';
import type { UsageLedger } from '../libs/ledger/src';
import { createLedgerStore, createReservationStore, createResponseCacheStore } from '../libs/ledger/src/ledger.module';
import { testConfig } from './support/app-config';
import { PostgresTestServer } from './support/postgres-server';

/**
 * A statement the service gave up on must not go on running in PostgreSQL. The pools bounded each statement with
 * pg's client-side timer only: a statement waiting for a lock another session held (an operator's transaction, a
 * long migration) was answered 503 after DATABASE_TIMEOUT_MS, but its backend kept waiting. Each retry left one more
 * (here: three per store, until the lock came free), and a statement outside a transaction was applied then, long
 * after the service had said it failed. Now the server keeps the bound too (`statement_timeout`) and cancels it.
 */
describe('a statement given up on is cancelled in PostgreSQL too (statement_timeout)', () => {
  const server = new PostgresTestServer();
  let admin: Client;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await server.start();
    admin = new Client({ connectionString: server.url });
    await admin.connect();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  }, 60_000);
  afterAll(async () => {
    jest.restoreAllMocks();
    for (const close of closers) await close().catch(() => undefined);
    await admin?.end().catch(() => undefined);
    server.stop();
  });

  const config = (): AppConfig =>
    testConfig({
      DATABASE_URL: server.url,
      DATABASE_TIMEOUT_MS: '300',
      CACHE_MODE: 'exact',
      DAILY_BUDGET_USD: '1',
      BUDGET_POLICY: 'enforce',
    });

  /** The backends (not the holder's) waiting for a lock. */
  const waitingOnLocks = async (holder: number): Promise<number> => {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1`,
      [holder],
    );
    return Number(rows[0]?.n);
  };

  /** Polls until no backend waits for a lock, or 10 s passed: the number still waiting. */
  const settled = async (holder: number): Promise<number> => {
    const until = Date.now() + 10_000;
    let waiting = await waitingOnLocks(holder);
    while (waiting > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      waiting = await waitingOnLocks(holder);
    }
    return waiting;
  };

  /** The outcome of `operation` (an error counts), or 'hung' 15 s on. */
  const outcome = (operation: () => unknown): Promise<unknown> =>
    Promise.race([
      Promise.resolve()
        .then(operation)
        .then(
          () => 'answered',
          (error: unknown) => error,
        ),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 15_000).unref()),
    ]);

  const cases: [string, string, (config: AppConfig) => Promise<() => unknown>][] = [
    [
      'ledger',
      'usage_records',
      async (c) => {
        const store = createLedgerStore(c);
        await store.init();
        closers.push(() => store.close());
        return () => store.countRecords(0, Date.now());
      },
    ],
    [
      'incidents',
      'incident_outbox',
      async (c) => {
        const store = createIncidentOutboxStore(c);
        await store.init();
        closers.push(() => store.close());
        return () => store.list({ limit: 5 });
      },
    ],
    [
      'optimization',
      'optimization_recommendations',
      async (c) => {
        const store = createRecommendationStore(c);
        await store.init();
        closers.push(() => store.close());
        return () => store.list();
      },
    ],
    [
      'response cache',
      'response_cache',
      async (c) => {
        const store = createResponseCacheStore(c);
        await store.init();
        closers.push(() => store.close());
        return () => store.get('some-key', Date.now());
      },
    ],
    [
      'budget reservations',
      'budget_reservations',
      async (c) => {
        const store = createReservationStore(c, {} as UsageLedger);
        await store.init();
        closers.push(() => store.close());
        const now = Date.now();
        let n = 0;
        return () =>
          store.reserve({
            id: `call-${(n += 1)}`,
            amountUsd: 0.01,
            ttlMs: 60_000,
            budgetUsd: 1,
            enforce: true,
            dayStart: now - (now % 86_400_000),
            spentTodayUsd: 0,
            now: now + n * 60_000,
          });
      },
    ],
  ];

  it.each(cases)(
    '%s: three reads blocked by a lock are answered, and no backend is left waiting for it',
    async (_name, table, open) => {
      const operation = await open(config());
      const holder = new Client({ connectionString: server.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
        const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        for (let i = 0; i < 3; i++) expect(await outcome(operation)).not.toBe('hung');
        // The lock is still held: only a server-side bound ends the waits now.
        expect(await settled(holderPid)).toBe(0);
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
      }
    },
    60_000,
  );
});
