import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

describe('SqliteResponseCacheStore: what a deleted answer leaves in the file', () => {
  it('overwrites an expired answer when it is deleted (secure_delete), not only unlinks its page', async () => {
    const file = join(dir, 'secure', 'response-cache.sqlite');
    const store = new SqliteResponseCacheStore(file);
    await store.init();
    const secret = 'the-answer-named-Jane-Doe-' + 'x'.repeat(200);
    const now = Date.UTC(2026, 0, 5, 12);
    await store.put(
      { key: 'k1', payload: JSON.stringify({ answer: secret }), createdAt: now, expiresAt: now + 10 },
      100,
      now,
    );
    await store.close();
    expect(readFileSync(file).includes(secret)).toBe(true);
    const reopened = new SqliteResponseCacheStore(file);
    await reopened.init();
    expect(await reopened.purgeExpired(now + 1_000)).toBe(1);
    await reopened.close();
    expect(readFileSync(file).includes(secret)).toBe(false);
  });
});
