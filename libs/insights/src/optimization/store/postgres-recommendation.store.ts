import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import {
  applyPostgresSchema,
  postgresStore,
  postgresTransaction,
  storableParams,
  watchPostgresPool,
} from '@app/common';
import type { Baseline, Recommendation, RecommendationResult } from '../recommendation';
import {
  implementSql,
  implementValues,
  insertRecommendationSql,
  insertResultSql,
  listRecommendationsSql,
  lockRecommendationSql,
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

const p = (i: number): string => `$${i}`;
/** Serialises schema creation between instances starting together (the ledger's lock is 7349001). */
const SCHEMA_LOCK = 7349014;

/** The shared store: PostgreSQL (DATABASE_URL), the ledger's database, tables of its own. */
export class PostgresRecommendationStore extends RecommendationStore {
  readonly kind = 'postgres' as const;

  /** The pool is built by the factory (`createRecommendationStore`). */
  constructor(private readonly pool: Pool) {
    super();
    // A connection dropping (a database restart, a failover), idle or checked out, never ends the process.
    watchPostgresPool(pool, 'PostgresRecommendationStore');
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
      // A newer build's store that this one cannot use is left as it is.
      await applyPostgresSchema(
        (text, values) => client.query<Record<string, unknown>>(text, values),
        OPTIMIZATION_SCHEMA,
        OPTIMIZATION_META_TABLE,
        'the recommendation store in this database',
        optimizationSchema('postgres'),
      );
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  /**
   * One statement on the pool; a database that cannot be used is a DatabaseUnavailableError (503). Strings go as
   * `storableText` (NUL as U+FFFD: PostgreSQL's text refuses NUL, and a look-up by an id holding one was a 500).
   */
  private query<R extends QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    return postgresStore('optimization', () => this.pool.query<R>(text, values && storableParams(values)));
  }

  async create(recommendation: Recommendation): Promise<void> {
    await this.query(insertRecommendationSql(p), recommendationValues(recommendation));
  }

  async get(id: string): Promise<Recommendation | undefined> {
    const { rows } = await this.query(selectRecommendationSql(p), [id]);
    return rows[0] ? toRecommendation(rows[0]) : undefined;
  }

  async list(page?: RecommendationPage): Promise<Recommendation[]> {
    const { sql, params } = listRecommendationsSql(page, p);
    const { rows } = await this.query(sql, params);
    return rows.map(toRecommendation);
  }

  async implement(id: string, implementedAt: number, baseline: Baseline): Promise<boolean> {
    const { rowCount } = await this.query(implementSql(p), implementValues(id, implementedAt, baseline));
    return rowCount === 1;
  }

  /**
   * One transaction: the recommendation's row locked (`FOR UPDATE`), then the overlap check, then the insert. The check
   * is a statement of its own after the lock, so under READ COMMITTED it sees a result another replica committed
   * while this one waited for the lock.
   */
  addResult(result: RecommendationResult): Promise<boolean> {
    return postgresTransaction('optimization', this.pool, async (client: PoolClient) => {
      await client.query(lockRecommendationSql(p), storableParams([result.recommendationId]));
      const overlap = await client.query(
        overlappingResultSql(p),
        storableParams([result.recommendationId, result.after.from]),
      );
      if (overlap.rowCount) return false;
      await client.query(insertResultSql(p), resultValues(result));
      return true;
    });
  }

  async results(filter: ResultFilter = {}): Promise<RecommendationResult[]> {
    const { sql, params } = selectResultsSql(filter, p);
    const { rows } = await this.query(sql, params);
    return rows.map(toResult);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
