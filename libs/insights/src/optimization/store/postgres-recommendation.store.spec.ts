import { Pool } from 'pg';
import { BootError } from '@app/config';
import { recommendationStoreContract } from '../../../../../test/support/recommendation-store-contract';
import { PostgresTestServer } from '../../../../../test/support/postgres-server';
import { PostgresRecommendationStore } from './postgres-recommendation.store';
import { OPTIMIZATION_SCHEMA } from './recommendation-sql';

// A real PostgreSQL server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());

recommendationStoreContract('PostgresRecommendationStore', () => ({
  open: async () => {
    const store = new PostgresRecommendationStore(new Pool({ connectionString: server.url, max: 2 }));
    await store.init();
    return store;
  },
  restartDatabase: () => {
    server.restart();
    return Promise.resolve();
  },
}));

describe('PostgresRecommendationStore: a store of another version', () => {
  let fresh = 0;
  /** A new database holding `statements`, then what `optimization_meta` says after `init` (or the error it threw). */
  async function started(statements: string[]): Promise<{ error: unknown; meta: Record<string, number> }> {
    fresh += 1;
    const admin = new Pool({ connectionString: server.url, max: 1 });
    try {
      await admin.query(`CREATE DATABASE optimization_version_${fresh}`);
    } finally {
      await admin.end();
    }
    const url = server.url.replace(/\/postgres$/, `/optimization_version_${fresh}`);
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      for (const statement of statements) await pool.query(statement);
      const store = new PostgresRecommendationStore(new Pool({ connectionString: url, max: 2 }));
      const error: unknown = await store.init().then(
        () => undefined,
        (e: unknown) => e,
      );
      await store.close();
      const { rows } = await pool.query<{ key: string; value: string }>('SELECT key, value FROM optimization_meta');
      return { error, meta: Object.fromEntries(rows.map((r) => [r.key, Number(r.value)])) };
    } finally {
      await pool.end();
    }
  }

  const newerMeta = (version: number, usableFrom: number): string[] => [
    'CREATE TABLE optimization_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    `INSERT INTO optimization_meta (key, value) VALUES ('schema_version', ${version}), ('schema_usable_from', ${usableFrom})`,
  ];

  it('marks a new store with its schema version', async () => {
    const { error, meta } = await started([]);
    expect(error).toBeUndefined();
    expect(meta).toEqual({
      schema_version: OPTIMIZATION_SCHEMA.version,
      schema_usable_from: OPTIMIZATION_SCHEMA.usableFrom,
    });
  });

  it('refuses to start on a store a newer version wrote that it cannot use, and changes nothing', async () => {
    const future = OPTIMIZATION_SCHEMA.version + 1;
    const { error, meta } = await started([
      'CREATE TABLE optimization_recommendations (id TEXT PRIMARY KEY, tenant TEXT NOT NULL)',
      ...newerMeta(future, future),
    ]);
    expect(error).toBeInstanceOf(BootError);
    expect((error as BootError).variable).toBe('DATABASE_URL');
    expect((error as Error).message).toContain(
      `the recommendation store in this database was written by a newer version of the service (recommendation store schema ` +
        `${future}, usable by builds of schema ${future} or later); this build knows schema ${OPTIMIZATION_SCHEMA.version}`,
    );
    expect(meta).toEqual({ schema_version: future, schema_usable_from: future });
  });

  it('starts on a newer store it can still use (a rollback), keeping the newer marks', async () => {
    const { error, meta } = await started(newerMeta(OPTIMIZATION_SCHEMA.version + 1, 1));
    expect(error).toBeUndefined();
    expect(meta).toEqual({ schema_version: OPTIMIZATION_SCHEMA.version + 1, schema_usable_from: 1 });
  });
});
