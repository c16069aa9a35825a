import { Pool } from 'pg';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
import type { UsageLedger } from '../usage-ledger';
import { ADMISSION_FUNCTION, PostgresReservationStore } from './postgres-reservation.store';
import type { ReservationRequest } from './reservation-store.port';

// A real PostgreSQL server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());

/**
 * A call whose failed attempts were billed asks `budget_reserve` again with its id and all it may now cost: it must
 * be weighed beside the other calls' reservations, not its own (which it replaces), and keep its own when refused.
 */
describe('PostgresReservationStore: a call that asks again (budget_reserve with its own id)', () => {
  it('weighs the new amount beside the others only, replaces its own when admitted, keeps it when refused', async () => {
    const pool = new Pool({ connectionString: server.url, max: 2 });
    // budget_reserve reads today's spend from the ledger's hourly rollups (the ledger store creates the table).
    await pool.query('CREATE TABLE IF NOT EXISTS usage_hourly (hour BIGINT NOT NULL, cost_usd DOUBLE PRECISION)');
    const store = new PostgresReservationStore(pool, {} as UsageLedger, 60_000);
    await store.init();
    const now = Date.now();
    const request = (id: string, amountUsd: number): ReservationRequest => ({
      id,
      amountUsd,
      ttlMs: 60_000,
      budgetUsd: 1,
      enforce: true,
      dayStart: now - (now % 86_400_000),
      spentTodayUsd: 0,
      now,
    });
    const held = async (): Promise<Record<string, number>> => {
      const rows = await pool.query<{ id: string; amount_usd: number }>(
        'SELECT id, amount_usd FROM budget_reservations',
      );
      return Object.fromEntries(rows.rows.map((row) => [row.id, Number(row.amount_usd)]));
    };
    try {
      expect(await store.reserve(request('a', 0.3))).toMatchObject({ admitted: true, reservedUsd: 0 });
      expect(await store.reserve(request('b', 0.3))).toMatchObject({ admitted: true, reservedUsd: 0.3 });
      // 0.6 beside b's 0.3 fits; before, a's own 0.3 was counted too (1.2 > 1: refused).
      expect(await store.reserve(request('a', 0.6))).toMatchObject({ admitted: true, reservedUsd: 0.3 });
      expect(await held()).toEqual({ a: 0.6, b: 0.3 });
      expect(await store.reserve(request('a', 0.9))).toMatchObject({ admitted: false, reservedUsd: 0.3 });
      expect(await held()).toEqual({ a: 0.6, b: 0.3 });
      expect(store.reservedUsd()).toBeCloseTo(0.9, 9);
    } finally {
      await store.close();
    }
  }, 30_000);
});

/**
 * Every replica replaced `budget_reserve` as it started: during a rolling deploy the last replica started decided
 * every replica's admissions by its own rule. Each build now creates and calls a function named by its definition.
 */
describe('PostgresReservationStore: a start never replaces the admission function another build calls', () => {
  it("leaves another build's function as it is, and admits through its own", async () => {
    const pool = new Pool({ connectionString: server.url, max: 2 });
    await pool.query('CREATE TABLE IF NOT EXISTS usage_hourly (hour BIGINT NOT NULL, cost_usd DOUBLE PRECISION)');
    // Another build's admission under the old shared name, with a rule of its own (it refuses everything).
    await pool.query(`CREATE OR REPLACE FUNCTION budget_reserve(
  p_id TEXT, p_amount DOUBLE PRECISION, p_ttl_ms BIGINT, p_day_start BIGINT, p_budget DOUBLE PRECISION,
  p_enforce BOOLEAN
) RETURNS TABLE (admitted BOOLEAN, spent_usd DOUBLE PRECISION, reserved_usd DOUBLE PRECISION)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  admitted := false; spent_usd := 42; reserved_usd := 0; -- another build's rule
  RETURN NEXT;
END
$$`);
    const store = new PostgresReservationStore(pool, {} as UsageLedger, 60_000);
    try {
      await store.init();
      await store.init(); // a second start of the same build: idempotent
      const definition = await pool.query<{ body: string }>(
        "SELECT pg_get_functiondef('budget_reserve'::regproc) AS body",
      );
      expect(definition.rows[0]!.body).toContain("another build's rule");
      expect(ADMISSION_FUNCTION).toMatch(/^budget_reserve_[0-9a-f]{10}$/);
      const now = Date.now();
      const admission = await store.reserve({
        id: 'own-rule',
        amountUsd: 0.1,
        ttlMs: 60_000,
        budgetUsd: 1,
        enforce: true,
        dayStart: now - (now % 86_400_000),
        spentTodayUsd: 0,
        now,
      });
      expect(admission.admitted).toBe(true);
      expect(admission.spentTodayUsd).not.toBe(42);
    } finally {
      await store.close();
    }
  }, 30_000);
});

/**
 * Two replicas on one database; the second one's admissions then fail (in a burst they queue behind the admission
 * lock past the query timeout). It decided on its own figures only and admitted a whole budget's worth beside the
 * first replica's calls in flight; now it counts what the database last said the others held, while that may live.
 */
describe('PostgresReservationStore: the fallback after a failed admission counts the other replicas as last seen', () => {
  it("refuses what does not fit beside the others' reservations, and forgets them after their time to live", async () => {
    const poolA = new Pool({ connectionString: server.url, max: 2 });
    await poolA.query('CREATE TABLE IF NOT EXISTS usage_hourly (hour BIGINT NOT NULL, cost_usd DOUBLE PRECISION)');
    await poolA.query('DELETE FROM budget_reservations').catch(() => undefined);
    const a = new PostgresReservationStore(poolA, {} as UsageLedger, 60_000);
    await a.init();
    await poolA.query('DELETE FROM budget_reservations');
    const poolB = new Pool({ connectionString: server.url, max: 2 });
    const b = new PostgresReservationStore(poolB, {} as UsageLedger, 60_000);
    const now = Date.now();
    const request = (id: string, amountUsd: number, at = now): ReservationRequest => ({
      id,
      amountUsd,
      ttlMs: 60_000,
      budgetUsd: 1,
      enforce: true,
      dayStart: at - (at % 86_400_000),
      spentTodayUsd: 0,
      now: at,
    });
    try {
      for (const id of ['a1', 'a2', 'a3']) expect(await a.reserve(request(id, 0.25))).toMatchObject({ admitted: true });
      // B asks the database once: refused beside A's 0.75.
      expect(await b.reserve(request('b1', 0.3))).toMatchObject({ admitted: false, reservedUsd: 0.75 });
      // B's database fails from now on (its pool is gone): its next admissions are decided here.
      await poolB.end();
      expect(await b.reserve(request('b2', 0.3, now + 1))).toMatchObject({ admitted: false, reservedUsd: 0.75 });
      expect(b.error).not.toBeNull();
      expect(await b.reserve(request('b3', 0.25, now + 2))).toMatchObject({ admitted: true, reservedUsd: 0.75 });
      expect(await b.reserve(request('b4', 0.125, now + 3))).toMatchObject({ admitted: false });
      // Past the time to live of what it saw, A's reservations would have expired: B's own figures only.
      expect(await b.reserve(request('b5', 0.5, now + 60_001))).toMatchObject({ admitted: true, reservedUsd: 0.25 });
    } finally {
      await a.close();
      await b.close().catch(() => undefined);
    }
  }, 30_000);
});
