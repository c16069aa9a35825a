import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ledgerStoreContract } from '../../../../test/support/ledger-store-contract';
import { SqliteLedgerStore } from './sqlite-ledger.store';

const dir = mkdtempSync(join(tmpdir(), 'ledger-sqlite-'));
const file = join(dir, 'nested', 'ledger.sqlite');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

ledgerStoreContract('SqliteLedgerStore', () => ({
  open: async () => {
    const store = new SqliteLedgerStore(file);
    await store.init();
    return store;
  },
  restartDatabase: () => Promise.resolve(),
}));
