import { globSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ErrorCodeDef } from '@app/common';

const ROOT = resolve(__dirname, '..');
const DOCS = ['README.md', ...globSync('docs/*.md', { cwd: ROOT })];

/** Every file that declares an error catalogue (`export const X = defineErrorCodes(...)`), wherever it lives. */
function catalogueFiles(): string[] {
  return globSync('libs/*/src/**/*.ts', { cwd: ROOT })
    .filter((file) => !file.endsWith('.spec.ts'))
    .filter((file) => /export const [A-Z_]+ = defineErrorCodes\(/.test(readFileSync(join(ROOT, file), 'utf8')));
}

function isErrorCodeDef(value: unknown): value is ErrorCodeDef {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorCodeDef).code === 'string' &&
    typeof (value as ErrorCodeDef).status === 'number' &&
    typeof (value as ErrorCodeDef).type === 'string'
  );
}

/** Each code of every catalogue, with its status and where it is declared. */
async function catalogues(): Promise<Map<string, { status: number; file: string }>> {
  const codes = new Map<string, { status: number; file: string }>();
  for (const file of catalogueFiles()) {
    const exports = (await import(join(ROOT, file))) as Record<string, unknown>;
    for (const table of Object.values(exports)) {
      if (typeof table !== 'object' || table === null) continue;
      const defs = Object.values(table);
      if (defs.length === 0 || !defs.every(isErrorCodeDef)) continue;
      for (const def of defs) codes.set(def.code, { status: def.status, file });
    }
  }
  return codes;
}

/**
 * What docs/errors.md says of each code: the rows of its tables (`| \`CODE\` | 404 | ... |`) and the codes it lists
 * in prose with their status (`` `CONFLICT` 409 ``).
 */
function documentedInErrorsPage(): Map<string, number[]> {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const codes = new Map<string, number[]>();
  const add = (code: string, status: string): void => {
    codes.set(code, [...(codes.get(code) ?? []), Number(status)]);
  };
  for (const m of doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\| (\d{3}) +\|/gm)) add(m[1]!, m[2]!);
  for (const m of doc.matchAll(/`([A-Z][A-Z0-9_]+)` (\d{3})\b/g)) add(m[1]!, m[2]!);
  return codes;
}

describe('error codes in the docs', () => {
  it('finds the catalogues (a check of nothing passes)', async () => {
    const codes = await catalogues();
    expect(catalogueFiles().length).toBeGreaterThanOrEqual(8);
    expect(codes.get('VALIDATION_FAILED')?.status).toBe(400);
    expect(codes.get('BUDGET_EXCEEDED')?.status).toBe(429);
  });

  it('docs/errors.md names every code of every catalogue, with its status', async () => {
    const documented = documentedInErrorsPage();
    const problems: string[] = [];
    for (const [code, { status, file }] of await catalogues()) {
      const statuses = documented.get(code);
      if (!statuses) problems.push(`${code} (${status}, ${relative(ROOT, join(ROOT, file))}) is not in docs/errors.md`);
      else if (statuses.some((s) => s !== status))
        problems.push(`${code}: docs/errors.md says ${statuses.join(', ')}, ${file} ${status}`);
    }
    expect(problems).toEqual([]);
  });

  it('docs/errors.md names no code that no catalogue declares', async () => {
    const codes = await catalogues();
    expect([...documentedInErrorsPage().keys()].filter((code) => !codes.has(code))).toEqual([]);
  });

  it('every "<status> `CODE`" in README.md and docs/*.md is the code with its status', async () => {
    const codes = await catalogues();
    const problems: string[] = [];
    for (const file of DOCS) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/\b([1-5]\d\d) `([A-Z][A-Z0-9_]+)`/g)) {
        const [, status, code] = m as unknown as [string, string, string];
        const declared = codes.get(code);
        if (!declared) problems.push(`${file}: ${status} \`${code}\`: no catalogue declares ${code}`);
        else if (declared.status !== Number(status))
          problems.push(`${file}: ${status} \`${code}\`: ${code} is ${declared.status} (${declared.file})`);
      }
    }
    expect(problems).toEqual([]);
  });
});
