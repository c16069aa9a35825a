import { Pool } from 'pg';
import { BootError } from '@app/config';
import { incidentOutboxContract } from '../../../../test/support/incident-outbox-contract';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
import { INCIDENTS_SCHEMA } from './outbox-sql';
import { PostgresIncidentOutbox } from './postgres-incident-outbox';

// A real PostgreSQL server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());

// Two instances (two pools) on one database stand for two replicas.
incidentOutboxContract('PostgresIncidentOutbox', () => ({
  open: async () => {
    const store = new PostgresIncidentOutbox(new Pool({ connectionString: server.url, max: 3 }));
    await store.init();
    return store;
  },
  restartDatabase: () => {
    server.restart();
    return Promise.resolve();
  },
  leaseClock: 'server',
}));

describe('PostgresIncidentOutbox: an outbox of another version', () => {
  let fresh = 0;
  /** A new database holding `statements`, then what `incident_meta` says after `init` (or the error it threw). */
  async function started(statements: string[]): Promise<{ error: unknown; meta: Record<string, number> }> {
    fresh += 1;
    const admin = new Pool({ connectionString: server.url, max: 1 });
    try {
      await admin.query(`CREATE DATABASE outbox_version_${fresh}`);
    } finally {
      await admin.end();
    }
    const pool = new Pool({ connectionString: server.url.replace(/\/postgres$/, `/outbox_version_${fresh}`), max: 1 });
    try {
      for (const statement of statements) await pool.query(statement);
      const store = new PostgresIncidentOutbox(new Pool({ connectionString: pool.options.connectionString, max: 2 }));
      const error: unknown = await store.init().then(
        () => undefined,
        (e: unknown) => e,
      );
      await store.close();
      const { rows } = await pool.query<{ key: string; value: string }>('SELECT key, value FROM incident_meta');
      return { error, meta: Object.fromEntries(rows.map((r) => [r.key, Number(r.value)])) };
    } finally {
      await pool.end();
    }
  }

  const newerMeta = (version: number, usableFrom: number): string[] => [
    'CREATE TABLE incident_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    `INSERT INTO incident_meta (key, value) VALUES ('schema_version', ${version}), ('schema_usable_from', ${usableFrom})`,
  ];

  it('marks a new outbox with its schema version', async () => {
    const { error, meta } = await started([]);
    expect(error).toBeUndefined();
    expect(meta).toEqual({ schema_version: INCIDENTS_SCHEMA.version, schema_usable_from: INCIDENTS_SCHEMA.usableFrom });
  });

  it('refuses to start on an outbox a newer version wrote that it cannot use, and changes nothing', async () => {
    const future = INCIDENTS_SCHEMA.version + 1;
    const { error, meta } = await started([
      'CREATE TABLE incident_outbox (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL)',
      ...newerMeta(future, future),
    ]);
    expect(error).toBeInstanceOf(BootError);
    expect((error as BootError).variable).toBe('DATABASE_URL');
    expect((error as Error).message).toContain(
      `the incident outbox in this database was written by a newer version of the service (incident outbox schema ` +
        `${future}, usable by builds of schema ${future} or later); this build knows schema ${INCIDENTS_SCHEMA.version}`,
    );
    expect(meta).toEqual({ schema_version: future, schema_usable_from: future });
  });

  it('starts on a newer outbox it can still use (a rollback), keeping the newer marks', async () => {
    const { error, meta } = await started(newerMeta(INCIDENTS_SCHEMA.version + 1, 1));
    expect(error).toBeUndefined();
    expect(meta).toEqual({ schema_version: INCIDENTS_SCHEMA.version + 1, schema_usable_from: 1 });
  });
});
