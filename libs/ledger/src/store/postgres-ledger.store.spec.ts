import { Pool } from 'pg';
import { ledgerStoreContract } from '../../../../test/support/ledger-store-contract';
import { PostgresTestServer } from '../../../../test/support/postgres-server';
import { PostgresLedgerStore } from './postgres-ledger.store';

// A real PostgreSQL 15 server from the machine's binaries; the suite fails (never skips) when it cannot start.
const server = new PostgresTestServer();
beforeAll(() => server.start(), 60_000);
afterAll(() => server.stop());
let fresh = 0;
let lastFresh = '';

ledgerStoreContract('PostgresLedgerStore', () => ({
  open: async (options) => {
    const store = new PostgresLedgerStore(new Pool({ connectionString: server.url, max: 4 }), options);
    await store.init();
    return store;
  },
  restartDatabase: () => {
    server.restart();
    return Promise.resolve();
  },
  openFresh: async (setup, options) => {
    fresh += 1;
    const name = `fresh_${fresh}`;
    const admin = new Pool({ connectionString: server.url, max: 1 });
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = server.url.replace(/\/postgres$/, `/${name}`);
    const setupPool = new Pool({ connectionString: url, max: 1 });
    try {
      for (const statement of setup('BIGSERIAL PRIMARY KEY')) await setupPool.query(statement);
    } finally {
      await setupPool.end();
    }
    lastFresh = url;
    const store = new PostgresLedgerStore(new Pool({ connectionString: url, max: 2 }), options);
    await store.init();
    return store;
  },
  reopenFresh: async (options) => {
    const store = new PostgresLedgerStore(new Pool({ connectionString: lastFresh, max: 2 }), options);
    await store.init();
    return store;
  },
}));
