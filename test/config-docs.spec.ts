import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { ConfigError, EnvDto, envVariableNames, loadConfig } from '@app/config';

/** A row of a table of docs/configuration.md with a Default column: its variables and that cell. */
interface DocumentedDefault {
  names: string[];
  cell: string;
}

/** Every row of the tables that have a `Default` column (one row may name several variables, `a`, `b`). */
function documentedDefaults(doc: string): DocumentedDefault[] {
  const rows: DocumentedDefault[] = [];
  let defaultColumn = -1;
  for (const line of doc.split('\n')) {
    if (!line.startsWith('|')) {
      defaultColumn = -1;
      continue;
    }
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.includes('Default')) {
      defaultColumn = cells.indexOf('Default');
      continue;
    }
    if (defaultColumn < 0 || /^-+$/.test(cells[1] ?? '')) continue;
    const names = [...(cells[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
    rows.push({ names, cell: cells[defaultColumn] ?? '' });
  }
  return rows;
}

/** The default a row names for each of its variables: its backquoted values, one per variable, in order. */
function valuesOf(cell: string): string[] {
  return [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
}

/** A cell that says "no value": the variable is optional and has no default of its own. */
const NO_VALUE = /^(unset|\(none\)|\(empty[^)]*\)|empty)$/;

/** The numeric rule of each variable the code bounds: `integer` or `number`, and its `@Min`/`@Max`. */
function numericRules(): Map<string, { type: 'integer' | 'number'; min?: number; max?: number }> {
  const rules = new Map<string, { type: 'integer' | 'number'; min?: number; max?: number }>();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(EnvDto, '', true, false)) {
    const name = m.propertyName;
    const rule = rules.get(name) ?? { type: 'number' as const };
    if (m.name === 'isInt') rule.type = 'integer';
    else if (m.name === 'min') rule.min = Number((m.constraints as unknown[])[0]);
    else if (m.name === 'max') rule.max = Number((m.constraints as unknown[])[0]);
    else if (m.name !== 'isNumber') continue;
    rules.set(name, rule);
  }
  return rules;
}

/** How docs/configuration.md writes a rule in its "Ranges" table: `` `0`–`65535` ``, `` at least `0` ``. */
function rangeCell(rule: { min?: number; max?: number }): string {
  if (rule.min !== undefined && rule.max !== undefined) return `\`${rule.min}\`–\`${rule.max}\``;
  if (rule.min !== undefined) return `at least \`${rule.min}\``;
  return rule.max !== undefined ? `at most \`${rule.max}\`` : 'any';
}

/** The rows of the "Ranges" table of docs/configuration.md: variable, type and range cells. */
function documentedRanges(doc: string): Map<string, { type: string; range: string }> {
  const section = doc.split(/^## /m).find((part) => part.startsWith('Ranges')) ?? '';
  const rows = new Map<string, { type: string; range: string }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`([A-Z][A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name) rows.set(name, { type: cells[2] ?? '', range: cells[3] ?? '' });
  }
  return rows;
}

describe('configuration', () => {
  it('documents every environment variable in docs/configuration.md', () => {
    const doc = readFileSync(resolve(__dirname, '../docs/configuration.md'), 'utf8');
    const missing = envVariableNames().filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('documents no variable the loader does not read (but the Node flags of the start script)', () => {
    const doc = readFileSync(resolve(__dirname, '../docs/configuration.md'), 'utf8');
    const known = new Set([...envVariableNames(), 'NODE_OPTIONS', 'CGROUP_FS']);
    const named = doc
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    expect(named.length).toBeGreaterThan(100);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
  });

  it('documents the default of each variable as the code has it (EnvDto), or how it is derived', () => {
    const doc = readFileSync(resolve(__dirname, '../docs/configuration.md'), 'utf8');
    const known = new Set(envVariableNames());
    const defaults = new EnvDto() as unknown as Record<string, unknown>;
    const config = loadConfig({ envFile: false, env: {}, packageVersion: '9.8.7' });
    // Defaults computed from other settings: what the page says, and what the configuration holds with none set.
    const derived: Record<string, { says: string; is: unknown; expected: unknown }> = {
      DD_VERSION: { says: '`package.json` version', is: config.service.version, expected: '9.8.7' },
      DD_LLMOBS_ML_APP: { says: '`DD_SERVICE`', is: config.tracing.mlApp, expected: defaults.DD_SERVICE },
      DATADOG_APP_URL: {
        says: '`https://app.<DD_SITE>`',
        is: config.datadog.appUrl,
        // The rule the page states, applied to DD_SITE's default.
        expected: `https://app.${String(defaults.DD_SITE)}`,
      },
      DATADOG_RUNBOOK_BASE_URL: { says: '`runbooks`', is: config.datadog.runbookBaseUrl, expected: 'runbooks' },
      AUTH_OPEN_PATHS: {
        says: 'all seven paths',
        is: config.security.openPaths,
        expected: [...doc.matchAll(/default: ((?:`\/[^`]*`(?:, )?)+)\)/g)].flatMap((m) =>
          [...m[1]!.matchAll(/`([^`]*)`/g)].map((p) => p[1]),
        ),
      },
      ML_EMBEDDINGS_MODEL: { says: 'provider default', is: config.ml.embeddingsModel, expected: undefined },
    };
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const { names, cell } of documentedDefaults(doc)) {
      const ours = names.filter((name) => known.has(name));
      if (ours.length === 0) continue; // the Node flags of scripts/start.sh are not EnvDto's
      ours.forEach((name) => seen.add(name));
      const values = valuesOf(cell);
      ours.forEach((name, i) => {
        const rule = derived[name];
        if (rule) {
          if (cell !== rule.says) problems.push(`${name}: the page says ${cell}, the spec knows it as ${rule.says}`);
          else if (JSON.stringify(rule.is) !== JSON.stringify(rule.expected))
            problems.push(`${name}: derived as ${JSON.stringify(rule.is)}, not ${JSON.stringify(rule.expected)}`);
          return;
        }
        const actual = defaults[name];
        if (actual === undefined || actual === '') {
          if (!NO_VALUE.test(cell)) problems.push(`${name}: the code has no default, the page says ${cell}`);
          return;
        }
        const documented = values.length === ours.length ? values[i] : undefined;
        if (documented === undefined)
          problems.push(`${name}: the page says ${cell}, the code ${JSON.stringify(actual)}`);
        else if (
          typeof actual === 'number' ? Number(documented) !== actual : documented !== `${actual as string | boolean}`
        )
          problems.push(`${name}: the page says ${documented}, the code ${JSON.stringify(actual)}`);
      });
    }
    expect(problems).toEqual([]);
    expect([...known].filter((name) => !seen.has(name))).toEqual([]);
  });

  it('states the type and bounds of every numeric variable as the code checks them (Ranges)', () => {
    const doc = readFileSync(resolve(__dirname, '../docs/configuration.md'), 'utf8');
    const rules = numericRules();
    expect(rules.size).toBeGreaterThan(50);
    expect(rules.get('PORT')).toEqual({ type: 'integer', min: 0, max: 65535 });
    const documented = documentedRanges(doc);
    const expected = [...rules].map(([name, rule]) => `| \`${name}\` | ${rule.type} | ${rangeCell(rule)} |`);
    const actual = [...rules.keys()].map((name) => {
      const row = documented.get(name);
      return row ? `| \`${name}\` | ${row.type} | ${row.range} |` : `(${name}: no row)`;
    });
    // On a failure, the expected rows are the table to paste (in the order of EnvDto).
    expect(actual).toEqual(expected);
    expect([...documented.keys()].filter((name) => !rules.has(name))).toEqual([]);
  });

  it('states no other bounds for a variable in its row than the code has', () => {
    const doc = readFileSync(resolve(__dirname, '../docs/configuration.md'), 'utf8');
    const rules = numericRules();
    const problems: string[] = [];
    for (const line of doc.split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim());
      const names = [...(cells[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
      const rule = names.length === 1 ? rules.get(names[0]!) : undefined;
      if (!rule) continue;
      // "1000–600000", "(100-60000)", "0–1": a range written as two numbers and a dash, outside backquotes.
      for (const m of cells
        .slice(2)
        .join('|')
        .matchAll(/(?<![\w.`·])(\d+(?:\.\d+)?) ?[–-] ?(\d+(?:\.\d+)?)(?![\w`x]|\.\d)/g)) {
        if (Number(m[1]) !== rule.min || Number(m[2]) !== rule.max)
          problems.push(`${names[0]}: the page says ${m[0]}, the code ${rangeCell(rule)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lists every bad variable at once, never a secret value', () => {
    let error: unknown;
    try {
      loadConfig({
        envFile: false,
        env: { PORT: '70000', LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'sh', DD_TRACE_ENABLED: 'perhaps' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/GEMINI_API_KEY/);
    expect(message).toMatch(/DD_TRACE_ENABLED/);
    expect(message).not.toContain('"sh"');
  });

  it('applies defaults, parses lists and keeps secrets out of JSON', () => {
    const config = loadConfig({
      envFile: false,
      env: {
        LLM_FALLBACK_MODELS: ' a , b,,gemini-2.5-flash ',
        DD_API_KEY: 'abcdefgh12345',
        DD_APP_KEY: 'abcdefgh12345',
      },
    });
    expect(config.http.port).toBe(3000);
    expect(config.llm.fallbackModels).toEqual(['a', 'b']);
    expect(config.datadog.configured).toBe(true);
    expect(JSON.stringify(config)).not.toContain('abcdefgh12345');
    expect(config.datadog.apiKey?.reveal()).toBe('abcdefgh12345');
    expect(Object.isFrozen(config.llm)).toBe(true);
  });

  it('requires the provider-specific variables only for that provider', () => {
    expect(() => loadConfig({ envFile: false, env: { LLM_PROVIDER: 'vertex' } })).toThrow(
      /GOOGLE_CLOUD_PROJECT: required when LLM_PROVIDER=vertex$/m,
    );
    expect(() => loadConfig({ envFile: false, env: { LLM_PROVIDER: 'openai' } })).toThrow(
      /OPENAI_BASE_URL: required when LLM_PROVIDER=openai$/m,
    );
    expect(() => loadConfig({ envFile: false, env: { LLM_PROVIDER: 'gemini' } })).toThrow(
      /GEMINI_API_KEY: required when LLM_PROVIDER=gemini$/m,
    );
    expect(loadConfig({ envFile: false, env: { LLM_PROVIDER: 'simulated' } }).llm.gemini.apiKey).toBeUndefined();
    expect(
      loadConfig({ envFile: false, env: { LLM_PROVIDER: 'vertex', GOOGLE_CLOUD_PROJECT: 'my-project-1' } }).llm.vertex
        .project,
    ).toBe('my-project-1');
  });
});

describe('.env.example', () => {
  it('lists every environment variable', () => {
    const example = readFileSync(resolve(__dirname, '../.env.example'), 'utf8');
    expect(envVariableNames().filter((name) => !new RegExp(`^# ${name}=`, 'm').test(example))).toEqual([]);
  });

  it('shows each default as the code has it, or says the value is an example', () => {
    const example = readFileSync(resolve(__dirname, '../.env.example'), 'utf8');
    const defaults = new EnvDto() as unknown as Record<string, unknown>;
    const known = new Set(envVariableNames());
    const problems: string[] = [];
    for (const m of example.matchAll(/^# ([A-Z][A-Z0-9_]+)=(\S*)(.*)$/gm)) {
      const [, name, shown, rest] = m as unknown as [string, string, string, string];
      if (!known.has(name) || shown === '' || /#.*(e\.g\.|default)/.test(rest)) continue;
      if (name === 'API_KEYS') continue; // the entry format, explained on the lines above it
      const actual = defaults[name];
      const same = typeof actual === 'number' ? Number(shown) === actual : shown === `${actual as string}`;
      if (!same) problems.push(`${name}=${shown}: the default is ${JSON.stringify(actual)}`);
    }
    expect(problems).toEqual([]);
  });
});
