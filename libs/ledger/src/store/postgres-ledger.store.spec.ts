import { Logger } from '@nestjs/common';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { Pool } from 'pg';
import { BasicTextRedactor } from '@app/common';
import { InMemoryMetrics } from '@app/telemetry';
import { ledgerStoreContract, usageRecord } from '../../../../test/support/ledger-store-contract';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
import { BufferedUsageLedger } from '../buffered-usage-ledger';
import { PostgresLedgerStore } from './postgres-ledger.store';

// A real PostgreSQL 15 server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());
let fresh = 0;
let lastFresh = '';

ledgerStoreContract('PostgresLedgerStore', () => ({
  open: async (options) => {
    const store = new PostgresLedgerStore(new Pool({ connectionString: server.url, max: 4 }), options);
    await store.init();
    return store;
  },
  restartDatabase: () => {
    server.restart();
    return Promise.resolve();
  },
  openFresh: async (setup, options) => {
    fresh += 1;
    const name = `fresh_${fresh}`;
    const admin = new Pool({ connectionString: server.url, max: 1 });
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = server.url.replace(/\/postgres$/, `/${name}`);
    const setupPool = new Pool({ connectionString: url, max: 1 });
    try {
      for (const statement of setup('BIGSERIAL PRIMARY KEY')) await setupPool.query(statement);
    } finally {
      await setupPool.end();
    }
    lastFresh = url;
    return started(new PostgresLedgerStore(new Pool({ connectionString: url, max: 2 }), options));
  },
  reopenFresh: (options) =>
    started(new PostgresLedgerStore(new Pool({ connectionString: lastFresh, max: 2 }), options)),
  freshExec: async (statements) => {
    const pool = new Pool({ connectionString: lastFresh, max: 1 });
    try {
      for (const statement of statements) await pool.query(statement);
    } finally {
      await pool.end();
    }
  },
  freshMeta: async () => {
    const pool = new Pool({ connectionString: lastFresh, max: 1 });
    try {
      const { rows } = await pool.query<{ key: string; value: string }>('SELECT key, value FROM ledger_meta');
      return Object.fromEntries(rows.map((r) => [r.key, Number(r.value)]));
    } finally {
      await pool.end();
    }
  },
}));

/** The store once its init is done; its pool ended when init fails (a refused start). */
async function started(store: PostgresLedgerStore): Promise<PostgresLedgerStore> {
  try {
    await store.init();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

describe('BufferedUsageLedger on PostgreSQL', () => {
  it('records a call whose prompt preview or model holds a NUL, and every call after it', async () => {
    // PostgreSQL's text refuses NUL: one preview holding it (JSON's "\u0000" in a prompt) failed every flush of its
    // batch, kept for retry for ever, and no call was recorded any more.
    const pool = new Pool({ connectionString: server.url, max: 2 });
    const store = new PostgresLedgerStore(pool);
    await store.init();
    const now = Date.now();
    const ledger = new BufferedUsageLedger(store, new InMemoryMetrics(), new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: true,
      now: () => now,
    });
    await ledger.start();
    try {
      const before = await store.countRecords(0, now + 1);
      ledger.record(usageRecord({ ts: now, preview: 'before' }));
      ledger.record(usageRecord({ ts: now, preview: 'a NUL \u0000 inside', model: 'odd\u0000model' }));
      ledger.record(usageRecord({ ts: now, preview: 'after' }));
      await ledger.flush();
      expect(await store.countRecords(0, now + 1)).toBe(before + 3);
      const rows = await pool.query<{ preview: string; model: string }>(
        `SELECT preview, model FROM usage_records WHERE preview LIKE 'a NUL %'`,
      );
      expect(rows.rows).toEqual([{ preview: 'a NUL \ufffd inside', model: 'odd\ufffdmodel' }]);
    } finally {
      await ledger.stop();
      await pool.end();
    }
  });

  it('drops a record PostgreSQL refuses for good (a number out of range), writes the others, and goes on', async () => {
    // A provider that reports 1e20 input tokens, a timestamp out of range: BIGINT refuses them (SQLSTATE 22003). Before,
    // their batch was refused at every flush, kept for retry for ever, and no call was recorded any more (spend,
    // budgets, the health score).
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const pool = new Pool({ connectionString: server.url, max: 2 });
    const store = new PostgresLedgerStore(pool);
    await store.init();
    const now = Date.now();
    const metrics = new InMemoryMetrics();
    const ledger = new BufferedUsageLedger(store, metrics, new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: true,
      now: () => now,
    });
    await ledger.start();
    try {
      const before = await store.countRecords(0, now + 1);
      for (let i = 0; i < 9; i++) {
        ledger.record(
          usageRecord({
            ts: i === 7 ? 1e20 : now,
            promptId: `pg-${i}`,
            inputTokens: i === 4 ? 1e20 : 1000,
            preview: 'text',
          }),
        );
      }
      await ledger.flush();
      expect(await store.countRecords(0, now + 1)).toBe(before + 7);
      expect(ledger.status()).toMatchObject({ buffered: 0, refused: 2, lastError: null });
      expect(ledger.status().lastRefusal).toMatch(/out of range.*\(SQLSTATE 22003\)/);
      expect(metrics.named('ledger.records.dropped').map((m) => m.tags)).toEqual([
        ['store:postgres', 'reason:invalid_value'],
        ['store:postgres', 'reason:invalid_value'],
      ]);
      const lines = error.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('refused by the store'));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain('prompt id pg-4,');
      expect(lines[1]).toContain('prompt id pg-7,');
      expect(lines[1]).toContain('ts 100000000000000000000');

      ledger.record(usageRecord({ ts: now, promptId: 'pg-next' }));
      await ledger.flush();
      expect(await store.countRecords(0, now + 1)).toBe(before + 8);
    } finally {
      await ledger.stop();
      await pool.end();
      error.mockRestore();
    }
  });
});

