import { Pool } from 'pg';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
import type { UsageLedger } from '../usage-ledger';
import { PostgresReservationStore } from './postgres-reservation.store';
import type { ReservationRequest } from './reservation-store.port';

// A real PostgreSQL server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());

/**
 * A stream goes on past its reservation's time to live (the deadline bounds it only until its first token): it renews
 * its reservation (`BudgetService.keepAlive`), which must move the shared row's expiry, on the server's clock, so that
 * other replicas' admissions keep counting it; an id this process does not hold is not touched.
 */
describe('PostgresReservationStore: renew', () => {
  it("moves the renewed reservation's expiry (server clock), leaves the others and ids it does not hold", async () => {
    const pool = new Pool({ connectionString: server.url, max: 2 });
    // budget_reserve reads today's spend from the ledger's hourly rollups (the ledger store creates the table).
    await pool.query('CREATE TABLE IF NOT EXISTS usage_hourly (hour BIGINT NOT NULL, cost_usd DOUBLE PRECISION)');
    const store = new PostgresReservationStore(pool, {} as UsageLedger, 60_000);
    await store.init();
    const now = Date.now();
    const request = (id: string): ReservationRequest => ({
      id,
      amountUsd: 0.1,
      ttlMs: 5_000,
      budgetUsd: 1,
      enforce: true,
      dayStart: now - (now % 86_400_000),
      spentTodayUsd: 0,
      now,
    });
    /** Each reservation's time left (ms) on the server's clock. */
    const left = async (): Promise<Record<string, number>> => {
      const rows = await pool.query<{ id: string; left: string }>(
        `SELECT id, expires_at - (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT AS left FROM budget_reservations`,
      );
      return Object.fromEntries(rows.rows.map((row) => [row.id, Number(row.left)]));
    };
    try {
      expect(await store.reserve(request('stream'))).toMatchObject({ admitted: true });
      expect(await store.reserve(request('other'))).toMatchObject({ admitted: true });
      store.renew('stream', 600_000);
      store.renew('not-held', 600_000);
      // The renewal is one UPDATE on the next tick: wait for it (a hang guard, not a timing).
      let after: Record<string, number> = {};
      for (let i = 0; i < 250; i++) {
        after = await left();
        if ((after.stream ?? 0) > 60_000) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(after.stream).toBeGreaterThan(500_000);
      expect(after.other).toBeLessThanOrEqual(5_000);
      expect(Object.keys(after).sort()).toEqual(['other', 'stream']);
      // Settled, it is no longer renewed (its row waits for the ledger's flush, at the expiry it had).
      store.settle('stream');
      store.renew('stream', 900_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await left()).stream).toBeLessThanOrEqual(600_000);
    } finally {
      await store.close();
    }
  }, 30_000);
});
