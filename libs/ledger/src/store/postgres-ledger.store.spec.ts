import { Pool } from 'pg';
import { ledgerStoreContract } from '../../../../test/support/ledger-store-contract';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
import { PostgresLedgerStore } from './postgres-ledger.store';

// A real PostgreSQL 15 server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());

ledgerStoreContract('PostgresLedgerStore', () => ({
  open: async () => {
    const store = new PostgresLedgerStore(new Pool({ connectionString: server.url, max: 4 }));
    await store.init();
    return store;
  },
  restartDatabase: () => {
    server.restart();
    return Promise.resolve();
  },
}));
