import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

/**
 * The committed TypeScript client (clients/typescript/src/generated) is what `npm run client:generate` makes of the
 * committed openapi/control-plane.json: the generator runs into a temporary folder and every file must be the same.
 * It fails after a change of the document (or of the generator's version or options) until the client is
 * regenerated: `npm run client:generate` (`npm run openapi:sync` does both).
 */
const ROOT = resolve(__dirname, '..');
const GENERATED = join(ROOT, 'clients/typescript/src/generated');
const DOCUMENT = join(ROOT, 'openapi/control-plane.json');

function files(folder: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    out.set(relative(folder, file).split('\\').join('/'), readFileSync(file, 'utf8'));
  }
  return out;
}

describe('the generated TypeScript client (clients/typescript)', () => {
  const out = mkdtempSync(join(tmpdir(), 'client-generate-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('was generated from the committed openapi/control-plane.json (else: npm run client:generate)', () => {
    const committed = JSON.parse(readFileSync(join(GENERATED, 'openapi.json'), 'utf8')) as unknown;
    const document = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as unknown;
    // A one-line failure: the two documents' diff would bury it.
    const same = isDeepStrictEqual(committed, document);
    if (!same) {
      throw new Error(
        'clients/typescript/src/generated/openapi.json is not openapi/control-plane.json: the client was generated ' +
          'from another document. Run `npm run client:generate` (or `npm run openapi:sync` after an API change).',
      );
    }
    expect(same).toBe(true);
  });

  it('types a nullable enum field as nullable: an incident row without its incident (LEFT JOIN) has incident_state null', () => {
    const types = readFileSync(join(GENERATED, 'types.gen.ts'), 'utf8');
    const outboxEntry = /export type OutboxEntryDto = \{([\s\S]*?)\n\};/.exec(types)?.[1] ?? '';
    expect(outboxEntry).toMatch(/incident_state: [^;]*\| null;/);
  });

  it('is exactly what the generator makes of that document today (else: npm run client:generate)', () => {
    const run = spawnSync(
      process.execPath,
      ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', 'scripts/client-generate.ts', DOCUMENT, out],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(`${run.stderr}`).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    const expected = files(out);
    const actual = files(GENERATED);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    const stale = [...expected].filter(([name, text]) => actual.get(name) !== text).map(([name]) => name);
    expect(stale).toEqual([]);
  }, 60_000);
});
