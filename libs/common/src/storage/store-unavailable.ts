import { Logger } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';
import { defineErrorCodes } from '../errors/error-codes';
import { heldBack, WarningThrottle } from '../rate/warning-throttle';

/** The error a route answers when a store it needs cannot be used (docs/errors.md, docs/operations.md). */
export const STORAGE_ERRORS = defineErrorCodes({
  DATABASE_UNAVAILABLE: { status: 503, title: 'Database unavailable' },
});

/**
 * The stores a route reads or writes, by the name a 503 gives them: the name of their SQLite file under DATA_DIR
 * (`ledger.sqlite`, `incidents.sqlite`, `optimization.sqlite`), or their tables on DATABASE_URL. (The response cache
 * is not one: a cache that fails is a miss.)
 */
export type StoreName = 'ledger' | 'incidents' | 'optimization';
export type StoreEngine = 'sqlite' | 'postgres';

/** Why a store cannot be used now, in words that quote no connection string, and when to try again. */
export interface StoreOutage {
  reason: string;
  retryAfterS: number;
}

/**
 * A store could not be used for a reason of the database's, not of the request's or the code's: PostgreSQL is down,
 * refuses, does not answer in time or is out of resources; the SQLite file is locked by another process, on a full
 * or failing disk, read-only or damaged. Answered 503 `DATABASE_UNAVAILABLE` with `Retry-After`; the extension
 * member `store` names the store. A real defect (a statement SQL refuses) is never one of these: it stays a 500.
 */
export class DatabaseUnavailableError extends DomainError {
  constructor(
    readonly store: StoreName,
    readonly engine: StoreEngine,
    readonly outage: StoreOutage,
    options?: { cause?: unknown },
  ) {
    super(
      STORAGE_ERRORS.DATABASE_UNAVAILABLE,
      `The ${store} store (${describeEngine(store, engine)}) cannot be used: ${outage.reason}.`,
      { store },
      { 'retry-after': String(outage.retryAfterS) },
      options,
    );
  }
}

function describeEngine(store: StoreName, engine: StoreEngine): string {
  return engine === 'postgres' ? 'PostgreSQL, DATABASE_URL' : `SQLite, ${store}.sqlite under DATA_DIR`;
}

/** Seconds a client is told to wait: a database that went away is not back in a second; a lock is. */
const DOWN_RETRY_AFTER_S = 5;
const LOCKED_RETRY_AFTER_S = 1;

const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** pg's (and pg-pool's) own words for a connection that could not be had or was lost, and for its timeouts. */
const PG_MESSAGES: readonly [RegExp, string][] = [
  [/timeout exceeded when trying to connect/i, 'no connection in time'],
  [/Query read timeout/i, 'no answer in time'],
  [/Connection terminated/i, 'the connection was closed'],
  [/Client has encountered a connection error and is not queryable/i, 'the connection was lost'],
  [/Client was closed and is not queryable|Cannot use a pool after calling end on the pool/i, 'the pool is closed'],
];

/** SQLSTATE classes and codes of a database that cannot serve now (not of a statement that is wrong). */
const SQLSTATE_REASONS: readonly [RegExp, string][] = [
  [/^08/, 'connection exception'],
  [/^53100$/, 'the server is out of disk space'],
  [/^53200$/, 'the server is out of memory'],
  [/^53300$/, 'too many connections'],
  [/^53/, 'insufficient resources'],
  [/^57014$/, 'no answer in time (the statement was cancelled)'],
  [/^57P01$/, 'the server is shutting down'],
  [/^57P02$/, 'the server crashed'],
  [/^57P03$/, 'the server is starting up or shutting down'],
  [/^57P/, 'operator intervention'],
  [/^25006$/, 'the server is read-only (a standby?)'],
  [/^28/, 'the login was refused'],
  [/^3D000$/, 'the database does not exist'],
];

