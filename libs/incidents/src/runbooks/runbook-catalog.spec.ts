import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunbookCatalog } from './runbook-catalog';

describe('RunbookCatalog', () => {
  const root = mkdtempSync(join(tmpdir(), 'runbooks-'));
  const dir = join(root, 'runbooks');
  mkdirSync(dir);
  writeFileSync(join(dir, 'llm-error-rate.md'), '# LLM error rate\n\n1. Check the provider.');
  writeFileSync(join(root, 'secret.md'), 'TOP SECRET');
  writeFileSync(join(root, 'passwd'), 'root:x:0:0');
  symlinkSync(join(root, 'secret.md'), join(dir, 'escape.md'));
  const catalog = new RunbookCatalog(dir);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads runbooks/<key>.md', async () => {
    expect(await catalog.get('llm-error-rate', 'LLM errors')).toEqual({
      key: 'llm-error-rate',
      markdown: '# LLM error rate\n\n1. Check the provider.',
      found: true,
    });
  });

  it('gives the generic runbook, naming the monitor, for an unknown key or none', async () => {
    for (const key of ['no-such-monitor', undefined]) {
      const runbook = await catalog.get(key, 'My monitor');
      expect(runbook.found).toBe(false);
      expect(runbook.markdown).toContain('No runbook exists for the monitor "My monitor"');
    }
  });

  it('refuses anything but [a-z0-9-]+ keys, and a link out of the folder: no traversal', async () => {
    for (const key of [
      '../secret',
      '..%2Fsecret',
      '../../passwd',
      'a/b',
      'LLM-error-rate',
      'x.md',
      '',
      '.',
      'a'.repeat(101),
    ]) {
      const runbook = await catalog.get(key, 'm');
      expect(runbook).toMatchObject({ key: null, found: false });
      expect(runbook.markdown).not.toContain('TOP SECRET');
    }
    expect(RunbookCatalog.isValidKey('llm-error-rate')).toBe(true);
    const escaped = await catalog.get('escape', 'm');
    expect(escaped).toMatchObject({ key: 'escape', found: false });
    expect(escaped.markdown).not.toContain('TOP SECRET');
  });
});
