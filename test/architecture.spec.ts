import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * The module boundaries are checked, not kept by habit: the ESLint rule (tools/eslint/lib-boundaries.mjs) fails
 * `npm run lint` on an import across a forbidden boundary, docs/architecture.md draws the same graph, no domain
 * module is global, and no file of the LLM pipeline grows past what a reader can follow.
 */
const ROOT = resolve(__dirname, '..');
const ESLINT = join(ROOT, 'node_modules/eslint/bin/eslint.js');

type Graph = Record<string, string[]>;

function ruleGraph(): Graph {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import('./tools/eslint/lib-boundaries.mjs').then((m) => console.log(JSON.stringify(m.LIB_GRAPH)))",
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return JSON.parse(out) as Graph;
}

/** The "may import" table of docs/architecture.md: `| `lib` | `a`, `b` |` rows between the graph markers. */
function docGraph(): Graph {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const start = doc.indexOf('<!-- lib-graph:start -->');
  const end = doc.indexOf('<!-- lib-graph:end -->');
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const graph: Graph = {};
  for (const line of doc.slice(start, end).split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const lib = /^`([\w-]+)`/.exec(cells[1] ?? '')?.[1];
    if (!lib) continue;
    graph[lib] = [...(cells[2] ?? '').matchAll(/`([\w-]+)`/g)].map((m) => m[1]!).sort();
  }
  return graph;
}

interface LintMessage {
  ruleId: string | null;
  message: string;
  line: number;
}

/**
 * Lints files with the project's own configuration (the rules `npm run lint` applies; `--no-ignore` because the
 * configuration skips `*.planted.ts`, so that a lint run at the same time never sees these files) and returns each
 * file's messages.
 */
