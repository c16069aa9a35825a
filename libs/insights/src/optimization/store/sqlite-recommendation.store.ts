import {
  applySqliteSchema,
  openSqliteFile,
  settle,
  sqliteFileError,
  sqliteStore,
  sqliteTransaction,
  useServingBusyTimeout,
} from '@app/common';
import { type DatabaseSync, type SQLInputValue } from 'node:sqlite';
import type { Baseline, Recommendation, RecommendationResult } from '../recommendation';
import {
  implementSql,
  implementValues,
  insertRecommendationSql,
  insertResultSql,
  listRecommendationsSql,
  OPTIMIZATION_META_TABLE,
  OPTIMIZATION_SCHEMA,
  optimizationSchema,
  overlappingResultSql,
  recommendationValues,
  resultValues,
  selectRecommendationSql,
  selectResultsSql,
  toRecommendation,
  toResult,
} from './recommendation-sql';
import { type RecommendationPage, RecommendationStore, type ResultFilter } from './recommendation-store.port';

const q = (): string => '?';

/**
 * The embedded store: `node:sqlite` on its own file (`optimization.sqlite` under DATA_DIR), WAL mode and a busy
 * timeout like the ledger's, so several processes on one host can share it.
 */
export class SqliteRecommendationStore extends RecommendationStore {
  readonly kind = 'sqlite' as const;
  private db: DatabaseSync | undefined;

  constructor(private readonly file: string) {
    super();
  }

  init(): Promise<void> {
    return settle(() => {
      if (this.db) return;
      // The schema comes after the look at the store's version: a newer build's store is left as it is.
      const db = openSqliteFile(this.file, { foreignKeys: true });
      try {
        const where = `the recommendation store "${this.file}"`;
        applySqliteSchema(db, OPTIMIZATION_SCHEMA, OPTIMIZATION_META_TABLE, where, optimizationSchema('sqlite'));
      } catch (error) {
        db.close();
        throw sqliteFileError(this.file, error);
      }
      useServingBusyTimeout(db);
      this.db = db;
    });
  }

  private open(): DatabaseSync {
    if (!this.db) throw new Error('SQLite recommendation store is not initialised (or closed)');
    return this.db;
  }

  create(recommendation: Recommendation): Promise<void> {
    return sqliteStore('optimization', () => {
      this.open()
        .prepare(insertRecommendationSql(q))
        .run(...(recommendationValues(recommendation) as SQLInputValue[]));
    });
  }

  get(id: string): Promise<Recommendation | undefined> {
    return sqliteStore('optimization', () => {
      const row = this.open().prepare(selectRecommendationSql(q)).get(id);
      return row ? toRecommendation(row) : undefined;
    });
  }

  list(page?: RecommendationPage): Promise<Recommendation[]> {
    return sqliteStore('optimization', () => {
      const { sql, params } = listRecommendationsSql(page, q);
      return this.open()
        .prepare(sql)
        .all(...(params as SQLInputValue[]))
        .map((row) => toRecommendation(row as Record<string, unknown>));
    });
  }

  implement(id: string, implementedAt: number, baseline: Baseline): Promise<boolean> {
    return sqliteStore('optimization', () => {
      const { changes } = this.open()
        .prepare(implementSql(q))
        .run(...(implementValues(id, implementedAt, baseline) as SQLInputValue[]));
      return Number(changes) === 1;
    });
  }

  /** The overlap check and the insert under BEGIN IMMEDIATE: the write lock, across processes sharing the file. */
  addResult(result: RecommendationResult): Promise<boolean> {
    return sqliteStore('optimization', () => {
      const db = this.open();
      return sqliteTransaction(db, () => {
        if (db.prepare(overlappingResultSql(q)).get(result.recommendationId, result.after.from)) return false;
        db.prepare(insertResultSql(q)).run(...(resultValues(result) as SQLInputValue[]));
        return true;
      });
    });
  }

  results(filter: ResultFilter = {}): Promise<RecommendationResult[]> {
    return sqliteStore('optimization', () => {
      const { sql, params } = selectResultsSql(filter, q);
      return this.open()
        .prepare(sql)
        .all(...(params as SQLInputValue[]))
        .map((row) => toResult(row as Record<string, unknown>));
    });
  }

  close(): Promise<void> {
    return settle(() => {
      this.db?.close();
      this.db = undefined;
    });
  }
}
