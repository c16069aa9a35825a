import { RESPONSE_CACHE_MAX_PAYLOAD_CHARS, type ResponseCacheEntry, type ResponseCacheStore } from '@app/ledger';

export interface ResponseCacheStoreHarness {
  /** Opens a new store instance (a new connection) on the same database; schema created on first use. */
  open(): Promise<ResponseCacheStore>;
  /** Restarts the database where that means something (PostgreSQL); the SQLite harness does nothing. */
  restartDatabase(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
let seq = 0;

/** A key unique to this run (the suite shares one database), and an entry stored at `at` for `ttlMs`. */
function entry(at: number, ttlMs = 60_000, payload = `{"answer":"a${seq}"}`): ResponseCacheEntry {
  seq += 1;
  return {
    key: `k${seq.toString().padStart(6, '0')}-${Math.random().toString(16).slice(2)}`,
    payload,
    createdAt: at,
    expiresAt: at + ttlMs,
  };
}

/** The same suite for every ResponseCacheStore: what the pipeline relies on (docs/cache.md). */
export function responseCacheStoreContract(name: string, harness: () => ResponseCacheStoreHarness): void {
  describe(`${name} (ResponseCacheStore contract)`, () => {
    let h: ResponseCacheStoreHarness;
    const opened: ResponseCacheStore[] = [];
    const open = async (): Promise<ResponseCacheStore> => {
      const store = await h.open();
      opened.push(store);
      return store;
    };

    beforeAll(() => {
      h = harness();
    });
    afterAll(async () => {
      for (const store of opened) await store.close().catch(() => undefined);
    });

    it('puts and gets an entry (payload and age) until it expires, and misses an unknown key', async () => {
      const store = await open();
      const e = entry(T0, 10_000, '{"answer":"forty-two","usage":{"input":3}}');
      expect(await store.put(e, 1000, T0)).toBe(true);
      expect(await store.get(e.key, T0 + 1)).toEqual({ payload: e.payload, createdAt: T0 });
      expect(await store.get(e.key, T0 + 9_999)).toBeDefined();
      // TTL: never served at or past its expiry.
      expect(await store.get(e.key, T0 + 10_000)).toBeUndefined();
      expect(await store.get('no-such-key', T0)).toBeUndefined();
    });

    it('neither serves nor keeps an entry stored at or before storedAfter (a TTL shortened since), whatever its expiry', async () => {
      const store = await open();
      const base = T0 + 6_000_000;
      const old = entry(base, 3_600_000);
      const fresh = entry(base + 60_000, 3_600_000);
      for (const e of [old, fresh]) await store.put(e, 1000, base + 60_000);
      const now = base + 120_000;
      // The current TTL is 90 s: `old` (stored 120 s ago for an hour) is past it, `fresh` (60 s ago) is not.
      expect(await store.get(old.key, now, now - 90_000)).toBeUndefined();
      expect(await store.get(fresh.key, now, now - 90_000)).toBeDefined();
      expect(await store.get(old.key, now)).toBeDefined();
      expect(await store.purgeExpired(now, now - 90_000)).toBeGreaterThanOrEqual(1);
      expect(await store.get(old.key, now)).toBeUndefined();
      expect(await store.get(fresh.key, now)).toBeDefined();
      // A put deletes them as the sweep does.
      const older = entry(base + 1, 3_600_000);
      await store.put(older, 1000, base + 1);
      await store.put(entry(now, 3_600_000), 1000, now, now - 90_000);
      expect(await store.get(older.key, now)).toBeUndefined();
      // Leaves no entry newer than the next tests' (the suite shares one database and evicts the oldest).
      expect(await store.purgeExpired(now + 3_600_000)).toBeGreaterThanOrEqual(2);
    });

    it('replaces an entry stored again under the same key (a fresh TTL)', async () => {
      const store = await open();
      const e = entry(T0, 1000, '{"v":1}');
      await store.put(e, 1000, T0);
      await store.put({ ...e, payload: '{"v":2}', createdAt: T0 + 5000, expiresAt: T0 + 6000 }, 1000, T0 + 5000);
      expect(await store.get(e.key, T0 + 5500)).toEqual({ payload: '{"v":2}', createdAt: T0 + 5000 });
    });

    it('refuses a payload over the size limit', async () => {
      const store = await open();
      const e = entry(T0, 1000, 'x'.repeat(RESPONSE_CACHE_MAX_PAYLOAD_CHARS + 1));
      expect(await store.put(e, 1000, T0)).toBe(false);
      expect(await store.get(e.key, T0)).toBeUndefined();
    });

    it('keeps at most maxEntries, evicting the oldest, and deletes expired entries on a put', async () => {
      const store = await open();
      // Start from a known state: a tiny bound evicts everything older than the newest entries of this test.
      const base = T0 + 1_000_000;
      const entries = Array.from({ length: 6 }, (_, i) => entry(base + i * 1000, 3_600_000));
      for (const e of entries) await store.put(e, 3, base + 10_000);
      expect(await store.size()).toBe(3);
      for (const e of entries.slice(0, 3)) expect(await store.get(e.key, base + 10_000)).toBeUndefined();
      for (const e of entries.slice(3)) expect(await store.get(e.key, base + 10_000)).toBeDefined();
      // An expired entry is deleted by the next put, even under the bound.
      const shortLived = entry(base + 20_000, 100);
      await store.put(shortLived, 10, base + 20_000);
      expect(await store.size()).toBe(4);
      await store.put(entry(base + 30_000, 3_600_000), 10, base + 30_000);
      expect(await store.size()).toBe(4);
      expect(await store.get(shortLived.key, base + 20_050)).toBeUndefined();
    });

    it('purges the expired entries alone, and says how many', async () => {
      const store = await open();
      const base = T0 + 5_000_000;
      const expired = [entry(base, 100), entry(base + 1, 100)];
      const fresh = entry(base + 2, 3_600_000);
      for (const e of [...expired, fresh]) await store.put(e, 1000, base);
      const before = await store.size();
      expect(await store.purgeExpired(base + 1_000)).toBeGreaterThanOrEqual(2);
      expect(await store.size()).toBeLessThanOrEqual(before - 2);
      expect(await store.get(fresh.key, base + 1_000)).toBeDefined();
      expect(await store.purgeExpired(base + 1_000)).toBe(0);
      // Leaves no entry newer than the next tests' (the suite shares one database and evicts the oldest).
      expect(await store.purgeExpired(fresh.expiresAt)).toBeGreaterThanOrEqual(1);
      expect(await store.get(fresh.key, base + 1_000)).toBeUndefined();
    });

    it('holds the bound with concurrent writers (two instances, many puts at once)', async () => {
      const a = await open();
      const b = await open();
      const base = T0 + 2_000_000;
      const entries = Array.from({ length: 40 }, (_, i) => entry(base + i, 3_600_000));
      const results = await Promise.all(entries.map((e, i) => (i % 2 === 0 ? a : b).put(e, 25, base + 100)));
      expect(results.every(Boolean)).toBe(true);
      expect(await a.size()).toBe(25);
      // The newest 25 remain, readable from either instance.
      for (const e of entries.slice(15)) expect(await b.get(e.key, base + 100)).toBeDefined();
      for (const e of entries.slice(0, 15)) expect(await a.get(e.key, base + 100)).toBeUndefined();
      // Concurrent writes of the same key: one value wins, no error.
      const same = entry(base + 50, 3_600_000);
      await Promise.all([a.put(same, 25, base + 100), b.put({ ...same, payload: '{"other":true}' }, 25, base + 100)]);
      expect(await a.get(same.key, base + 100)).toBeDefined();
    });

    it('keeps entries across a restart (a new instance, and the database restarted)', async () => {
      const store = await open();
      const e = entry(T0 + 3_000_000, 3_600_000, '{"answer":"durable"}');
      await store.put(e, 1000, T0 + 3_000_000);
      await store.close();
      await h.restartDatabase();
      const again = await open();
      expect(await again.get(e.key, T0 + 3_000_001)).toEqual({
        payload: '{"answer":"durable"}',
        createdAt: e.createdAt,
      });
    });
  });
}
