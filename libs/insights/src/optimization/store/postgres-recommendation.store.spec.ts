import { Pool } from 'pg';
import { recommendationStoreContract } from '../../../../../test/support/recommendation-store-contract';
import { PostgresTestServer } from '../../../../../test/support/postgres-server';
import { PostgresRecommendationStore } from './postgres-recommendation.store';

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