/**
 * A TCP proxy to the test server that, once armed, lets a COMMIT through to PostgreSQL and then cuts the connection
 * before PostgreSQL's answer reaches the client: the transaction is committed, and the client sees the connection
 * terminated (a failover, a network blip at the wrong moment).
 */
class CommitCuttingProxy {
  armed = false;
  cuts = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  async start(target: { port: number; host: string }): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      this.sockets.add(client).add(upstream);
      let cutOnAnswer = false;
      client.on('data', (chunk) => {
        // A simple-query message ('Q') whose text is COMMIT.
        if (this.armed && chunk.includes('COMMIT\0')) cutOnAnswer = true;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (cutOnAnswer) {
          this.armed = false;
          this.cuts += 1;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      for (const socket of [client, upstream]) {
        socket.on('error', () => undefined);
        socket.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

describe('BufferedUsageLedger on PostgreSQL: a COMMIT whose answer is lost', () => {
  it('writes the batch again at the next flush and counts it once (records, hourly, 10 s and per-key rollups)', async () => {
    // The ledger keeps a batch whose write failed for the next flush. When the connection broke during the COMMIT,
    // PostgreSQL had committed it: the next flush wrote it again, and every record, its cost and its tokens were
    // counted twice in spend, budgets and the health score. Each record's key now makes the write idempotent.
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const proxy = new CommitCuttingProxy();
    const url = new URL(server.url);
    url.port = String(await proxy.start({ port: Number(url.port), host: url.hostname }));
    const pool = new Pool({ connectionString: url.toString(), max: 2 });
    const store = new PostgresLedgerStore(pool);
    await store.init().catch(async (error: unknown) => {
      await Promise.all([pool.end(), proxy.stop()]);
      throw error;
    });
    const now = Date.now();
    const ledger = new BufferedUsageLedger(store, new InMemoryMetrics(), new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: false,
      now: () => now,
    });
    await ledger.start();
    const model = `commit-cut-${now}`;
    const window = { from: now - 60_000, to: now + 60_000, groupBy: ['model'] as const };
    const mine = <T extends { model: string }>(rows: T[]): T | undefined => rows.find((row) => row.model === model);
    try {
      const before = await store.countRecords(0, now + 1);
      for (let i = 0; i < 5; i++) {
        ledger.record(usageRecord({ ts: now, model, costUsd: 0.01, inputTokens: 100, principal: 'team-a' }));
      }
      proxy.armed = true;
      await ledger.flush();
      expect(proxy.cuts).toBe(1);
      // Committed in PostgreSQL, but the ledger could not know: kept for the next flush.
      expect(ledger.status().buffered).toBe(5);
      expect(await store.countRecords(0, now + 1)).toBe(before + 5);

      await ledger.flush();
      // Written once, and no record dropped as a duplicate.
      expect(ledger.status()).toMatchObject({ buffered: 0, lastError: null, refused: 0 });
      expect(await store.countRecords(0, now + 1)).toBe(before + 5);
      expect(mine(await store.hourly(window))).toMatchObject({ requests: 5, inputTokens: 500 });
      expect(mine(await store.hourly(window))?.costUsd).toBeCloseTo(0.05, 10);
      expect(mine(await store.window(window))).toMatchObject({ requests: 5 });
      const byKey = await store.principalUsage({ ...window, groupBy: ['model'] });
      expect(byKey.rows.filter((row) => row.model === model)).toEqual([
        expect.objectContaining({ principal: 'team-a', requests: 5 }),
      ]);
      const lines = log.mock.calls.map(([message]) => String(message));
      expect(lines.some((line) => line.includes('5 of 5 records were already written'))).toBe(true);
    } finally {
      await ledger.stop();
      await pool.end();
      await proxy.stop();
      warn.mockRestore();
      log.mockRestore();
    }
  });
});