/**
 * A `pg` error that says PostgreSQL cannot be used now: a socket error (refused, reset, unreachable), pg-pool's
 * connection timeout or pg's query timeout, a connection terminated, or a server error of SQLSTATE class 08
 * (connection), 53 (resources), 57014 (cancelled: the pool's `statement_timeout`), 57P (shutdown), 28 (login), 25006 (read-only), 3D000. Undefined for anything else,
 * a syntax error (42601) or a constraint (23505) among them: those are defects, answered 500.
 */
export function postgresOutage(error: unknown): StoreOutage | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const down = (reason: string): StoreOutage => ({ reason, retryAfterS: DOWN_RETRY_AFTER_S });
  if (typeof code === 'string' && SOCKET_ERRORS.has(code)) {
    return down(code === 'ECONNREFUSED' ? 'connection refused (ECONNREFUSED)' : `connection failed (${code})`);
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const known = SQLSTATE_REASONS.find(([pattern]) => pattern.test(code));
    return known ? down(`${known[1]} (SQLSTATE ${code})`) : undefined;
  }
  if (typeof message !== 'string') return undefined;
  const known = PG_MESSAGES.find(([pattern]) => pattern.test(message));
  return known ? down(known[1]) : undefined;
}

/** node:sqlite's primary result codes (`errcode & 0xff`) of a file that cannot be used now. */
const SQLITE_REASONS: Readonly<Record<number, [string, number]>> = {
  5: ['the file is locked by another process (SQLITE_BUSY)', LOCKED_RETRY_AFTER_S],
  6: ['a table is locked (SQLITE_LOCKED)', LOCKED_RETRY_AFTER_S],
  7: ['out of memory (SQLITE_NOMEM)', DOWN_RETRY_AFTER_S],
  8: ['the file is read-only (SQLITE_READONLY)', DOWN_RETRY_AFTER_S],
  10: ['a disk I/O error (SQLITE_IOERR)', DOWN_RETRY_AFTER_S],
  11: ['the file is damaged (SQLITE_CORRUPT)', DOWN_RETRY_AFTER_S],
  13: ['the disk is full (SQLITE_FULL)', DOWN_RETRY_AFTER_S],
  14: ['the file cannot be opened (SQLITE_CANTOPEN)', DOWN_RETRY_AFTER_S],
  15: ['a locking protocol error (SQLITE_PROTOCOL)', LOCKED_RETRY_AFTER_S],
  26: ['the file is not a database (SQLITE_NOTADB)', DOWN_RETRY_AFTER_S],
};

const SQLITE_BUSY = 5;

/** The primary result code of a node:sqlite error, undefined for any other error. */
function sqlitePrimaryCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  return code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number' ? errcode & 0xff : undefined;
}

/** The lock of a SQLite file is held by another connection (another process sharing the file). */
export function isSqliteBusy(error: unknown): boolean {
  return sqlitePrimaryCode(error) === SQLITE_BUSY;
}

/**
 * A node:sqlite error that says the file cannot be used now: locked by another process (BUSY, LOCKED), a full or
 * failing disk (FULL, IOERR), read-only, damaged, unopenable. Undefined for anything else: SQLITE_ERROR (a statement
 * SQLite refuses: a defect), a constraint, a plain Error.
 */
export function sqliteOutage(error: unknown): StoreOutage | undefined {
  const primary = sqlitePrimaryCode(error);
  const known = primary === undefined ? undefined : SQLITE_REASONS[primary];
  return known ? { reason: known[0], retryAfterS: known[1] } : undefined;
}

/**
 * Why a store refused rows for good (a bounded metric tag): `invalid_value`, a value the store cannot hold (out of
 * range, text it refuses, a type it does not take); `constraint`, a row a constraint of the schema refuses.
 */
export type StoreRefusalKind = 'invalid_value' | 'constraint';

export interface StoreRefusal {
  kind: StoreRefusalKind;
  /** The store's words and code (its message only: PostgreSQL's `detail` can quote the row). */
  reason: string;
}

const REFUSAL_REASON_CHARS = 200;

/** node:sqlite's primary result codes of a row refused for what it holds. */
const SQLITE_REFUSALS: Readonly<Record<number, [StoreRefusalKind, string]>> = {
  18: ['invalid_value', 'SQLITE_TOOBIG'],
  19: ['constraint', 'SQLITE_CONSTRAINT'],
  20: ['invalid_value', 'SQLITE_MISMATCH'],
};

