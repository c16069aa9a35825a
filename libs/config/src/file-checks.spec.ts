import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryProblem, jsonFileProblem } from './file-checks';
import { ConfigError, loadConfig } from './load-config';

describe('DATA_DIR is checked at boot', () => {
  const root = mkdtempSync(join(tmpdir(), 'config-files-'));
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  afterAll(() => {
    if (existsSync(join(root, 'read-only'))) chmodSync(join(root, 'read-only'), 0o700);
    rmSync(root, { recursive: true, force: true });
  });

  it('accepts a writable directory, or a missing one under a writable directory, and creates nothing', () => {
    expect(directoryProblem(root)).toBeUndefined();
    expect(directoryProblem(join(root, 'new', 'deeper'))).toBeUndefined();
    expect(directoryProblem('relative-and-missing')).toBeUndefined();
  });

  it('refuses a file, or a path under one', () => {
    expect(directoryProblem(file)).toBe(`"${file}" is a file, not a directory`);
    expect(directoryProblem(join(file, 'sub'))).toBe(
      `"${join(file, 'sub')}" cannot be created: "${file}" is a file, not a directory`,
    );
  });

  // root writes anywhere; the check asks the kernel (access), so it agrees with what a mkdir would do.
  (process.getuid?.() === 0 ? it.skip : it)('refuses a directory this process may not write in', () => {
    const dir = join(root, 'read-only');
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    expect(directoryProblem(dir)).toBe(`"${dir}" is not writable by this process (EACCES)`);
    expect(directoryProblem(join(dir, 'sub'))).toBe(
      `"${join(dir, 'sub')}" cannot be created: "${dir}" is not writable by this process (EACCES)`,
    );
  });

  it('stops loadConfig naming DATA_DIR, along with the other bad variables; not with DATABASE_URL', () => {
    let error: unknown;
    try {
      loadConfig({ envFile: false, env: { DATA_DIR: file, PORT: 'abc' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'PORT: must be an integer between 0 and 65535 (got "abc")',
      `DATA_DIR: "${file}" is a file, not a directory`,
    ]);
    // The state is in PostgreSQL then: DATA_DIR is not used.
    expect(
      loadConfig({ envFile: false, env: { DATA_DIR: file, DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' } }).ledger
        .dataDir,
    ).toBe(file);
  });
});

describe('LLM_PRICE_TABLE_PATH is checked at boot', () => {
  const root = mkdtempSync(join(tmpdir(), 'config-prices-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('must name a readable JSON file', () => {
    const good = join(root, 'good.json');
    writeFileSync(good, '{"as_of":"2026-01-01"}');
    expect(jsonFileProblem(good)).toBeUndefined();
    const missing = join(root, 'nope.json');
    expect(jsonFileProblem(missing)).toBe(`"${missing}" cannot be read (ENOENT: no such file or directory)`);
    expect(jsonFileProblem(root)).toBe(`"${root}" cannot be read (EISDIR: illegal operation on a directory)`);
    const text = join(root, 'prices.txt');
    writeFileSync(text, 'input=1');
    expect(jsonFileProblem(text)).toMatch(new RegExp(`^"${text}" is not JSON \\(.+\\)$`));
  });

  it('stops loadConfig naming LLM_PRICE_TABLE_PATH', () => {
    const missing = join(root, 'nope.json');
    expect(() => loadConfig({ envFile: false, env: { LLM_PRICE_TABLE_PATH: missing } })).toThrow(
      `LLM_PRICE_TABLE_PATH: "${missing}" cannot be read (ENOENT: no such file or directory)`,
    );
  });
});

describe('MODELS_DIR is checked at boot when set', () => {
  const root = mkdtempSync(join(tmpdir(), 'config-models-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stops loadConfig naming MODELS_DIR when the folder set is not there, or is a file; unset is the default', () => {
    // Before, the service started on every fallback (rules, baselines, hashed embeddings) with a warning per model.
    const missing = join(root, 'modles');
    expect(() => loadConfig({ envFile: false, env: { MODELS_DIR: missing } })).toThrow(
      `MODELS_DIR: "${missing}" does not exist (unset, it is ./models, whose models are optional)`,
    );
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(() => loadConfig({ envFile: false, env: { MODELS_DIR: file } })).toThrow(
      `MODELS_DIR: "${file}" is a file, not a directory`,
    );
    expect(loadConfig({ envFile: false, env: { MODELS_DIR: root } }).ml.modelsDir).toBe(root);
    expect(loadConfig({ envFile: false, env: { MODELS_DIR: '  ' } }).ml.modelsDir).toBe('./models');
  });
});
