import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteFile, settle } from './sqlite-file';

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