/**
 * A store's error that says the rows written are refused for good, however often they are tried again: PostgreSQL's
 * SQLSTATE class 22 (data exception: a number out of range, text PostgreSQL's `text` refuses, a value of the wrong
 * type) or 23 (integrity constraint); SQLite's SQLITE_CONSTRAINT, SQLITE_MISMATCH or SQLITE_TOOBIG. Undefined for
 * anything else: an outage (`postgresOutage`, `sqliteOutage`: try again later), a lock or a serialization failure
 * (class 40), a statement the database refuses (a defect of the code, not of a row), a plain Error.
 */
export function storeRefusal(error: unknown): StoreRefusal | undefined {
  if (typeof error !== 'object' || error === null || error instanceof DatabaseUnavailableError) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const words = typeof message === 'string' && message.length > 0 ? message.slice(0, REFUSAL_REASON_CHARS) : 'refused';
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) {
    return { kind: code.startsWith('22') ? 'invalid_value' : 'constraint', reason: `${words} (SQLSTATE ${code})` };
  }
  const primary = sqlitePrimaryCode(error);
  const known = primary === undefined ? undefined : SQLITE_REFUSALS[primary];
  return known ? { kind: known[0], reason: `${words} (${known[1]})` } : undefined;
}

/** One warning per store and minute at most, however many requests meet the outage. */
export const STORE_OUTAGE_LOG_INTERVAL_MS = 60_000;

const outageLog = new WarningThrottle(STORE_OUTAGE_LOG_INTERVAL_MS);
const logger = new Logger('StoreOutage');

/** Logs the outage (a warning, no stack), at most once a minute per store; the lines between are counted. */
function logOutage(error: DatabaseUnavailableError): void {
  const suppressed = outageLog.admit(`${error.store}/${error.engine}`);
  if (suppressed === undefined) return;
  logger.warn(
    `${error.store} store (${error.engine}) unavailable: ${error.outage.reason}; the routes that need it answer 503 ` +
      `DATABASE_UNAVAILABLE${heldBack(suppressed)}`,
  );
}

/** Forgets the log's rate limit (tests). */
export function resetStoreOutageLog(): void {
  outageLog.reset();
}

/**
 * A store adapter's failure as the caller should see it: a DatabaseUnavailableError (logged, rate-limited) when the
 * database cannot be used now, else the error as it is (a defect stays a 500). An error already classified passes.
 */
export function storeError(store: StoreName, engine: StoreEngine, error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  const outage = engine === 'postgres' ? postgresOutage(error) : sqliteOutage(error);
  if (!outage) return error;
  const unavailable = new DatabaseUnavailableError(store, engine, outage, { cause: error });
  logOutage(unavailable);
  return unavailable;
}

/**
 * Runs a PostgreSQL store's operation, its failure classified (`storeError`):
 * `return postgresStore('ledger', () => this.pool.query(...))`.
 */
export async function postgresStore<T>(store: StoreName, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storeError(store, 'postgres', error);
  }
}

/** What `watchPostgresPool` needs of a pg pool (structural: only the stores import `pg`). */
export interface PostgresPoolEvents {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(
    event: 'connect',
    listener: (client: { on(event: 'error', listener: (error: Error) => void): unknown }) => void,
  ): unknown;
}

/**
 * Listens for the connections of `pool` dropping (a database restart, a failover, a crash), so that the event never
 * ends the process. An idle client's loss is reported by the pool (logged as `idle connection lost` from `owner`,
 * and the pool replaces it). A client checked out for a query or a transaction gets no listener from the pool: its
 * loss was an unhandled 'error' event, and the process ended with the database. Each client now has one; the
 * statement running on it (or the next one) fails with the same error, which the store reports as
 * DATABASE_UNAVAILABLE, and the pool discards the client when it is released.
 */
