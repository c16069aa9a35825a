import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DatabaseUnavailableError } from '@app/common';
import { BootError } from '@app/config';
import { ledgerStoreContract, usageRecord } from '../../../../test/support/ledger-store-contract';
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
  freshExec: (statements) => {
    const db = new DatabaseSync(lastFresh);
    try {
      for (const statement of statements) db.exec(statement);
    } finally {
      db.close();
    }
    return Promise.resolve();
  },
  freshMeta: () => {
    const db = new DatabaseSync(lastFresh, { readOnly: true });
    try {
      const rows = db.prepare('SELECT key, value FROM ledger_meta').all() as { key: string; value: number }[];
      return Promise.resolve(Object.fromEntries(rows.map((r) => [r.key, Number(r.value)])));
    } finally {
      db.close();
    }
  },
}));

describe('SqliteLedgerStore on a failing file', () => {
  // SQLite rolls the batch back by itself when the disk is full; the store's own ROLLBACK then threw "cannot rollback -
  // no transaction is active", and that was the reason the ledger logged and /health/ready showed for a full disk.
  it('a full disk: the append fails saying so, and the same records go in once there is room', async () => {
    const store = new SqliteLedgerStore(join(dir, 'full', 'ledger.sqlite'));
    await store.init();
    // The store's own connection, limited to its current size: a disk with no room left.
    const db = (store as unknown as { db: DatabaseSync }).db;
    const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number };
    db.exec(`PRAGMA max_page_count = ${pages}`);
    const now = Date.now();
    const records = Array.from({ length: 50 }, (_, i) => usageRecord({ promptId: `p-${i}`, ts: now }));
    // A 503 naming the store where a route meets it (DATABASE_UNAVAILABLE); the flush keeps the records.
    const error: unknown = await store.append(records).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/ledger store .*: the disk is full \(SQLITE_FULL\)\.$/);
    db.exec('PRAGMA max_page_count = 1000000');
    await store.append(records);
    expect(await store.countRecords(now, now + 1)).toBe(50);
    await store.close();
  });

  it('a file that is not a database: init rejects with a BootError naming DATA_DIR and the file', async () => {
    const file = join(dir, 'junk', 'ledger.sqlite');
    mkdirSync(join(dir, 'junk'));
    writeFileSync(file, 'junk '.repeat(1000));
    const error: unknown = await new SqliteLedgerStore(file).init().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BootError);
    expect((error as BootError).message).toMatch(new RegExp(`^DATA_DIR: "${file}" is not a usable SQLite database`));
    expect(readFileSync(file, 'utf8')).toBe('junk '.repeat(1000));
  });
});
