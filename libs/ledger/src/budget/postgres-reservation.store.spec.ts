import { HungPostgresServer } from '../../../../test/support/hung-postgres-server';
import { testConfig } from '../../../../test/support/app-config';
import { createReservationStore } from '../ledger.module';
import type { UsageLedger } from '../usage-ledger';
import { ADMISSION_RETRY_MS, PostgresReservationStore } from './postgres-reservation.store';
import type { ReservationRequest } from './reservation-store.port';

/**
 * A budget admission with DATABASE_URL asks PostgreSQL on the request path of every LLM call. A database that stops
 * answering on an open connection (frozen, a network partition) held each call that drew such a connection for as
 * long as it lasted (seen against a real server stopped with SIGSTOP: a call still waiting after 15 s); now the
 * admission gives up after the pool's query timeout and the call is decided on this process's figures, and the calls
 * right after do not ask again for ADMISSION_RETRY_MS.
 */
describe('PostgresReservationStore: a database that does not answer', () => {
  let server: HungPostgresServer;
  let store: PostgresReservationStore;

  beforeAll(async () => {
    server = await new HungPostgresServer().start();
    const config = testConfig({ DATABASE_URL: server.url, DAILY_BUDGET_USD: '1', BUDGET_POLICY: 'enforce' });
    store = createReservationStore(config, {} as UsageLedger) as PostgresReservationStore;
    expect(store).toBeInstanceOf(PostgresReservationStore);
  });

  afterAll(async () => {
    await store?.close().catch(() => undefined);
    await server?.close();
  });

  const request = (id: string, now: number): ReservationRequest => ({
    id,
    amountUsd: 0.01,
    ttlMs: 60_000,
    budgetUsd: 1,
    enforce: true,
    dayStart: now - (now % 86_400_000),
    spentTodayUsd: 0,
    now,
  });

  const orHung = <T>(promise: Promise<T>): Promise<T | 'hung'> =>
    Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000).unref())]);

  it('decides the call on its own figures once the query times out, then stops asking for a while', async () => {
    const now = Date.now();
    expect(await orHung(store.reserve(request('a', now)))).toMatchObject({ admitted: true, reservedUsd: 0 });
    expect(server.queries).toBe(1);
    expect(store.error).toMatch(/timeout/i);

    // Within ADMISSION_RETRY_MS: decided here at once, the database not asked (this process's reservation counts).
    expect(await orHung(store.reserve(request('b', now + 1)))).toMatchObject({ admitted: true, reservedUsd: 0.01 });
    expect(server.queries).toBe(1);

    // After it, the next call asks again.
    expect(await orHung(store.reserve(request('c', now + ADMISSION_RETRY_MS + 1)))).toMatchObject({ admitted: true });
    expect(server.queries).toBe(2);
  }, 30_000);
});