export function watchPostgresPool(pool: PostgresPoolEvents, owner: string): void {
  const logger = new Logger(owner);
  pool.on('error', (error) => logger.warn(`idle connection lost: ${error.message}`));
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
}

/** What `postgresTransaction` needs of a pg pool client (structural: only the stores import `pg`). */
export interface PostgresTransactionClient {
  query(statement: string | { text: string }): Promise<unknown>;
  release(destroy?: boolean): void;
}

/**
 * Runs `work` in BEGIN ... COMMIT on one client of `pool` (`commit`: the COMMIT statement, e.g. one with a timeout of
 * its own), ROLLBACK on a throw. A client whose ROLLBACK fails too (the connection is gone, or a statement timed out and
 * still holds it) is discarded, not given back to the pool. A database that cannot be used is a
 * DatabaseUnavailableError (503) naming `store`.
 */
export function postgresTransaction<C extends PostgresTransactionClient, T>(
  store: StoreName,
  pool: { connect(): Promise<C> },
  work: (client: C) => Promise<T>,
  commit: string | { text: string } = 'COMMIT',
): Promise<T> {
  return postgresStore(store, async () => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query(commit);
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  });
}

/**
 * How long a PostgreSQL pool waits for a connection, new or free (its `connectionTimeoutMillis`), from the statement
 * bound DATABASE_TIMEOUT_MS: twice it. A burst (an incident storm over two replicas, each pool 2-5 connections)
 * queues for a free connection while each statement keeps its own bound; with the same bound for both, a burst that
 * a healthy database served in a few seconds answered 503.
 */
export function connectionWaitMs(statementTimeoutMs: number): number {
  return 2 * statementTimeoutMs;
}

/**
 * How long PostgreSQL lets one of the service's sessions sit idle inside a transaction before it ends the session and
 * rolls the transaction back (the pool's `idle_in_transaction_session_timeout`): twice the statement bound, at least
 * 10 s. The service's transactions send their statements back to back, so a session idle that long in one belongs to a
 * process that stopped in the middle (frozen, cut off by a network partition, its host gone): its row locks (a ledger
 * flush holds the current hour's rollup rows) blocked every other replica's flushes until the server noticed, which
 * without keepalives is hours. The process, if it comes back, finds its transaction ended and retries it.
 */
export function idleInTransactionMs(statementTimeoutMs: number): number {
  return Math.max(10_000, 2 * statementTimeoutMs);
}

/** The settings of a store's `pg` pool (a plain object: only the stores import `pg`). */
export interface PostgresPoolSettings {
  connectionString: string;
  max: number;
  connectionTimeoutMillis: number;
  /** The bound on each statement as the server keeps it: PostgreSQL cancels the statement (SQLSTATE 57014). */
  statement_timeout: number;
  /** The same bound as the client keeps it (pg's timer): for a server that does not answer at all. */
  query_timeout: number;
  idle_in_transaction_session_timeout: number;
  idleTimeoutMillis: number;
}

/**
 * One store's pool: `max` connections, each statement bounded by `statementTimeoutMs` on both sides, the wait for a
 * connection by `connectionWait` (default twice the statement bound), a session idle in a transaction ended by the
 * server (`idleInTransactionMs`), an idle connection closed after 30 s.
 *
 * The bound is kept by the server too (`statement_timeout`), not only by pg's client-side timer: a statement the
 * client gave up on (waiting for a row lock another session holds, a slow plan) otherwise went on running on the
 * server. Each retry then left one more backend waiting behind the lock, until `max_connections` ran out for every
 * replica, and a statement outside a transaction (a cache write, a lease taken) was applied when the lock came free,
 * long after the service had answered that it failed.
 */
export function postgresPoolSettings(
  connectionString: string,
  options: { max: number; statementTimeoutMs: number; connectionWaitMs?: number },
): PostgresPoolSettings {
  const { max, statementTimeoutMs } = options;
  return {
    connectionString,
    max,
    connectionTimeoutMillis: options.connectionWaitMs ?? connectionWaitMs(statementTimeoutMs),
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: idleInTransactionMs(statementTimeoutMs),
    idleTimeoutMillis: 30_000,
  };
}