function lint(files: string[]): Map<string, LintMessage[]> {
  const result = spawnSync(process.execPath, [ESLINT, '--no-ignore', '--format', 'json', ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const reports = JSON.parse(result.stdout) as { filePath: string; messages: LintMessage[] }[];
  return new Map(reports.map((r) => [relative(ROOT, r.filePath), r.messages]));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('architecture', () => {
  it('docs/architecture.md draws the graph the lint rule enforces, and it has no circle', () => {
    const graph = ruleGraph();
    const sorted = Object.fromEntries(Object.entries(graph).map(([lib, deps]) => [lib, [...deps].sort()]));
    expect(docGraph()).toEqual(sorted);

    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (lib: string, path: string[]): void => {
      if (done.has(lib)) return;
      if (visiting.has(lib)) throw new Error(`circle: ${[...path, lib].join(' -> ')}`);
      visiting.add(lib);
      for (const dep of graph[lib] ?? []) visit(dep, [...path, lib]);
      visiting.delete(lib);
      done.add(lib);
    };
    for (const lib of Object.keys(graph)) visit(lib, []);
    // Every library of the repository is in the graph.
    const libs = readdirSync(join(ROOT, 'libs')).filter((d) => statSync(join(ROOT, 'libs', d)).isDirectory());
    expect(libs.filter((lib) => !(lib in graph))).toEqual([]);
  });

  it('npm run lint fails on imports planted across forbidden boundaries, relative paths included', () => {
    const planted = {
      // telemetry sits below llm: an upward import by alias and by relative path.
      'libs/telemetry/src/upward.planted.ts': [
        "import { LlmModule } from '@app/llm';",
        "import { LlmService } from '../../llm/src/llm.service';",
        'export const planted = [LlmModule, LlmService];',
      ],
      // ledger may not import forecast (forecast depends on ledger: a circle).
      'libs/ledger/src/circle.planted.ts': [
        "import { ForecastModule } from '@app/forecast';",
        'export const planted = ForecastModule;',
      ],
      // llm may import ml, but only through its barrel.
      'libs/llm/src/deep.planted.ts': [
        "import { QualityScorer } from '@app/ml/quality/quality-scorer';",
        "import { PiiDetector } from '../../ml/src/pii/pii-detector';",
        'export const planted = [QualityScorer, PiiDetector];',
      ],
      // An allowed import through the barrel passes.
      'libs/forecast/src/allowed.planted.ts': [
        "import { UsageLedger } from '@app/ledger';",
        'export const planted = UsageLedger;',
      ],
    };
    try {
      for (const [file, lines] of Object.entries(planted)) writeFileSync(join(ROOT, file), `${lines.join('\n')}\n`);
      const reports = lint(Object.keys(planted));
      const boundary = (file: string): LintMessage[] =>
        (reports.get(file) ?? []).filter((m) => m.ruleId === 'boundaries/lib-imports');

      const upward = boundary('libs/telemetry/src/upward.planted.ts');
      expect(upward.map((m) => m.line)).toEqual([1, 2]);
      expect(upward[0]!.message).toMatch(/'telemetry' may not import 'llm'/);
      expect(boundary('libs/ledger/src/circle.planted.ts')[0]?.message).toMatch(/'ledger' may not import 'forecast'/);
      const deep = boundary('libs/llm/src/deep.planted.ts');
      expect(deep.map((m) => m.line)).toEqual([1, 2]);
      expect(deep[0]!.message).toMatch(/through its barrel '@app\/ml'/);
      expect(boundary('libs/forecast/src/allowed.planted.ts')).toEqual([]);

      // And the command itself exits non-zero on it.
      const run = spawnSync(
        process.execPath,
        [ESLINT, '--no-ignore', '--max-warnings', '0', 'libs/ledger/src/circle.planted.ts'],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
      expect(run.status).not.toBe(0);
    } finally {
      for (const file of Object.keys(planted)) rmSync(join(ROOT, file), { force: true });
    }
  }, 120_000);

  it('no domain module is global: only config and telemetry, which every module uses', () => {
    const global = filesUnder(join(ROOT, 'libs'))
      .filter((f) => f.endsWith('.module.ts') && /@Global\(\)/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f))
      .sort();
    expect(global).toEqual(['libs/config/src/config.module.ts', 'libs/telemetry/src/telemetry.module.ts']);
  });

  it('no files import each other in a loop inside a lib, type imports included', () => {
    // A loop of files is one file in several parts: none can be read, tested or moved without the others. The
    // per-call state the pipeline's parts share is pipeline/call-state.ts, types only, for this reason.
    const sources = filesUnder(join(ROOT, 'libs')).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && !f.endsWith('.d.ts') && !f.includes('/web/'),
    );
    const known = new Set(sources);
    const imports = new Map<string, string[]>();
    for (const file of sources) {
      const targets: string[] = [];
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/g)) {
        const base = resolve(file, '..', m[1]!);
        const target = [`${base}.ts`, join(base, 'index.ts')].find((t) => known.has(t));
        if (target !== undefined) targets.push(target);
      }
      imports.set(file, targets);
    }
    // Tarjan's strongly connected components: a component of more than one file is a loop.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const loops: string[][] = [];
    const visit = (v: string): void => {
      index.set(v, index.size);
      low.set(v, index.get(v)!);
      stack.push(v);
      onStack.add(v);
      for (const w of imports.get(v) ?? []) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(relative(ROOT, w));
        } while (w !== v);
        if (component.length > 1) loops.push(component.sort());
      }
    };
    for (const file of sources) if (!index.has(file)) visit(file);
    expect(sources.length).toBeGreaterThan(300);
    expect(loops).toEqual([]);
  });

  it('no file of the LLM pipeline is longer than a reader can follow (about 350 lines)', () => {
    const long = filesUnder(join(ROOT, 'libs/llm/src'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 360);
    expect(long).toEqual([]);
  });

  it('the control room page (libs/control-room/web) runs in the browser: it imports no library, no Node module', () => {
    const offending = filesUnder(join(ROOT, 'libs/control-room/web'))
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [...readFileSync(f, 'utf8').matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm)]
          .map((m) => m[1] ?? m[2] ?? m[3] ?? '')
          .filter((s) => s.startsWith('@app/') || s.startsWith('node:') || s.startsWith('../'))
          .map((s) => `${relative(ROOT, f)}: ${s}`),
      );
    expect(offending).toEqual([]);
  });
});
