/**
 * The Dockerfile and .dockerignore, checked offline (no Docker engine here): the stages and base image, production
 * dependencies only, the non-root user, the health check, how dd-trace starts, and that every COPY source exists (or
 * is built by `nest build`), is let in by .dockerignore, and covers every path the service reads from its working
 * directory (found by scanning apps/ and libs/). docs/deploy.md says what the image holds and why.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix, relative, resolve } from 'node:path';
import { EnvDto } from '@app/config';

const ROOT = resolve(__dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const BASE_IMAGE = 'node:24-slim';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Logical instructions: continuation lines joined, comments and blank lines dropped (as Docker's parser does). */
function parseDockerfile(text: string): Stage[] {
  const logical: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1).trim()} `;
      return;
    }
    const full = pending + trimmed;
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match) logical.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: start });
  });
  if (pending !== '') throw new Error('Dockerfile ends inside a continuation line');
  const stages: Stage[] = [];
  for (const instruction of logical) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

interface Copy {
  from?: string;
  chown?: string;
  sources: string[];
  destination: string;
}

function parseCopy(args: string): Copy {
  const tokens = args.split(/\s+/);
  const flags = tokens.filter((t) => t.startsWith('--'));
  const paths = tokens.filter((t) => !t.startsWith('--'));
  const flag = (name: string): string | undefined =>
    flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);
  return { from: flag('from'), chown: flag('chown'), sources: paths.slice(0, -1), destination: paths.at(-1)! };
}

/** `["a", "b"]` (exec form) or a shell command, as an argv for the checks. */
function commandOf(args: string): string[] {
  return args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
}

const instructions = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((i) => i.keyword === keyword);

/** A path inside the image for a COPY destination or a source of another stage, from the stage's WORKDIR. */
function inImage(stage: Stage, path: string, before: Instruction): string {
  const workdirs = stage.instructions.filter((i) => i.keyword === 'WORKDIR' && i.line < before.line);
  const workdir = workdirs.at(-1)?.args ?? '/';
  return posix.normalize(posix.isAbsolute(path) ? path : posix.join(workdir, path)).replace(/\/$/, '');
}

// --- .dockerignore, with Docker's rules: patterns in order, the last match wins, `!` lets a path back in, and a
// pattern that matches a parent folder matches everything under it.
interface IgnorePattern {
  regex: RegExp;
  negate: boolean;
}

function globToRegex(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function parseDockerignore(text: string): IgnorePattern[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = posix.normalize((negate ? line.slice(1) : line).trim().replace(/^\/+/, '')).replace(/\/$/, '');
      return { regex: globToRegex(pattern), negate };
    });
}

function isIgnored(path: string, patterns: readonly IgnorePattern[]): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    if (candidates.some((candidate) => pattern.regex.test(candidate))) ignored = !pattern.negate;
  }
  return ignored;
}

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

/**
 * The service's sources. Not the control room's build-time sources (libs/control-room/web, the browser page, and
 * libs/control-room/build, its bundler): esbuild bundles them into dist/ at build time; the service never loads them.
 */
function sourceFiles(dir: string): string[] {
  return filesUnder(dir).filter(
    (f) => f.endsWith('.ts') && !/\.(e2e-)?spec\.ts$/.test(f) && !/^libs\/control-room\/(web|build)\//.test(f),
  );
}

const stages = parseDockerfile(read('Dockerfile'));
const build = stages.find((s) => s.name === 'build');
const runtime = stages.at(-1)!;
const runtimeCopies = instructions(runtime, 'COPY').map((i) => ({ instruction: i, copy: parseCopy(i.args) }));
const contextCopies = stages.flatMap((stage) =>
  instructions(stage, 'COPY')
    .map((i) => parseCopy(i.args))
    .filter((c) => c.from === undefined),
);
const runtimeRuns = instructions(runtime, 'RUN').map((i) => i.args);

describe('Dockerfile', () => {
  it('has a build stage and a final runtime stage, both on node:24-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(runtime).not.toBe(build);
    for (const stage of stages) expect(stage.image).toBe(BASE_IMAGE);
  });

  it('builds with every dependency and `nest build` in the build stage, from the inputs nest build reads', () => {
    const runs = instructions(build!, 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && !/--omit/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnest build\b/.test(r))).toBe(true);
    const copied = instructions(build!, 'COPY').flatMap((i) => parseCopy(i.args).sources);
    const nestCli = JSON.parse(read('nest-cli.json')) as { compilerOptions: { tsConfigPath: string } };
    const buildConfig = JSON.parse(read(nestCli.compilerOptions.tsConfigPath)) as {
      extends: string;
      include: string[];
    };
    expect(copied).toEqual(
      expect.arrayContaining([
        'package.json',
        'package-lock.json',
        'nest-cli.json',
        nestCli.compilerOptions.tsConfigPath,
        posix.normalize(buildConfig.extends),
      ]),
    );
    // Every folder tsconfig.build.json compiles is copied, except scripts/ (command-line tools run from a checkout,
    // which the service never imports).
    const folders = [...new Set(buildConfig.include.map((pattern) => pattern.split('/')[0]!))];
    expect(folders.filter((f) => f !== 'scripts' && !copied.includes(f))).toEqual([]);
    const fromScripts = [...sourceFiles('apps'), ...sourceFiles('libs')].filter((f) =>
      /from '(\.\.\/)+scripts\//.test(read(f)),
    );
    expect(fromScripts).toEqual([]);
  });

  it('installs production dependencies only in the final stage, and copies no source', () => {
    const installs = runtimeRuns.filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/\bnpm ci\b[^&]*--omit=dev/);
    expect(runtimeRuns.some((r) => /nest build|tsc\b/.test(r))).toBe(false);
    const fromOtherStages = runtimeCopies.filter((c) => c.copy.from !== undefined);
    expect(fromOtherStages.map((c) => [c.copy.from, c.copy.sources])).toEqual([
      ['build', ['/app/dist']],
      // The compiled addon of the one native module built in the build stage (the agent's DogStatsD socket).
      ['build', ['/app/node_modules/unix-dgram/build']],
    ]);
    const sources = runtimeCopies.flatMap((c) => c.copy.sources);
    for (const forbidden of ['apps', 'libs', 'test', 'bench', 'tools', 'data', 'node_modules', '.env', '.'])
      expect(sources).not.toContain(forbidden);
  });

  it('needs no dev dependency at run time: every package the service imports is a production dependency', () => {
    const pkg = JSON.parse(read('package.json')) as {
      dependencies: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const production = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    for (const file of [...sourceFiles('apps'), ...sourceFiles('libs')]) {
      const text = read(file);
      const specifiers = [
        ...text.matchAll(/^(?!import type)(?:import|export)\s[^;]*?from\s+'([^']+)'/gms),
        ...text.matchAll(/^import\s+'([^']+)'/gm),
        ...text.matchAll(/\b(?:require|import)\('([^']+)'\)/g),
      ].map((m) => m[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('@app/')) continue;
        const parts = specifier.split('/');
        const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
        if (!builtins.has(name) && !production.has(name)) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
    // The runtime pieces named in the deployment issue.
    for (const name of ['dd-trace', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'pg'])
      expect(pkg.dependencies[name]).toBeDefined();
  });

  it('runs as a non-root user', () => {
    const users = instructions(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!;
    expect(user.args.split(':')[0]).not.toMatch(/^(root|0)$/);
    const cmd = instructions(runtime, 'CMD').at(-1)!;
    expect(user.line).toBeLessThan(cmd.line);
    // No instruction after USER needs root (installs, chown).
    expect(runtime.instructions.filter((i) => i.line > user.line && i.keyword === 'RUN')).toEqual([]);
  });

  it('checks /health with node fetch (no curl in the slim image)', () => {
    const [healthcheck] = instructions(runtime, 'HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const match = /^((?:--\S+\s+)*)CMD\s+(.*)$/s.exec(healthcheck!.args);
    expect(match).not.toBeNull();
    const argv = commandOf(match![2]!);
    expect(argv[0]).toBe('node');
    const script = argv.join(' ');
    expect(script).toContain('fetch(');
    expect(script).toMatch(/\/health'/);
    expect(script).not.toMatch(/curl|wget/);
    expect(match![1]).toMatch(/--timeout=\d+s/);
  });

  it('listens on every interface in the container, where the local default is loopback', () => {
    const env = instructions(runtime, 'ENV').map((i) => i.args.replace(/\\\s*/g, ' '));
    expect(env.join(' ')).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env.join(' ')).toMatch(/\bPORT=3000\b/);
    expect(instructions(runtime, 'EXPOSE').map((i) => i.args)).toEqual(['3000']);
    expect(new EnvDto().HOST).toBe('127.0.0.1');
  });

  it('starts dd-trace first in one way: the first import of main.js, through the same start script as npm start', () => {
    const cmd = commandOf(instructions(runtime, 'CMD').at(-1)!.args);
    expect(cmd).toEqual(['sh', 'scripts/start.sh']);
    const nestCli = JSON.parse(read('nest-cli.json')) as { projects: Record<string, { entryFile: string }> };
    const outDir = (JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string } }).compilerOptions
      .outDir;
    const entry = posix.join(outDir, `${nestCli.projects['control-plane']!.entryFile}.js`);
    const start = read('scripts/start.sh');
    const execs = start.split('\n').filter((line) => /\bexec node\b/.test(line));
    expect(execs.length).toBeGreaterThan(0);
    for (const line of execs) {
      expect(line).toContain(` ${entry}`);
      expect(line).not.toMatch(/--import|--require|\s-r\s/);
    }
    const env = instructions(runtime, 'ENV').map((i) => i.args);
    expect(env.join(' ')).not.toMatch(/NODE_OPTIONS/);
    const main = read('apps/control-plane/src/main.ts');
    expect(/^import\s+'([^']+)'/m.exec(main)?.[1]).toBe('./instrument');
    expect(main.indexOf("import './instrument'")).toBeLessThan(main.search(/^import .* from /m));
    expect(read('apps/control-plane/src/instrument.ts')).toMatch(/initTracing\(getBootConfig\(\)\)/);
  });

  it('copies every path the service reads from its working directory, and makes DATA_DIR writable', () => {
    // Every `process.cwd()` in the service's code must be a `resolve|join(process.cwd(), '<path>')` seen here.
    const cwdReads: string[] = [];
    const unrecognised: string[] = [];
    for (const file of [...sourceFiles('apps'), ...sourceFiles('libs')]) {
      for (const line of read(file).split('\n')) {
        if (!line.includes('process.cwd()')) continue;
        const found = [...line.matchAll(/(?:resolve|join)\(process\.cwd\(\), '([^']+)'\)/g)].map((m) => m[1]!);
        if (found.length === 0) unrecognised.push(`${file}: ${line.trim()}`);
        cwdReads.push(...found);
      }
    }
    expect(unrecognised).toEqual([]);
    expect(cwdReads).toEqual(expect.arrayContaining(['package.json', 'datadog', 'runbooks', '.env']));
    const defaults = new EnvDto();
    // `.env` stays out of the image on purpose: configuration comes from the environment, secrets never in a layer.
    const needed = [...new Set([...cwdReads.filter((p) => p !== '.env'), posix.normalize(defaults.MODELS_DIR)])];
    const destinations = runtimeCopies.flatMap(({ instruction, copy }) =>
      copy.destination.endsWith('/') || copy.destination === './'
        ? copy.sources.map((s) => inImage(runtime, posix.join(copy.destination, posix.basename(s)), instruction))
        : [inImage(runtime, copy.destination, instruction)],
    );
    const workdir = instructions(runtime, 'WORKDIR').at(-1)!.args;
    for (const path of needed) expect(destinations).toContain(posix.join(workdir, path));
    expect(destinations).toContain(posix.join(workdir, 'scripts/start.sh'));
    // The shipped price table is imported as JSON, so tsc emits it into dist/ beside its module.
    expect(read('libs/llm/src/pricing/price-table.ts')).toMatch(/from '\.\/price-table\.json'/);
    expect(
      (JSON.parse(read('tsconfig.json')) as { compilerOptions: { resolveJsonModule?: boolean } }).compilerOptions,
    ).toMatchObject({ resolveJsonModule: true });
    // DATA_DIR (the SQLite files) is created and given to the runtime user before USER.
    const user = instructions(runtime, 'USER').at(-1)!.args.split(':')[0]!;
    const dataDir = posix.normalize(defaults.DATA_DIR);
    expect(
      runtimeRuns.some((r) => r.includes(`mkdir -p ${dataDir}`) && new RegExp(`chown\\b.*\\b${user}:`).test(r)),
    ).toBe(true);
  });

  it('copies only sources that exist in the repository or that nest build produces', () => {
    for (const copy of contextCopies)
      for (const source of copy.sources) expect(existsSync(join(ROOT, source))).toBe(true);
    const outDir = (JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string } }).compilerOptions
      .outDir;
    const nativeRun = instructions(build!, 'RUN').find((i) => /\bnpm rebuild unix-dgram\b/.test(i.args));
    expect(nativeRun).toBeDefined();
    for (const { instruction, copy } of runtimeCopies.filter((c) => c.copy.from === 'build')) {
      if (copy.sources.every((source) => source.startsWith('/app/node_modules/unix-dgram/'))) {
        // Built by `npm rebuild unix-dgram` in the build stage, after the install that brought its sources.
        expect(copy.sources).toEqual(['/app/node_modules/unix-dgram/build']);
        expect(existsSync(join(ROOT, 'node_modules/unix-dgram/binding.gyp'))).toBe(true);
        continue;
      }
      const buildRun = instructions(build!, 'RUN').find((i) => /\bnest build\b/.test(i.args))!;
      for (const source of copy.sources) expect(source).toBe(inImage(build!, posix.normalize(outDir), buildRun));
      expect(instruction.line).toBeGreaterThan(buildRun.line);
    }
  });
});

describe('.dockerignore', () => {
  const patterns = parseDockerignore(read('.dockerignore'));

  it('lets in every file a COPY takes from the build context (tests aside)', () => {
    const keptOut = contextCopies
      .flatMap((copy) => copy.sources.flatMap(filesUnder))
      .filter((file) => !/\.(e2e-)?spec\.ts$/.test(file))
      .filter((file) => isIgnored(file, patterns));
    expect(keptOut).toEqual([]);
  });

  it('keeps out secrets, local state, dependencies, build output and what the image does not need', () => {
    for (const path of [
      '.env',
      'var/ledger.sqlite',
      'node_modules/dd-trace/index.js',
      'dist/apps/control-plane/src/main.js',
      '.git/HEAD',
      'test/foundation.e2e-spec.ts',
      'libs/config/src/config.spec.ts',
      'data/quality/examples.jsonl',
      'bench/overhead.ts',
      'scripts/datadog-apply.ts',
      'docs/deploy.md',
    ])
      expect([path, isIgnored(path, patterns)]).toEqual([path, true]);
  });

  it('follows Docker’s matching rules in this test’s matcher', () => {
    const sample = parseDockerignore('*\n!apps/\n**/*.spec.ts\n!keep.spec.ts');
    expect(isIgnored('apps/a/b.ts', sample)).toBe(false);
    expect(isIgnored('apps/a/b.spec.ts', sample)).toBe(true);
    expect(isIgnored('keep.spec.ts', sample)).toBe(false);
    expect(isIgnored('other/x.ts', sample)).toBe(true);
  });
});
