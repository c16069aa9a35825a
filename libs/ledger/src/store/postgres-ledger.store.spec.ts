import { Logger } from '@nestjs/common';
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
    const store = new PostgresLedgerStore(new Pool({ connectionString: url, max: 2 }), options);
    await store.init();
    return store;
  },
  reopenFresh: async (options) => {
    const store = new PostgresLedgerStore(new Pool({ connectionString: lastFresh, max: 2 }), options);
    await store.init();
    return store;
  },
}));

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
