import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BootError } from '@app/config';
import { openSqliteFile, settle, sqliteTransaction } from './sqlite-file';

describe('openSqliteFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the folder, turns WAL and the busy timeout on, runs the schema', () => {
    const db = openSqliteFile(join(dir, 'nested', 'a.sqlite'), {
      busyTimeoutMs: 1234,
      foreignKeys: true,
      schema: ['CREATE TABLE IF NOT EXISTS t (x INTEGER)'],
    });
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.prepare('PRAGMA busy_timeout').get()).toEqual({ timeout: 1234 });
    expect(db.prepare('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 });
    db.prepare('INSERT INTO t (x) VALUES (1)').run();
    db.close();
  });

  it('a bad schema throws (the database is closed again), and settle turns a throw into a rejection', async () => {
    expect(() => openSqliteFile(join(dir, 'b.sqlite'), { schema: ['CREATE TABLE nonsense ('] })).toThrow();
    await expect(settle(() => JSON.parse('{') as unknown)).rejects.toBeInstanceOf(SyntaxError);
    await expect(settle(() => 7)).resolves.toBe(7);
  });
});

describe('openSqliteFile: a file that cannot be the database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-damaged-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const bootError = (file: string): BootError => {
    try {
      openSqliteFile(file, { schema: ['CREATE TABLE IF NOT EXISTS t (x TEXT)'] }).close();
    } catch (error) {
      expect(error).toBeInstanceOf(BootError);
      return error as BootError;
    }
    throw new Error(`${file} opened`);
  };

  it('not a database: a BootError naming DATA_DIR and the file; the file is left as it was', () => {
    const file = join(dir, 'junk.sqlite');
    writeFileSync(file, 'x'.repeat(5000));
    const error = bootError(file);
    expect(error.variable).toBe('DATA_DIR');
    expect(error.problem).toMatch(
      new RegExp(`^"${file}" is not a usable SQLite database \\(file is not a database\\)`),
    );
    expect(error.problem).toMatch(/move it .*aside/);
    expect(readFileSync(file, 'utf8')).toBe('x'.repeat(5000));
  });

  it('a truncated copy of a database: the same, "malformed"', () => {
    const whole = join(dir, 'whole.sqlite');
    const db = new DatabaseSync(whole);
    db.exec('CREATE TABLE big (x TEXT)');
    db.exec('BEGIN');
    for (let i = 0; i < 200; i++) db.prepare('INSERT INTO big (x) VALUES (?)').run('y'.repeat(2000));
    db.exec('COMMIT');
    db.close();
    const half = join(dir, 'half.sqlite');
    writeFileSync(half, readFileSync(whole).subarray(0, Math.floor(statSync(whole).size / 2)));
    expect(bootError(half).problem).toMatch(/is not a usable SQLite database \(database disk image is malformed\)/);
  });

  it('a folder where the file should be: a BootError saying it cannot be opened', () => {
    const folder = join(dir, 'folder.sqlite');
    mkdirSync(folder);
    expect(bootError(folder).problem).toMatch(new RegExp(`^"${folder}" cannot be opened as a SQLite database`));
  });
});

describe('sqliteTransaction', () => {
  it('commits what the work wrote, and returns its result', () => {
    const db = openSqliteFile(':memory:', { schema: ['CREATE TABLE t (x TEXT)'] });
    expect(sqliteTransaction(db, () => db.prepare('INSERT INTO t (x) VALUES (?)').run('a').changes)).toBe(1);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    db.close();
  });

  it('rolls back a failed work and rethrows its error', () => {
    const db = openSqliteFile(':memory:', { schema: ['CREATE TABLE t (x TEXT NOT NULL)'] });
    expect(() =>
      sqliteTransaction(db, () => {
        db.prepare('INSERT INTO t (x) VALUES (?)').run('a');
        db.prepare('INSERT INTO t (x) VALUES (NULL)').run();
      }),
    ).toThrow(/NOT NULL constraint failed/);
    expect(db.isTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    db.close();
  });

  // SQLite rolls a transaction back by itself on a full disk: the ROLLBACK that followed threw "cannot rollback - no
  // transaction is active", and that, not the full disk, was what the ledger's log lines and /health/ready said.
  it('a full database (SQLITE_FULL): the error says so, and the connection writes again once there is room', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqlite-full-'));
    try {
      const db = openSqliteFile(join(dir, 'full.sqlite'), { schema: ['CREATE TABLE t (x TEXT)'] });
      db.exec('PRAGMA max_page_count = 3');
      const insertMany = (): void =>
        sqliteTransaction(db, () => {
          for (let i = 0; i < 50; i++) db.prepare('INSERT INTO t (x) VALUES (?)').run('z'.repeat(1000));
        });
      expect(insertMany).toThrow(/database or disk is full/);
      expect(db.isTransaction).toBe(false);
      db.exec('PRAGMA max_page_count = 100000');
      insertMany();
      expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 50 });
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
