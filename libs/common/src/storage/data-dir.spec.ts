import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootError } from '@app/config';
import { makeDirectory, prepareDataDir } from './data-dir';

describe('the data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'data-dir-'));
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('makeDirectory creates the missing levels, and is a no-op on an existing directory', () => {
    const dir = join(root, 'a', 'b', 'c');
    makeDirectory(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    makeDirectory(dir);
    makeDirectory(root);
  });

  it('makeDirectory refuses a file, or a path under one (ENOTDIR)', () => {
    expect(() => makeDirectory(file)).toThrow(/^ENOTDIR: /);
    expect(() => makeDirectory(join(file, 'sub'))).toThrow(/^ENOTDIR: /);
  });

  // Node's recursive mkdirSync spins forever on this path (ops sweep 2, D4); jest's timeout would end the test.
  (existsSync('/proc/self') ? it : it.skip)('makeDirectory fails at once where a mkdir answers ENOENT (/proc)', () => {
    const started = Date.now();
    expect(() => makeDirectory('/proc/nonexistent-lrcp/dir')).toThrow(/^ENOENT: /);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('prepareDataDir creates the directory and leaves nothing in it', () => {
    const dir = join(root, 'state');
    prepareDataDir(dir);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('prepareDataDir throws a BootError naming DATA_DIR and the path', () => {
    let error: unknown;
    try {
      prepareDataDir(join(file, 'state'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BootError);
    expect((error as BootError).variable).toBe('DATA_DIR');
    expect((error as BootError).message).toMatch(/^DATA_DIR: ".*a-file\/state" cannot be created or written: ENOTDIR/);
    expect(() => prepareDataDir('/proc/nonexistent-lrcp/dir')).toThrow(
      existsSync('/proc/self') ? /^DATA_DIR: .*ENOENT/ : /^DATA_DIR: /,
    );
  });
});
