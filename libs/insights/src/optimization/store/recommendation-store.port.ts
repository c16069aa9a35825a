import type { Baseline, Recommendation, RecommendationResult } from '../recommendation';

export type RecommendationStoreKind = 'sqlite' | 'postgres';

/** Which results to read; every condition given must hold. */
export interface ResultFilter {
  recommendationId?: string;
  /** Results of any of these recommendations (a page of the list's). */
  recommendationIds?: readonly string[];
  /** Results whose measured (after) window ends at or after this time (epoch ms). */
  periodEndFrom?: number;
  /** Results of recommendations of this category. */
  category?: string;
}

/** A page of the recommendations: at most `limit`, older than `before` when given. */
export interface RecommendationPage {
  limit: number;
  before?: { readonly createdAt: number; readonly id: string };
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
  /**
   * Recommendations, newest first (creation time, then id, descending): every one, or with `page`, at most `limit` of
   * them, older than `before` (keyset paging) when given.
   */
  abstract list(page?: RecommendationPage): Promise<Recommendation[]>;
  /**
   * Marks a pending recommendation implemented at `implementedAt` with its baseline, in one conditional update.
   * False when it is unknown or not pending (two concurrent implements: one wins).
   */
  abstract implement(id: string, implementedAt: number, baseline: Baseline): Promise<boolean>;
  /**
   * Stores a result unless a result of the same recommendation already measured past its start (its after window
   * ends after this one's begins), checked and written atomically: of two concurrent record-results over the same
   * time one is stored, and false tells the other. Results of one recommendation so cover disjoint windows, and their
   * savings add up.
   */
  abstract addResult(result: RecommendationResult): Promise<boolean>;
  /** Results in the order they were recorded. */
  abstract results(filter?: ResultFilter): Promise<RecommendationResult[]>;
  abstract close(): Promise<void>;
}
