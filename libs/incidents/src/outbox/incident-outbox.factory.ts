import { join } from 'node:path';
import { Pool } from 'pg';
import { postgresPoolSettings } from '@app/common';
import type { AppConfig } from '@app/config';
import type { IncidentOutboxStore } from './incident-outbox.port';
import { PostgresIncidentOutbox } from './postgres-incident-outbox';
import { SqliteIncidentOutbox } from './sqlite-incident-outbox';

/** The embedded outbox's file under DATA_DIR (next to the ledger's, a file of its own). */
export const INCIDENTS_SQLITE_FILE = 'incidents.sqlite';

/**
 * PostgreSQL with DATABASE_URL (a pool of its own, 3 connections, each statement bounded by DATABASE_TIMEOUT_MS and
 * the wait for a connection by twice that), else SQLite under DATA_DIR: as the ledger.
 */
export function createIncidentOutboxStore(config: AppConfig): IncidentOutboxStore {
  const url = config.ledger.databaseUrl;
  if (url) {
    const timeout = config.ledger.databaseTimeoutMs;
    return new PostgresIncidentOutbox(
      new Pool(postgresPoolSettings(url.reveal(), { max: 3, statementTimeoutMs: timeout })),
    );
  }
  return new SqliteIncidentOutbox(join(config.ledger.dataDir, INCIDENTS_SQLITE_FILE));
}
