import { existsSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { PostgresTestServer } from './support/postgres-server';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * The throwaway PostgreSQL keeps the real clock when the test process runs under libfaketime (`faketime -f +2d
 * npm test`): given the preload, the server never fired its statement_timeout. Its environment here holds the
 * preload (when the machine has libfaketime) and a 2-day offset, as a child of `faketime` has them.
 */
describe('PostgresTestServer under a faked clock', () => {
  const server = new PostgresTestServer({
    ...process.env,
    FAKETIME: '+2d',
    ...(existsSync(LIBFAKETIME) ? { LD_PRELOAD: LIBFAKETIME } : {}),
  });

  beforeAll(() => server.start(), 60_000);
  afterAll(() => server.stop());

  it('runs the server on the real clock: its statement_timeout fires, its now() is today, no FAKETIME in its env', async () => {
    const client = new Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ now: Date; pid: number }>('SELECT now() AS now, pg_backend_pid() AS pid');
      // A day's bound: the clock is not two days ahead (and no timing is measured).
      expect(Math.abs(rows[0]!.now.getTime() - Date.now())).toBeLessThan(86_400_000);
      const environ = readFileSync(`/proc/${rows[0]!.pid}/environ`, 'utf8').split('\0');
      expect(environ.filter((entry) => /^(LD_PRELOAD|FAKETIME)/.test(entry))).toEqual([]);
      await client.query('SET statement_timeout = 200');
      // Cancelled at 200 ms by the server; under libfaketime it slept the whole 30 s (past the hang guard).
      const outcome = await Promise.race([
        client.query('SELECT pg_sleep(30)').then(
          () => 'slept',
          (error: { code?: string }) => error.code,
        ),
        new Promise((resolve) => setTimeout(() => resolve('hung'), 20_000).unref()),
      ]);
      expect(outcome).toBe('57014');
    } finally {
      await client.end();
    }
  }, 60_000);
});
