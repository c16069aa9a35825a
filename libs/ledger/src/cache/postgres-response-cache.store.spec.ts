import { Pool } from 'pg';
import { responseCacheStoreContract } from '../../../../test/support/response-cache-store-contract';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
import { PostgresResponseCacheStore } from './postgres-response-cache.store';

// A real PostgreSQL server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());

responseCacheStoreContract('PostgresResponseCacheStore', () => ({
  open: async () => {
    const store = new PostgresResponseCacheStore(new Pool({ connectionString: server.url, max: 4 }));
    await store.init();
    return store;
  },
  restartDatabase: () => {
    server.restart();
    return Promise.resolve();
  },
}));
