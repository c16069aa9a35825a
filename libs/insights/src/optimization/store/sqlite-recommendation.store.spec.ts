import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recommendationStoreContract } from '../../../../../test/support/recommendation-store-contract';
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
