import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ledgerStoreContract } from '../../../../test/support/ledger-store-contract';
import { SqliteLedgerStore } from './sqlite-ledger.store';

const dir = mkdtempSync(join(tmpdir(), 'ledger-sqlite-'));
const file = join(dir, 'nested', 'ledger.sqlite');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fresh = 0;
let lastFresh = '';

ledgerStoreContract('SqliteLedgerStore', () => ({
  open: async (options) => {
    const store = new SqliteLedgerStore(file, options);
    await store.init();
    return store;
  },
  restartDatabase: () => Promise.resolve(),
  openFresh: async (setup, options) => {
    fresh += 1;
    const freshFile = join(dir, `fresh-${fresh}`, 'ledger.sqlite');
    mkdirSync(join(dir, `fresh-${fresh}`));
    const db = new DatabaseSync(freshFile);
    for (const statement of setup('INTEGER PRIMARY KEY AUTOINCREMENT')) db.exec(statement);
    db.close();
    lastFresh = freshFile;
    const store = new SqliteLedgerStore(freshFile, options);
    await store.init();
    return store;
  },
  reopenFresh: async (options) => {
    const store = new SqliteLedgerStore(lastFresh, options);
    await store.init();
    return store;
  },
}));
