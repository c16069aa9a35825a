import type { Baseline, Recommendation, RecommendationResult } from '../recommendation';

export type RecommendationStoreKind = 'sqlite' | 'postgres';

/** Which results to read; every condition given must hold. */
export interface ResultFilter {
  recommendationId?: string;
  /** Results whose measured (after) window ends at or after this time (epoch ms). */
  periodEndFrom?: number;
  /** Results of recommendations of this category. */
  category?: string;
}

/**
 * Where recommendations and their results are kept (durably: everything survives a restart). Chosen by config
 * like the ledger's store: SQLite under DATA_DIR, or PostgreSQL with DATABASE_URL; each creates its tables on
 * `init`.
 */
export abstract class RecommendationStore {
  abstract readonly kind: RecommendationStoreKind;
  /** Opens the database and creates the schema if missing (idempotent). */
  abstract init(): Promise<void>;
  abstract create(recommendation: Recommendation): Promise<void>;
  abstract get(id: string): Promise<Recommendation | undefined>;
  /** Every recommendation, newest first. */
  abstract list(): Promise<Recommendation[]>;
  /**
   * Marks a pending recommendation implemented at `implementedAt` with its baseline, in one conditional update.
   * False when it is unknown or not pending (two concurrent implements: one wins).
   */
  abstract implement(id: string, implementedAt: number, baseline: Baseline): Promise<boolean>;
  abstract addResult(result: RecommendationResult): Promise<void>;
  /** Results in the order they were recorded. */
  abstract results(filter?: ResultFilter): Promise<RecommendationResult[]>;
  abstract close(): Promise<void>;
}
