import { Pool } from 'pg';
import { incidentOutboxContract } from '../../../../test/support/incident-outbox-contract';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
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
