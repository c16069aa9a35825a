import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { responseCacheStoreContract } from '../../../../test/support/response-cache-store-contract';
import { SqliteResponseCacheStore } from './sqlite-response-cache.store';

const dir = mkdtempSync(join(tmpdir(), 'response-cache-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

responseCacheStoreContract('SqliteResponseCacheStore', () => ({
  open: async () => {
    const store = new SqliteResponseCacheStore(join(dir, 'nested', 'response-cache.sqlite'));
    await store.init();
    return store;
  },
  restartDatabase: () => Promise.resolve(),
}));
