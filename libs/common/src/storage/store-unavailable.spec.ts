import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Logger } from '@nestjs/common';
import { buildProblem } from '../errors/problem';
import { openSqliteFile, sqliteStore, useServingBusyTimeout } from './sqlite-file';
import {
  DatabaseUnavailableError,
  postgresOutage,
  resetStoreOutageLog,
  sqliteOutage,
  STORE_OUTAGE_LOG_INTERVAL_MS,
  storeError,
  storeRefusal,
} from './store-unavailable';

/** What node:sqlite throws: `code`, the extended result code and SQLite's words. */
const sqliteError = (errcode: number, errstr: string): Error =>
  Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr });

describe('postgresOutage: which pg errors mean the database cannot be used now', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), /ECONNREFUSED/],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), /ECONNRESET/],
    [new Error('timeout exceeded when trying to connect'), /no connection in time/],
    [new Error('Query read timeout'), /no answer in time/],
    [new Error('Connection terminated unexpectedly'), /connection was closed/],
    [
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      /no answer in time.*57014/,
    ],
    [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), /57P01/],
    [Object.assign(new Error('sorry, too many clients already'), { code: '53300' }), /too many connections/],
    [Object.assign(new Error('could not extend file'), { code: '53100' }), /disk space/],
    [Object.assign(new Error('connection failure'), { code: '08006' }), /connection exception/],
    [Object.assign(new Error('read-only transaction'), { code: '25006' }), /read-only/],
  ])('%s', (error, reason) => {
    expect(postgresOutage(error)?.reason).toMatch(reason);
    expect(postgresOutage(error)?.retryAfterS).toBeGreaterThan(0);
  });

  it('a defect is none: a syntax error, a constraint, a plain Error, a type error', () => {
    expect(postgresOutage(Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' }))).toBe(
      undefined,
    );
    expect(postgresOutage(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(undefined);
    expect(postgresOutage(new Error('boom'))).toBe(undefined);
    expect(postgresOutage(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(undefined);
    expect(postgresOutage('text')).toBe(undefined);
  });
});

describe('storeRefusal: which store errors refuse the rows written for good (not an outage, not a defect)', () => {
  const pg = (code: string, message: string): Error => Object.assign(new Error(message), { code });

  it('PostgreSQL SQLSTATE classes 22 (data exception) and 23 (integrity constraint)', () => {
    expect(storeRefusal(pg('22003', 'value "100000000000000000000" is out of range for type bigint'))).toEqual({
      kind: 'invalid_value',
      reason: 'value "100000000000000000000" is out of range for type bigint (SQLSTATE 22003)',
    });
    expect(storeRefusal(pg('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))?.kind).toBe('invalid_value');
    expect(storeRefusal(pg('22P02', 'invalid input syntax for type bigint: "1e+21"'))?.kind).toBe('invalid_value');
    expect(storeRefusal(pg('23514', 'new row violates check constraint "positive"'))).toEqual({
      kind: 'constraint',
      reason: 'new row violates check constraint "positive" (SQLSTATE 23514)',
    });
    expect(storeRefusal(pg('23502', 'null value in column "model" violates not-null constraint'))?.kind).toBe(
      'constraint',
    );
  });

  it('SQLite SQLITE_CONSTRAINT (extended codes too), SQLITE_MISMATCH and SQLITE_TOOBIG', () => {
    expect(storeRefusal(sqliteError(19 | (1 << 8), 'CHECK constraint failed: positive'))).toEqual({
      kind: 'constraint',
      reason: 'CHECK constraint failed: positive (SQLITE_CONSTRAINT)',
    });
    expect(storeRefusal(sqliteError(20, 'datatype mismatch'))?.kind).toBe('invalid_value');
    expect(storeRefusal(sqliteError(18, 'string or blob too big'))?.kind).toBe('invalid_value');
  });

  it('an outage, a lock, a serialization failure, a defect or a plain Error is none: tried again, never dropped', () => {
    expect(storeRefusal(pg('08006', 'connection failure'))).toBe(undefined);
    expect(storeRefusal(pg('57P01', 'terminating connection due to administrator command'))).toBe(undefined);
    expect(storeRefusal(pg('40001', 'could not serialize access'))).toBe(undefined);
    expect(storeRefusal(pg('40P01', 'deadlock detected'))).toBe(undefined);
    expect(storeRefusal(pg('55P03', 'could not obtain lock on row'))).toBe(undefined);
    expect(storeRefusal(pg('57014', 'canceling statement due to statement timeout'))).toBe(undefined);
    expect(storeRefusal(pg('42601', 'syntax error at or near "SELEC"'))).toBe(undefined);
    expect(
      storeRefusal(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    ).toBe(undefined);
    expect(storeRefusal(sqliteError(5, 'database is locked'))).toBe(undefined);
    expect(storeRefusal(sqliteError(13, 'database or disk is full'))).toBe(undefined);
    expect(storeRefusal(sqliteError(1, 'no such table: usage_records'))).toBe(undefined);
    expect(storeRefusal(new DatabaseUnavailableError('ledger', 'postgres', { reason: 'down', retryAfterS: 5 }))).toBe(
      undefined,
    );
    expect(storeRefusal(new Error('boom'))).toBe(undefined);
    expect(storeRefusal('text')).toBe(undefined);
  });
});

describe('sqliteOutage: which node:sqlite errors mean the file cannot be used now', () => {
  it('BUSY, FULL, IOERR (extended codes too), READONLY, CORRUPT; not SQLITE_ERROR (a statement SQLite refuses)', () => {
    expect(sqliteOutage(sqliteError(5, 'database is locked'))).toEqual({
      reason: 'the file is locked by another process (SQLITE_BUSY)',
      retryAfterS: 1,
    });
    expect(sqliteOutage(sqliteError(13, 'database or disk is full'))?.reason).toMatch(/disk is full/);
    expect(sqliteOutage(sqliteError(10 | (4 << 8), 'disk I/O error'))?.reason).toMatch(/I\/O/);
    expect(sqliteOutage(sqliteError(8, 'attempt to write a readonly database'))?.reason).toMatch(/read-only/);
    expect(sqliteOutage(sqliteError(11, 'database disk image is malformed'))?.reason).toMatch(/damaged/);
    expect(sqliteOutage(sqliteError(1, 'near "SELEC": syntax error'))).toBe(undefined);
    expect(sqliteOutage(sqliteError(19, 'UNIQUE constraint failed'))).toBe(undefined);
    expect(sqliteOutage(new Error('database is locked'))).toBe(undefined);
  });

  it('a full disk, as node:sqlite reports it (max_page_count), is one', () => {
    const db = new DatabaseSync(':memory:');
    db.exec('CREATE TABLE t (x TEXT)');
    db.exec('PRAGMA max_page_count = 3');
    let thrown: unknown;
    try {
      for (let i = 0; i < 100; i++) db.prepare('INSERT INTO t (x) VALUES (?)').run('x'.repeat(1000));
    } catch (error) {
      thrown = error;
    }
    db.close();
    expect(sqliteOutage(thrown)?.reason).toBe('the disk is full (SQLITE_FULL)');
  });
});

describe('storeError: a 503 naming the store, logged once a minute, never the connection string', () => {
  let warnings: string[];
  beforeEach(() => {
    resetStoreOutageLog();
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('an outage: 503 DATABASE_UNAVAILABLE, Retry-After, `store`; the detail names the store, not the URL', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432 (postgres://app:hunter2@db)'), {
      code: 'ECONNREFUSED',
    });
    const error = storeError('ledger', 'postgres', cause);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    const problem = buildProblem(error, { instance: '/usage/spend' });
    expect(problem.status).toBe(503);
    expect(problem.headers).toEqual({ 'retry-after': '5' });
    expect(problem.body).toMatchObject({ code: 'DATABASE_UNAVAILABLE', store: 'ledger', status: 503 });
    expect(problem.body.detail).toBe(
      'The ledger store (PostgreSQL, DATABASE_URL) cannot be used: connection refused (ECONNREFUSED).',
    );
    expect(JSON.stringify(problem)).not.toMatch(/hunter2|10\.1\.2\.3|postgres:\/\//);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^ledger store \(postgres\) unavailable: connection refused/);
  });

  it('a defect is returned as it is (a 500), and logs nothing here', () => {
    const defect = Object.assign(new Error('syntax error'), { code: '42601' });
    expect(storeError('incidents', 'postgres', defect)).toBe(defect);
    expect(buildProblem(storeError('incidents', 'sqlite', sqliteError(1, 'syntax error'))).status).toBe(500);
    expect(warnings).toEqual([]);
  });

  it('one warning per store per minute, however many requests; the next one counts those between', () => {
    const refused = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    // The throttle runs on the monotonic clock (a wall clock that steps would hold or release it early).
    const now = jest.spyOn(performance, 'now').mockReturnValue(1_000_000);
    for (let i = 0; i < 50; i++) storeError('ledger', 'postgres', refused);
    storeError('incidents', 'postgres', refused);
    expect(warnings).toHaveLength(2);
    now.mockReturnValue(1_000_000 + STORE_OUTAGE_LOG_INTERVAL_MS);
    storeError('ledger', 'postgres', refused);
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toMatch(/\(49 more since the last line\)$/);
  });
});

describe('sqliteStore: a lock another process holds never stalls the event loop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-busy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The store's connection (served: short busy timeout) and another one on the same file holding the write lock. */
  const open = (name: string): { db: DatabaseSync; holder: DatabaseSync } => {
    const file = join(dir, name);
    const db = openSqliteFile(file, { schema: ['CREATE TABLE IF NOT EXISTS t (x INTEGER)'] });
    useServingBusyTimeout(db);
    const holder = new DatabaseSync(file);
    holder.exec('BEGIN IMMEDIATE');
    return { db, holder };
  };

  /** Whether a timer set now fires before `promise` settles: the loop was free while the store waited. */
  const timerFiresFirst = async (promise: Promise<unknown>): Promise<boolean> => {
    const first = await Promise.race([
      promise.then(
        () => 'store',
        () => 'store',
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('timer'), 0)),
    ]);
    return first === 'timer';
  };

  it('a write waits between attempts, the loop free, and succeeds once the lock is released', async () => {
    const { db, holder } = open('released.sqlite');
    const write = sqliteStore('incidents', () => db.prepare('INSERT INTO t (x) VALUES (1)').run());
    expect(await timerFiresFirst(write)).toBe(true);
    holder.exec('COMMIT');
    await expect(write).resolves.toMatchObject({ changes: 1 });
    holder.close();
    db.close();
  });

  it('a lock held past the retry window: 503 DATABASE_UNAVAILABLE naming the store, Retry-After 1', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { db, holder } = open('held.sqlite');
    const write = sqliteStore('incidents', () => db.prepare('INSERT INTO t (x) VALUES (1)').run(), 300);
    expect(await timerFiresFirst(write)).toBe(true);
    const error = await write.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(buildProblem(error)).toMatchObject({
      status: 503,
      headers: { 'retry-after': '1' },
      body: { code: 'DATABASE_UNAVAILABLE', store: 'incidents' },
    });
    expect((error as Error).message).toMatch(/incidents\.sqlite under DATA_DIR.*locked by another process/);
    holder.exec('ROLLBACK');
    holder.close();
    db.close();
    jest.restoreAllMocks();
  });

  it('a defect is not retried and stays as it is', async () => {
    const db = openSqliteFile(':memory:');
    let runs = 0;
    const error = await sqliteStore('ledger', () => {
      runs += 1;
      return db.prepare('SELEC 1').get();
    }).catch((e: unknown) => e);
    expect(runs).toBe(1);
    expect(error).not.toBeInstanceOf(DatabaseUnavailableError);
    db.close();
  });
});
