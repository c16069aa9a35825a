import { join } from 'node:path';
import { Pool } from 'pg';
import { postgresPoolSettings } from '@app/common';
import type { AppConfig } from '@app/config';
import { PostgresRecommendationStore } from './postgres-recommendation.store';
import type { RecommendationStore } from './recommendation-store.port';
import { SqliteRecommendationStore } from './sqlite-recommendation.store';

/** The embedded store's file under DATA_DIR (next to the ledger's, a file of its own). */
export const OPTIMIZATION_SQLITE_FILE = 'optimization.sqlite';

/**
 * PostgreSQL with DATABASE_URL (a pool of its own, 2 connections, each statement bounded by DATABASE_TIMEOUT_MS and
 * the wait for a connection by twice that), else SQLite under DATA_DIR: as the ledger.
 */
export function createRecommendationStore(config: AppConfig): RecommendationStore {
  const url = config.ledger.databaseUrl;
  if (url) {
    const timeout = config.ledger.databaseTimeoutMs;
    return new PostgresRecommendationStore(
      new Pool(postgresPoolSettings(url.reveal(), { max: 2, statementTimeoutMs: timeout })),
    );
  }
  return new SqliteRecommendationStore(join(config.ledger.dataDir, OPTIMIZATION_SQLITE_FILE));
}
