import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BootError } from '@app/config';
import { recommendationStoreContract } from '../../../../../test/support/recommendation-store-contract';
import { OPTIMIZATION_SCHEMA } from './recommendation-sql';
import { SqliteRecommendationStore } from './sqlite-recommendation.store';

const dir = mkdtempSync(join(tmpdir(), 'optimization-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

recommendationStoreContract('SqliteRecommendationStore', () => ({
  open: async () => {
    const store = new SqliteRecommendationStore(join(dir, 'optimization.sqlite'));
    await store.init();
    return store;
  },
  restartDatabase: () => Promise.resolve(),
}));

describe('SqliteRecommendationStore: a store of another version', () => {
  /** A file holding `statements`, then what `optimization_meta` says after `init` (or the error it threw). */
  async function started(
    name: string,
    statements: string[],
  ): Promise<{ error: unknown; meta: Record<string, number> }> {
    const file = join(dir, name);
    const setup = new DatabaseSync(file);
    for (const statement of statements) setup.exec(statement);
    setup.close();
    const store = new SqliteRecommendationStore(file);
    const error: unknown = await store.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error === undefined) await store.close();
    const db = new DatabaseSync(file, { readOnly: true });
    const rows = db.prepare('SELECT key, value FROM optimization_meta').all() as { key: string; value: number }[];
    db.close();
    return { error, meta: Object.fromEntries(rows.map((r) => [r.key, Number(r.value)])) };
  }

  const newerMeta = (version: number, usableFrom: number): string[] => [
    'CREATE TABLE optimization_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    `INSERT INTO optimization_meta (key, value) VALUES ('schema_version', ${version}), ('schema_usable_from', ${usableFrom})`,
  ];

  it('marks a new store with its schema version', async () => {
    const { error, meta } = await started('marked.sqlite', []);
    expect(error).toBeUndefined();
    expect(meta).toEqual({
      schema_version: OPTIMIZATION_SCHEMA.version,
      schema_usable_from: OPTIMIZATION_SCHEMA.usableFrom,
    });
  });

  it('refuses to start on a store a newer version wrote that it cannot use, and changes nothing', async () => {
    // A newer build's column this one would leave null: every recommendation created answered 500.
    const future = OPTIMIZATION_SCHEMA.version + 1;
    const { error, meta } = await started('newer.sqlite', [
      'CREATE TABLE optimization_recommendations (id TEXT PRIMARY KEY, tenant TEXT NOT NULL)',
      ...newerMeta(future, future),
    ]);
    expect(error).toBeInstanceOf(BootError);
    expect((error as BootError).variable).toBe('DATA_DIR');
    expect((error as Error).message).toContain(
      `the recommendation store "${join(dir, 'newer.sqlite')}" was written by a newer version of the service ` +
        `(recommendation store schema ${future}, usable by builds of schema ${future} or later); this build knows schema ` +
        `${OPTIMIZATION_SCHEMA.version}`,
    );
    expect(meta).toEqual({ schema_version: future, schema_usable_from: future });
  });

  it('starts on a newer store it can still use (a rollback), keeping the newer marks', async () => {
    const { error, meta } = await started('usable.sqlite', newerMeta(OPTIMIZATION_SCHEMA.version + 1, 1));
    expect(error).toBeUndefined();
    expect(meta).toEqual({ schema_version: OPTIMIZATION_SCHEMA.version + 1, schema_usable_from: 1 });
  });
});
