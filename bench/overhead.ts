/**
 * The LLM overhead benchmark of issue 3: what the control plane costs per `/reason` call, compared with
 * the upstream called directly and with the least a Node proxy can do.
 *
 *   npm run bench                         # full run (about 6 minutes), appends a section to bench/history/<YYYY-MM>.md
 *   npm run bench -- --rounds 2 --slice 2 --no-write          # a quick look, nothing written
 *   npm run bench -- --profile openai-on,gemini-on            # CPU profiles of the service under load
 *   npm run bench -- --profile openai-on --profile-connections 1   # the same at one connection (default 10)
 *   npm run bench -- --replicas 3 ...     # 3 processes per variant, medians over all their slices (A/A spread ~6 %)
 *   npm run bench -- --variants bare,openai-on,openai-exp --connections 10 --rounds 3 --cold-runs 1 \
 *     --exp 'DD_TRACE_DISABLED_INSTRUMENTATIONS=fetch,fs;NODE_ARGS=--max-semi-space-size=8' --no-write
 *                                         # A/B of a setting: `openai-on` plus env/node flags, interleaved
 *   npm run bench -- --variants bare,openai-before,openai-on --connections 1,10 --rounds 4 --replicas 2 \
 *     --cold-runs 1 --cold-variants openai-before,openai-on --baseline-dist bench/out/dist-before --no-write
 *                                         # before/after of a code change: `openai-on` from another build, interleaved
 *   npm run bench -- ... --dist DIR       # the build under test from DIR instead of dist/ (e.g. a clean tree's build)
 *
 * Variants (each a separate process; the server under test is pinned to core 1, the load generator, the
 * mock upstream and the telemetry receivers to core 0):
 * - `direct`: (a) the instant mock upstream (bench/mock-upstream.ts) called directly;
 * - `bare`: (b) bench/bare-proxy.ts, node:http + an undici Pool in front of the mock: the floor;
 * - `nest-min`, `nest-naive`: calibration (bench/nest-reference.ts): NestJS + Fastify + a validated DTO with
 *   no telemetry, and the same with the issue's naive telemetry, to see whether its reference ratios (1.4x
 *   and 6.4-7x the bare proxy) hold on this machine;
 * - `openai-on`, `gemini-on`: (c) `POST /reason` through the built control plane (dist/) with the real
 *   OpenAI-compatible / @google/genai adapter pointed at the mock, telemetry on and its receivers listening
 *   (a dgram socket for DogStatsD, an HTTP trace intake with /info, /v0.4/traces and /evp_proxy/v2/...);
 * - `openai-chat`: (c) `POST /v1/chat/completions` (the OpenAI-compatible route, the one Portkey is measured on)
 *   through the built control plane, openai adapter, telemetry on, the same prompt as `/reason`;
 * - `openai-absent`, `gemini-absent`: (d) the same with the receivers' ports closed;
 * - `openai-notrace`: diagnostic, DD_TRACE_ENABLED=false (metrics and logs still on), to size dd-trace's share;
 * - `openai-exp`, `openai-exp2`, `openai-exp3` (only when listed): `openai-on` plus the environment and node
 *   flags given by --exp/--exp2/--exp3 `KEY=VALUE;...;NODE_ARGS=--flag ...`, to measure a proposed change;
 * - `openai-before` (only when listed): `openai-on` served from another build, the dist/ directory given by
 *   --baseline-dist (e.g. one built from an earlier commit), to measure a code change before vs after.
 *
 * Every load slice is bounded (autocannon with a fixed duration, bench/load.ts) and the variants are
 * rotated in short interleaved slices so that the machine's drift hits them all alike; the tables report
 * medians over rounds. CPU per request = utime+stime delta of the server under test (/proc/<pid>/stat)
 * over the slice divided by its 2xx responses; peak RSS = VmHWM at the end; cold start = spawn to the
 * first `GET /health` 200 (median of several runs). Loopback only.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import {
  appendFileSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { LoadResult } from './load';

// ---------------------------------------------------------------------------------------------- options

const ROOT = process.cwd();
const BENCH = join(ROOT, 'bench');
const OUT = join(BENCH, 'out');
const MAIN_IN_DIST = 'apps/control-plane/src/main.js';
/** A copy of dist/ taken at start, so that a `nest build` by someone else mid-run cannot pull it away. */
const SNAPSHOT = join(OUT, 'dist');
const SNAPSHOT_MAIN = join(SNAPSHOT, MAIN_IN_DIST);
const NODE_FLAGS = ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'];
const PROMPT =
  'Explain in two sentences why retries with exponential backoff and jitter help an overloaded upstream service.';
const MODEL = 'gemini-2.5-flash';

interface Options {
  rounds: number;
  sliceS: number;
  warmupS: number;
  connections: number[];
  variants: VariantKey[];
  coldRuns: number;
  coldVariants: VariantKey[];
  write: boolean;
  profile: VariantKey[];
  profileS: number;
  profileConnections: number;
  /** Processes started per variant (separate processes of one build differ by a few percent). */
  replicas: number;
  /** Extra node flags for the control-plane variants (e.g. `--max-semi-space-size=8`), to try a change. */
  serverNodeArgs: string[];
  /** Environment (and node flags) of the experiment variants: `openai-on` plus these. */
  experiments: Partial<Record<ExpKey, Experiment>>;
  /** The dist/ directory `openai-before` is served from (--baseline-dist). */
  baselineDist?: string;
  /** The build under test (--dist; default dist/): what the control-plane variants other than `openai-before` run. */
  dist: string;
}

interface Experiment {
  spec: string;
  env: Record<string, string>;
  nodeArgs: string[];
}

/** `K=V;K=V`, where the key NODE_ARGS holds node flags separated by spaces. */
function parseExperiment(spec: string): Experiment {
  const env: Record<string, string> = {};
  let nodeArgs: string[] = [];
  for (const part of spec.split(';').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`experiment: "${part}" is not KEY=VALUE`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1);
    if (key === 'NODE_ARGS') nodeArgs = value.split(/\s+/).filter(Boolean);
    else env[key] = value;
  }
  return { spec, env, nodeArgs };
}

const ALL_VARIANTS = [
  'direct',
  'bare',
  'nest-min',
  'nest-naive',
  'openai-on',
  'gemini-on',
  'openai-chat',
  'openai-absent',
  'gemini-absent',
  'openai-notrace',
  'openai-exp',
  'openai-exp2',
  'openai-exp3',
  'openai-before',
] as const;
type ExpKey = 'openai-exp' | 'openai-exp2' | 'openai-exp3';
/** Variants run by default; the `openai-exp*` ones and `openai-before` only when named in --variants. */
const DEFAULT_VARIANTS = ALL_VARIANTS.filter((v) => !v.startsWith('openai-exp') && v !== 'openai-before');
type VariantKey = (typeof ALL_VARIANTS)[number];

function parseOptions(argv: string[]): Options {
  const options: Options = {
    rounds: 4,
    sliceS: 3,
    warmupS: 2,
    connections: [1, 10, 50],
    variants: [...DEFAULT_VARIANTS],
    coldRuns: 5,
    coldVariants: ['bare', 'openai-on', 'gemini-on'],
    write: true,
    profile: [],
    profileS: 15,
    profileConnections: 10,
    replicas: 1,
    // The flags `npm start` runs the service with (scripts/start.sh); --server-node-args replaces them.
    serverNodeArgs: ['--max-semi-space-size=8', '--max-old-space-size=320'],
    experiments: {},
    dist: join(ROOT, 'dist'),
  };
  const variantList = (value: string): VariantKey[] =>
    value.split(',').map((v) => {
      if (!(ALL_VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant ${v}`);
      return v as VariantKey;
    });
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    const positive = (): number => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
      return n;
    };
    switch (flag) {
      case '--rounds':
        options.rounds = Math.round(positive());
        break;
      case '--slice':
        options.sliceS = positive();
        break;
      case '--warmup':
        options.warmupS = positive();
        break;
      case '--connections':
        options.connections = value().split(',').map(Number);
        break;
      case '--variants':
        options.variants = variantList(value());
        break;
      case '--cold-runs':
        options.coldRuns = Math.round(positive());
        break;
      case '--cold-variants':
        options.coldVariants = variantList(value());
        break;
      case '--no-write':
        options.write = false;
        break;
      case '--profile':
        options.profile = variantList(value());
        break;
      case '--profile-seconds':
        options.profileS = positive();
        break;
      case '--replicas':
        options.replicas = Math.round(positive());
        break;
      case '--profile-connections':
        options.profileConnections = Math.round(positive());
        break;
      case '--exp':
        options.experiments['openai-exp'] = parseExperiment(value());
        break;
      case '--exp2':
        options.experiments['openai-exp2'] = parseExperiment(value());
        break;
      case '--exp3':
        options.experiments['openai-exp3'] = parseExperiment(value());
        break;
      case '--server-node-args':
        options.serverNodeArgs = value().split(/\s+/).filter(Boolean);
        break;
      case '--baseline-dist':
        options.baselineDist = resolve(ROOT, value());
        break;
      case '--dist':
        options.dist = resolve(ROOT, value());
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  if (options.connections.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--connections: integers >= 1');
  for (const v of [...options.variants, ...options.profile, ...options.coldVariants]) {
    if (v.startsWith('openai-exp') && options.experiments[v as ExpKey] === undefined) {
      throw new Error(`${v} needs --${v.slice('openai-'.length)} 'KEY=VALUE;...'`);
    }
  }
  const wantsBaseline = [...options.variants, ...options.profile, ...options.coldVariants].includes('openai-before');
  if (wantsBaseline && options.baselineDist === undefined) throw new Error('openai-before needs --baseline-dist DIR');
  if (options.baselineDist !== undefined) {
    baselineMain = join(options.baselineDist, MAIN_IN_DIST);
    if (!existsSync(baselineMain)) throw new Error(`--baseline-dist: ${baselineMain} does not exist`);
  }
  experiments = options.experiments;
  return options;
}

// ---------------------------------------------------------------------------------------------- machine

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const CORES = os.availableParallelism();
const PIN = CORES >= 2 && existsSync('/usr/bin/taskset');
const LOAD_CORE = 0;
const SERVER_CORE = 1;

function machine(): { nproc: number; cpu: string; memGiB: number; node: string; loadavg: string } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  return {
    nproc: CORES,
    cpu,
    memGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Peak resident set (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

// ---------------------------------------------------------------------------------------------- processes

/** Set from --server-node-args: extra node flags for the control-plane processes. */
let serverNodeArgs: string[] = [];
/** Set from --exp/--exp2/--exp3. */
let experiments: Options['experiments'] = {};
/** Set from --baseline-dist: the main of the build `openai-before` runs. */
let baselineMain = '';

/** The control plane's main a variant runs: the snapshot of dist/, or the baseline build for `openai-before`. */
function mainOf(key: VariantKey): string {
  return key === 'openai-before' ? baselineMain : SNAPSHOT_MAIN;
}

/** Which build a dist/ directory other than the working tree's is: its BUILD file (what it was built from), its build time. */
function distInfo(dist: string): string {
  const buildFile = join(dist, 'BUILD');
  const from = existsSync(buildFile) ? readFileSync(buildFile, 'utf8').trim() : 'no BUILD file';
  const built = statSync(join(dist, MAIN_IN_DIST)).mtime.toISOString();
  return `${dist.startsWith(ROOT) ? dist.slice(ROOT.length + 1) : dist} (${from}, built ${built})`;
}

/** Which code the snapshot of dist/ was built from: HEAD, the build time, and uncommitted source files. */
function buildInfo(dist: string): string {
  if (dist !== join(ROOT, 'dist')) return distInfo(dist);
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const head = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'apps', 'libs']).split('\n').filter(Boolean).length;
  const built = statSync(join(dist, MAIN_IN_DIST)).mtime.toISOString();
  return `git ${head}${dirty > 0 ? ` + ${dirty} uncommitted paths under apps/ libs/` : ''}, dist/ built ${built}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A child process pinned to a core (when the machine has two), its stdout written to a file under
 * bench/out/logs (a reader on the busy load core could not keep up with the service's log rate, and a slow
 * reader makes the service hold or drop lines: not what is measured here), stderr's tail kept.
 */
class Proc {
  readonly child: ChildProcess;
  private readonly stdoutFile: string;
  private stderrTail = '';
  readonly exited: Promise<number | null>;
  readonly name: string;

  constructor(name: string, core: number, nodeArgs: string[], env: Record<string, string>) {
    this.name = name;
    const command = PIN ? 'taskset' : process.execPath;
    const args = PIN ? ['-c', String(core), process.execPath, ...nodeArgs] : nodeArgs;
    const logs = join(OUT, 'logs');
    mkdirSync(logs, { recursive: true });
    this.stdoutFile = join(logs, `${name}-${Date.now()}.log`);
    const stdout = openSync(this.stdoutFile, 'w');
    // taskset execs node: the pid is the server's own.
    this.child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', stdout, 'pipe'],
    });
    closeSync(stdout);
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
  }

  stdoutText(): string {
    return readFileSync(this.stdoutFile, 'utf8');
  }

  /** Lines written to stdout so far. */
  stdoutLines(): number {
    const data = readFileSync(this.stdoutFile);
    let lines = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++;
    return lines;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name}: not started`);
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stderr(): string {
    return this.stderrTail;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timeout = sleep(10_000).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited, timeout])) === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(r));
  return port;
}

/** One GET on a fresh connection; resolves with the status, or 0 when the connection fails. */
function getStatus(url: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
    });
    req.on('error', () => resolvePromise(0));
    req.on('timeout', () => req.destroy());
  });
}

function postJson(
  url: string,
  body: string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolvePromise, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function waitHealthy(proc: Proc, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await getStatus(`${url}/health`)) !== 200) {
    if (!proc.alive) throw new Error(`${proc.name} exited: ${proc.stderr()}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} not healthy in ${timeoutMs} ms: ${proc.stderr()}`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------- receivers

/** Loopback stand-ins for the Datadog agent: a DogStatsD socket and the trace intake (counts only). */
class Receivers {
  statsdDatagrams = 0;
  statsdLines = 0;
  tracePayloads = 0;
  traceBytes = 0;
  llmobsPayloads = 0;
  statsdPort = 0;
  tracePort = 0;
  private readonly socket = dgram.createSocket('udp4');
  private readonly server = http.createServer((req, res) => {
    const path = req.url?.split('?', 1)[0] ?? '';
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (path === '/info') {
        res.end(
          JSON.stringify({
            version: '7.60.0',
            endpoints: ['/v0.4/traces', '/v0.5/traces', '/evp_proxy/v2/', '/evp_proxy/v4/'],
            client_drop_p0s: false,
          }),
        );
        return;
      }
      if (path.startsWith('/v0.4/traces') || path.startsWith('/v0.5/traces')) {
        this.tracePayloads++;
        this.traceBytes += size;
        res.end('{"rate_by_service":{}}');
        return;
      }
      if (path.startsWith('/evp_proxy/')) {
        this.llmobsPayloads++;
        res.end('{}');
        return;
      }
      res.end('{}');
    });
  });

  async start(): Promise<this> {
    this.socket.on('message', (message) => {
      this.statsdDatagrams++;
      for (let i = 0; i < message.length; i++) if (message[i] === 10) this.statsdLines++;
      if (message.length > 0 && message[message.length - 1] !== 10) this.statsdLines++;
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.statsdPort = this.socket.address().port;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.tracePort = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    await new Promise<void>((r) => this.socket.close(r));
  }
}

// ---------------------------------------------------------------------------------------------- variants

interface VariantDef {
  label: string;
  /** The route the load is sent to and its body. */
  path: string;
  body: string;
  /** For control-plane variants: the provider and how telemetry is wired. */
  provider?: 'openai' | 'gemini';
  telemetry?: 'listening' | 'absent' | 'no-trace';
  /** Expected `metadata.provider` in the sanity check. */
  expectProvider?: string;
}

const REASON_BODY = JSON.stringify({ prompt: PROMPT });
const VARIANTS: Record<VariantKey, VariantDef> = {
  direct: {
    label: '(a) mock upstream, called directly',
    path: '/v1/chat/completions',
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 2048 }),
  },
  bare: {
    label: '(b) bare node:http + undici Pool proxy',
    path: '/reason',
    body: REASON_BODY,
    expectProvider: 'openai',
  },
  'nest-min': {
    label: 'reference: NestJS 12 + Fastify + validated DTO + undici Pool, no telemetry (bench/nest-reference.ts)',
    path: '/reason',
    body: REASON_BODY,
    expectProvider: 'openai',
  },
  'nest-naive': {
    label:
      'reference: `nest-min` + naive telemetry (dd-trace default integrations + a custom span, 10 unbuffered DogStatsD sends, pino)',
    path: '/reason',
    body: REASON_BODY,
    expectProvider: 'openai',
  },
  'openai-on': {
    label: '(c) control plane, openai adapter, telemetry on',
    path: '/reason',
    body: REASON_BODY,
    provider: 'openai',
    telemetry: 'listening',
    expectProvider: 'openai',
  },
  'gemini-on': {
    label: '(c) control plane, gemini adapter, telemetry on',
    path: '/reason',
    body: REASON_BODY,
    provider: 'gemini',
    telemetry: 'listening',
    expectProvider: 'gemini',
  },
  'openai-chat': {
    label: '(c) control plane, `POST /v1/chat/completions` (OpenAI-compatible), openai adapter, telemetry on',
    path: '/v1/chat/completions',
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }] }),
    provider: 'openai',
    telemetry: 'listening',
    expectProvider: 'openai',
  },
  'openai-absent': {
    label: '(d) control plane, openai adapter, receivers absent',
    path: '/reason',
    body: REASON_BODY,
    provider: 'openai',
    telemetry: 'absent',
    expectProvider: 'openai',
  },
  'gemini-absent': {
    label: '(d) control plane, gemini adapter, receivers absent',
    path: '/reason',
    body: REASON_BODY,
    provider: 'gemini',
    telemetry: 'absent',
    expectProvider: 'gemini',
  },
  'openai-notrace': {
    label: 'control plane, openai adapter, DD_TRACE_ENABLED=false (diagnostic)',
    path: '/reason',
    body: REASON_BODY,
    provider: 'openai',
    telemetry: 'no-trace',
    expectProvider: 'openai',
  },
  'openai-exp': experimentDef('--exp'),
  'openai-exp2': experimentDef('--exp2'),
  'openai-exp3': experimentDef('--exp3'),
  'openai-before': {
    label: '`openai-on` served from the baseline build (--baseline-dist)',
    path: '/reason',
    body: REASON_BODY,
    provider: 'openai',
    telemetry: 'listening',
    expectProvider: 'openai',
  },
};

function experimentDef(flag: string): VariantDef {
  return {
    label: `\`openai-on\` + ${flag} (experiment)`,
    path: '/reason',
    body: REASON_BODY,
    provider: 'openai',
    telemetry: 'listening',
    expectProvider: 'openai',
  };
}

/** The label of a variant, with an experiment's settings spelled out. */
function labelOf(key: VariantKey): string {
  const exp = key.startsWith('openai-exp') ? experiments[key as ExpKey] : undefined;
  return exp ? `\`openai-on\` + \`${exp.spec}\` (experiment)` : VARIANTS[key].label;
}

interface Upstreams {
  /** The mock the proxies call (core 0). */
  shared: { proc: Proc; url: string };
}

interface Running {
  key: VariantKey;
  def: VariantDef;
  proc: Proc;
  url: string;
  receivers?: Receivers;
}

async function startMock(name: string, core: number): Promise<{ proc: Proc; url: string }> {
  const port = await freeTcpPort();
  const proc = new Proc(name, core, [...NODE_FLAGS, join(BENCH, 'mock-upstream.ts'), '--port', String(port)], {});
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(proc, url);
  return { proc, url };
}

/** Environment of a control-plane variant. Receivers are created per variant so their counts are its own. */
async function controlPlaneEnv(
  key: VariantKey,
  def: VariantDef,
  port: number,
  upstreamUrl: string,
  receivers: Receivers | undefined,
): Promise<Record<string, string>> {
  const statsdPort = receivers ? receivers.statsdPort : await freeUdpPort();
  const tracePort = receivers ? receivers.tracePort : await freeTcpPort();
  const dataDir = join(OUT, 'data', key);
  mkdirSync(dataDir, { recursive: true });
  return {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    DD_ENV: 'bench',
    DD_AGENT_HOST: '127.0.0.1',
    DD_DOGSTATSD_PORT: String(statsdPort),
    DD_TRACE_AGENT_URL: `http://127.0.0.1:${tracePort}`,
    DD_TRACE_ENABLED: def.telemetry === 'no-trace' ? 'false' : 'true',
    LLM_MODEL: MODEL,
    LLM_PROVIDER: def.provider!,
    // The load generator sends no API key and far more than a client's rate limit (docs/security.md).
    AUTH_DISABLED: 'true',
    RATE_LIMIT_PER_MINUTE: '0',
    // A closed-loop benchmark keeps the event loop at ~100 %: saturation shedding (LLM_SHED_*) would turn the
    // overhead measurement into a shedding one.
    LLM_SHED_ELU: '0',
    LLM_SHED_EVENT_LOOP_DELAY_MS: '0',
    ...(def.provider === 'openai'
      ? { OPENAI_BASE_URL: upstreamUrl }
      : { GEMINI_API_KEY: 'bench-not-a-real-key', LLM_BASE_URL: upstreamUrl }),
    ...(experiments[key as ExpKey]?.env ?? {}),
  };
}

async function startVariant(key: VariantKey, upstreams: Upstreams, extraNodeArgs: string[] = []): Promise<Running> {
  const def = VARIANTS[key];
  if (key === 'direct') {
    const mock = await startMock('direct-mock', SERVER_CORE);
    return { key, def, ...mock };
  }
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  if (key === 'bare') {
    const proc = new Proc(
      'bare',
      SERVER_CORE,
      [...NODE_FLAGS, join(BENCH, 'bare-proxy.ts'), '--port', String(port), '--upstream', upstreams.shared.url],
      {},
    );
    await waitHealthy(proc, url);
    return { key, def, proc, url };
  }
  if (key === 'nest-min' || key === 'nest-naive') return startNestReference(key, def, port, upstreams);
  const receivers = def.telemetry === 'absent' ? undefined : await new Receivers().start();
  const env = await controlPlaneEnv(key, def, port, upstreams.shared.url, receivers);
  const expArgs = experiments[key as ExpKey]?.nodeArgs ?? [];
  const proc = new Proc(key, SERVER_CORE, [...serverNodeArgs, ...expArgs, ...extraNodeArgs, mainOf(key)], env);
  await waitHealthy(proc, url);
  return { key, def, proc, url, receivers };
}

/** The calibration points of bench/nest-reference.ts (naive: with its receivers listening, like `openai-on`). */
async function startNestReference(
  key: 'nest-min' | 'nest-naive',
  def: VariantDef,
  port: number,
  upstreams: Upstreams,
): Promise<Running> {
  const naive = key === 'nest-naive';
  const receivers = naive ? await new Receivers().start() : undefined;
  const args = [
    ...NODE_FLAGS,
    ...(naive ? ['--import', 'dd-trace/initialize.mjs'] : []),
    join(BENCH, 'nest-reference.ts'),
    '--port',
    String(port),
    '--upstream',
    upstreams.shared.url,
    ...(naive ? ['--naive', '--statsd-port', String(receivers!.statsdPort)] : []),
  ];
  const env: Record<string, string> = naive
    ? {
        DD_SERVICE: 'nest-naive',
        DD_ENV: 'bench',
        DD_TRACE_AGENT_URL: `http://127.0.0.1:${receivers!.tracePort}`,
        DD_DOGSTATSD_PORT: String(receivers!.statsdPort),
        DD_TRACE_STARTUP_LOGS: 'false',
      }
    : {};
  const proc = new Proc(key, SERVER_CORE, args, env);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(proc, url);
  return { key, def, proc, url, receivers };
}

async function sanityCheck(running: Running): Promise<string> {
  const { status, body, headers } = await postJson(`${running.url}${running.def.path}`, running.def.body);
  if (status !== 200) throw new Error(`${running.key}: sanity request answered ${status}: ${body.slice(0, 500)}`);
  const parsed = JSON.parse(body) as { metadata?: Record<string, unknown>; choices?: unknown[] };
  if (running.def.expectProvider === undefined) return 'ok';
  // The OpenAI-compatible route says the same in its x-control-plane-* headers (its body is OpenAI's).
  const meta =
    parsed.metadata ??
    (running.def.path === '/v1/chat/completions'
      ? {
          provider: headers['x-control-plane-provider'],
          model: headers['x-control-plane-model'],
          total_tokens: (parsed as { usage?: { total_tokens?: number } }).usage?.total_tokens,
          cost_usd: headers['x-control-plane-cost-usd'],
        }
      : {});
  if (meta.provider !== running.def.expectProvider) {
    throw new Error(`${running.key}: expected provider ${running.def.expectProvider}, got ${body.slice(0, 500)}`);
  }
  return `provider=${String(meta.provider)} model=${String(meta.model)} tokens=${String(meta.total_tokens)} cost_usd=${String(meta.cost_usd)}`;
}

// ---------------------------------------------------------------------------------------------- load

interface Sample extends LoadResult {
  variant: VariantKey;
  connections: number;
  round: number;
  cpuMsPerReq: number;
}

function runLoad(url: string, body: string, connections: number, durationS: number): Promise<LoadResult> {
  const spec = JSON.stringify({ url, body, connections, durationS });
  const proc = new Proc('load', LOAD_CORE, [...NODE_FLAGS, join(BENCH, 'load.ts'), spec], {});
  return proc.exited.then((code) => {
    if (code !== 0) throw new Error(`load generator failed (${code}): ${proc.stderr()}`);
    return JSON.parse(proc.stdoutText().trim()) as LoadResult;
  });
}

async function slice(running: Running, connections: number, durationS: number, round: number): Promise<Sample> {
  if (!running.proc.alive) throw new Error(`${running.key} died: ${running.proc.stderr()}`);
  const before = cpuMs(running.proc.pid);
  const result = await runLoad(`${running.url}${running.def.path}`, running.def.body, connections, durationS);
  if (!running.proc.alive) {
    const { exitCode, signalCode } = running.proc.child;
    throw new Error(
      `${running.key} died under load (exit ${exitCode}, signal ${signalCode}): ${running.proc.stderr()}`,
    );
  }
  const after = cpuMs(running.proc.pid);
  return {
    ...result,
    variant: running.key,
    connections,
    round,
    cpuMsPerReq: result.requests > 0 ? (after - before) / result.requests : Number.NaN,
  };
}

function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------------------------------------- cold start

async function coldStart(key: VariantKey, upstreams: Upstreams, runs: number): Promise<number[]> {
  const def = VARIANTS[key];
  const times: number[] = [];
  const receivers =
    def.telemetry === 'listening' || def.telemetry === 'no-trace' ? await new Receivers().start() : undefined;
  try {
    for (let i = 0; i < runs; i++) {
      const port = await freeTcpPort();
      const url = `http://127.0.0.1:${port}`;
      const args =
        key === 'bare'
          ? [...NODE_FLAGS, join(BENCH, 'bare-proxy.ts'), '--port', String(port), '--upstream', upstreams.shared.url]
          : [...serverNodeArgs, ...(experiments[key as ExpKey]?.nodeArgs ?? []), mainOf(key)];
      const env = key === 'bare' ? {} : await controlPlaneEnv(key, def, port, upstreams.shared.url, receivers);
      const started = performance.now();
      const proc = new Proc(`cold-${key}`, SERVER_CORE, args, env);
      const deadline = started + 30_000;
      while ((await getStatus(`${url}/health`)) !== 200) {
        if (!proc.alive) throw new Error(`${key} exited during cold start: ${proc.stderr()}`);
        if (performance.now() > deadline) throw new Error(`${key}: no /health 200 in 30 s`);
        await sleep(5);
      }
      times.push(performance.now() - started);
      await proc.stop();
      await sleep(300);
    }
  } finally {
    await receivers?.close();
  }
  return times;
}

// ---------------------------------------------------------------------------------------------- report

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

interface Summary {
  variant: VariantKey;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerReq: number;
  requests: number;
  errors: number;
}

function summarise(samples: Sample[], variants: VariantKey[], connections: number[]): Summary[] {
  const out: Summary[] = [];
  for (const c of connections) {
    for (const v of variants) {
      const mine = samples.filter((s) => s.variant === v && s.connections === c);
      out.push({
        variant: v,
        connections: c,
        rps: median(mine.map((s) => s.rps)),
        p50: median(mine.map((s) => s.p50)),
        p99: median(mine.map((s) => s.p99)),
        cpuMsPerReq: median(mine.map((s) => s.cpuMsPerReq)),
        requests: mine.reduce((a, s) => a + s.requests, 0),
        errors: mine.reduce((a, s) => a + s.errors + s.non2xx, 0),
      });
    }
  }
  return out;
}

interface RunReport {
  options: Options;
  command: string;
  build: string;
  /** The build `openai-before` ran (--baseline-dist). */
  baseline?: string;
  machine: ReturnType<typeof machine>;
  loadavgEnd: string;
  date: string;
  wallS: number;
  samples: Sample[];
  summary: Summary[];
  rssMiB: Partial<Record<VariantKey, number>>;
  cold: Partial<Record<VariantKey, number[]>>;
  telemetry: Partial<
    Record<VariantKey, { statsdLines: number; tracePayloads: number; llmobsPayloads: number; logLines: number }>
  >;
  sanity: Partial<Record<VariantKey, string>>;
}

const TELEMETRY_ON: VariantKey[] = ['openai-on', 'gemini-on'];
const CPU_TARGET = 4;
const P50_TARGET_MS = 1;
const RSS_TARGET_MIB = 300;
const COLD_TARGET_MS = 1500;
/** 3x the open-source gateway's best 650 req/s, as a share of the bare proxy's 5,900 req/s (issue 3). */
const RPS_SHARE_TARGET = (3 * 650) / 5900;

function markdown(report: RunReport): string {
  const { summary, options, machine: m } = report;
  const get = (v: VariantKey, c: number): Summary | undefined =>
    summary.find((s) => s.variant === v && s.connections === c);
  const lines: string[] = [];
  lines.push(`### LLM overhead: /reason through the control plane vs a bare proxy (${report.date.slice(0, 10)})`);
  lines.push('');
  lines.push(
    `Machine: ${m.nproc} cores (${m.cpu}), ${m.memGiB} GiB RAM, Node ${m.node}; shared with other jobs ` +
      `(load average ${m.loadavg} at start, ${report.loadavgEnd} at end). Date: ${report.date}. Wall time ${fmt(report.wallS, 0)} s.`,
  );
  lines.push('');
  lines.push(
    `Command: \`${report.command}\` (after \`nest build\`; runs a copy of dist/ taken at start). Build measured: ${report.build}.` +
      `${report.baseline ? ` Baseline build (\`openai-before\`): ${report.baseline}.` : ''}` +
      `${options.serverNodeArgs.length > 0 ? ` Control-plane node flags: \`${options.serverNodeArgs.join(' ')}\`.` : ''}`,
  );
  lines.push(
    `Setup: instant mock upstream (bench/mock-upstream.ts); ${PIN ? `server under test pinned to core ${SERVER_CORE}, load generator (autocannon, bench/load.ts), upstream and telemetry receivers to core ${LOAD_CORE}` : 'no pinning (fewer than 2 cores or no taskset)'}; ` +
      `${options.rounds} interleaved rounds of ${options.sliceS} s slices per variant and connection count (order rotated each round)${options.replicas > 1 ? `, ${options.replicas} processes per variant` : ''}, medians shown; ` +
      `CPU per request = utime+stime of the server under test over the slice / 2xx responses; latencies exact (every response timed).`,
  );
  lines.push('');
  for (const c of options.connections) {
    const bare = get('bare', c);
    lines.push(`**${c} connection${c === 1 ? '' : 's'}**`);
    lines.push('');
    lines.push('| variant | req/s | p50 ms | p99 ms | CPU ms/req | CPU × bare | req/s × bare | non-2xx+errors |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const v of options.variants) {
      const s = get(v, c);
      if (!s) continue;
      const cpuX = bare ? s.cpuMsPerReq / bare.cpuMsPerReq : Number.NaN;
      const rpsX = bare ? s.rps / bare.rps : Number.NaN;
      lines.push(
        `| \`${v}\` ${labelOf(v)} | ${fmtInt(s.rps)} | ${fmt(s.p50, 3)} | ${fmt(s.p99, 2)} | ${fmt(s.cpuMsPerReq, 3)} | ${fmt(cpuX, 2)} | ${fmt(rpsX, 2)} | ${s.errors} |`,
      );
    }
    lines.push('');
  }
  lines.push(...beforeAfter(options, get));
  lines.push(
    '| variant | peak RSS (VmHWM) MiB | cold start to first /health 200, median ms (runs) | telemetry received (statsd lines / trace payloads / LLMObs payloads / log lines) |',
  );
  lines.push('|---|---:|---:|---|');
  for (const v of options.variants) {
    const cold = report.cold[v];
    const t = report.telemetry[v];
    lines.push(
      `| \`${v}\` | ${fmt(report.rssMiB[v] ?? Number.NaN, 0)} | ${cold ? `${fmt(median(cold), 0)} (${cold.map((x) => x.toFixed(0)).join(', ')})` : '—'} | ${t ? `${t.statsdLines} / ${t.tracePayloads} / ${t.llmobsPayloads} / ${t.logLines}` : '—'} |`,
    );
  }
  lines.push('');
  lines.push('Targets of issue 3, with full telemetry on (`openai-on`, `gemini-on`):');
  lines.push('');
  const verdict = (ok: boolean): string => (ok ? '**met**' : '**NOT met**');
  const judged = [...TELEMETRY_ON, 'openai-exp', 'openai-exp2', 'openai-exp3'] as VariantKey[];
  for (const v of judged.filter((x) => options.variants.includes(x))) {
    const parts: string[] = [];
    for (const c of options.connections) {
      const s = get(v, c);
      const bare = get('bare', c);
      if (!s || !bare) continue;
      const x = s.cpuMsPerReq / bare.cpuMsPerReq;
      parts.push(`${c} conn: ${fmt(x, 2)}x ${verdict(x <= CPU_TARGET)}`);
    }
    lines.push(`- \`${v}\` CPU per request ≤ ${CPU_TARGET}x the bare proxy's: ${parts.join('; ')}.`);
    const s10 = get(v, 10);
    const bare10 = get('bare', 10);
    if (s10 && bare10) {
      const share = s10.rps / bare10.rps;
      lines.push(
        `- \`${v}\` throughput at 10 connections: ${fmtInt(s10.rps)} req/s = ${fmt(share, 2)}x the bare proxy's ${fmtInt(bare10.rps)} ` +
          `(target ≥ ${fmt(RPS_SHARE_TARGET, 2)}x, i.e. 3x the gateway's 650 req/s against the reference 5,900): ${verdict(share >= RPS_SHARE_TARGET)}.`,
      );
    }
    const s1 = get(v, 1);
    const direct1 = get('direct', 1);
    const bare1 = get('bare', 1);
    if (s1 && direct1) {
      const added = s1.p50 - direct1.p50;
      lines.push(
        `- \`${v}\` p50 added at 1 connection ≤ ${P50_TARGET_MS} ms: ${fmt(added, 3)} ms over calling the mock directly` +
          `${bare1 ? ` (${fmt(s1.p50 - bare1.p50, 3)} ms over the bare proxy)` : ''}: ${verdict(added <= P50_TARGET_MS)}.`,
      );
    }
    const rss = report.rssMiB[v];
    if (rss !== undefined)
      lines.push(`- \`${v}\` peak RSS ≤ ${RSS_TARGET_MIB} MiB: ${fmt(rss, 0)} MiB ${verdict(rss <= RSS_TARGET_MIB)}.`);
    const cold = report.cold[v];
    if (cold) {
      const med = median(cold);
      lines.push(`- \`${v}\` cold start ≤ ${COLD_TARGET_MS} ms: ${fmt(med, 0)} ms ${verdict(med <= COLD_TARGET_MS)}.`);
    }
  }
  // How the issue's reference points come out on this machine: the ratios only transfer if these do.
  const references: [VariantKey, string][] = [
    ['nest-min', 'about 1.4x'],
    ['nest-naive', '6.4-7x'],
  ];
  const calibration: string[] = [];
  for (const [v, issueSaid] of references) {
    if (!options.variants.includes(v)) continue;
    const parts: string[] = [];
    for (const c of options.connections) {
      const s = get(v, c);
      const bare = get('bare', c);
      if (s && bare) parts.push(`${c} conn: ${fmt(s.cpuMsPerReq / bare.cpuMsPerReq, 2)}x`);
    }
    calibration.push(
      `- \`${v}\` CPU per request vs the bare proxy: ${parts.join('; ')} (the issue measured ${issueSaid}).`,
    );
  }
  if (calibration.length > 0) {
    lines.push('', "Calibration: the issue's reference points measured on this machine in the same run:", '');
    lines.push(...calibration);
    const on10 = get('openai-on', 10);
    const naive10 = get('nest-naive', 10);
    if (on10 && naive10)
      lines.push(
        `- \`openai-on\` at 10 connections uses ${fmt(on10.cpuMsPerReq / naive10.cpuMsPerReq, 2)}x the CPU per request of \`nest-naive\` ` +
          `(the issue's target, 4x against naive's 6.4-7x, is about 0.6x of naive).`,
      );
  }
  lines.push('');
  return lines.join('\n');
}

/** With `openai-before` and `openai-on` in the run: each measure of the build under test over the baseline's. */
function beforeAfter(options: Options, get: (v: VariantKey, c: number) => Summary | undefined): string[] {
  if (!options.variants.includes('openai-before') || !options.variants.includes('openai-on')) return [];
  const lines = [
    '**Before vs after** (`openai-before`: the baseline build; `openai-on`: the build under test; ratio = after / before)',
    '',
    '| connections | p50 ms before → after (ratio) | p99 ms before → after (ratio) | req/s before → after (ratio) | CPU ms/req before → after (ratio) |',
    '|---:|---|---|---|---|',
  ];
  const cell = (before: number, after: number, digits: number): string =>
    `${fmt(before, digits)} → ${fmt(after, digits)} (${fmt(after / before, 3)})`;
  for (const c of options.connections) {
    const before = get('openai-before', c);
    const after = get('openai-on', c);
    if (!before || !after) continue;
    lines.push(
      `| ${c} | ${cell(before.p50, after.p50, 3)} | ${cell(before.p99, after.p99, 2)} | ${cell(before.rps, after.rps, 0)} | ${cell(before.cpuMsPerReq, after.cpuMsPerReq, 3)} |`,
    );
  }
  lines.push('');
  return lines;
}

// ---------------------------------------------------------------------------------------------- profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const GROUPS: [string, RegExp][] = [
  [
    'dd-trace',
    /^(dd-trace|@datadog\/.*|dc-polyfill|import-in-the-middle|require-in-the-middle|@opentelemetry\/.*|opentracing|module-details-from-path)$/,
  ],
  ['hot-shots', /^hot-shots$/],
  [
    'pino',
    /^(pino|pino-.*|nestjs-pino|sonic-boom|fast-redact|@pinojs\/.*|quick-format-unescaped|safe-stable-stringify|thread-stream|atomic-sleep|on-exit-leak-free|real-require)$/,
  ],
  [
    'nest',
    /^(@nestjs\/(?!platform-fastify).*|class-validator|class-transformer|validator|libphonenumber-js|reflect-metadata|rxjs|iterare|tslib|uid|path-to-regexp|load-esm)$/,
  ],
  [
    'fastify',
    /^(fastify|@fastify\/.*|@nestjs\/platform-fastify|find-my-way|light-my-request|avvio|fast-json-stringify|secure-json-parse|fast-querystring|abstract-logging|process-warning|toad-cache|rfdc|fast-uri|ret|safe-regex2|fast-decode-uri-component|content-type|middie)$/,
  ],
  ['undici', /^undici$/],
  ['@google/genai', /^(@google\/genai|google-auth-library|gaxios|gcp-metadata|google-logging-utils|ws)$/],
  ['js-tiktoken', /^js-tiktoken$/],
];

/** What a frame belongs to: a package under node_modules, our code, node core, or a V8 pseudo-frame. */
function frameOwner(frame: ProfileNode['callFrame']): { pkg: string; group: string } {
  const url = frame.url;
  if (url === '') {
    if (/^\((program|idle|garbage collector|root)\)$/.test(frame.functionName)) {
      return { pkg: frame.functionName, group: frame.functionName };
    }
    return { pkg: '(native/builtin)', group: 'node/V8' };
  }
  if (url.startsWith('node:')) return { pkg: 'node core', group: 'node/V8' };
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '?');
    const group = GROUPS.find(([, re]) => re.test(pkg))?.[0] ?? 'other packages';
    return { pkg, group };
  }
  if (url.includes('/dist/') || url.includes(ROOT)) return { pkg: 'our code', group: 'our code' };
  return { pkg: 'other', group: 'other' };
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist !== -1 ? url.slice(dist + 1) : url.replace(/^file:\/\//, '');
}

interface ProfileSummary {
  variant: VariantKey;
  file: string;
  windowMs: number;
  samples: number;
  requests: number;
  cpuMsPerReq: number;
  bySelf: { group: string; ms: number; share: number }[];
  byAttributed: { group: string; ms: number; share: number }[];
  byPackage: { pkg: string; ms: number; share: number }[];
  topFunctions: { fn: string; where: string; pkg: string; ms: number; share: number }[];
  /** Like topFunctions, with node-core and builtin frames charged to their nearest package or our-code caller. */
  topAttributed: { fn: string; where: string; pkg: string; ms: number; share: number }[];
}

function topOf(
  map: Map<string, { fn: string; where: string; pkg: string; us: number }>,
  total: number,
): ProfileSummary['topFunctions'] {
  return [...map.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, 40)
    .map((f) => ({ fn: f.fn, where: f.where, pkg: f.pkg, ms: f.us / 1000, share: total > 0 ? f.us / total : 0 }));
}

/**
 * Self time in the load window, grouped. "Self" charges each sample to the frame on top of the stack;
 * "attributed" charges node-core and builtin frames to the nearest caller that belongs to a package or to
 * our code (JSON.stringify called by pino counts as pino), which is what a change in that package saves.
 */
function analyseProfile(
  profile: CpuProfile,
  fromUs: number,
  toUs: number,
): Omit<ProfileSummary, 'variant' | 'file' | 'requests' | 'cpuMsPerReq'> {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const next = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + next);
  }
  const add = <K>(map: Map<K, number>, key: K, us: number): void => {
    map.set(key, (map.get(key) ?? 0) + us);
  };
  const groupSelf = new Map<string, number>();
  const groupAttributed = new Map<string, number>();
  const pkgSelf = new Map<string, number>();
  const fnSelf = new Map<string, { fn: string; where: string; pkg: string; us: number }>();
  const fnAttributed = new Map<string, { fn: string; where: string; pkg: string; us: number }>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const owner = frameOwner(node.callFrame);
    // Idle time (waiting for the next request) is not CPU: left out of every share.
    if (owner.group === '(idle)') continue;
    total += us;
    add(groupSelf, owner.group, us);
    add(pkgSelf, owner.pkg, us);
    const where = node.callFrame.url ? `${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${node.callFrame.functionName}|${where}`;
    const entry = fnSelf.get(key) ?? { fn: node.callFrame.functionName || '(anonymous)', where, pkg: owner.pkg, us: 0 };
    entry.us += us;
    fnSelf.set(key, entry);
    let attributed = owner.group;
    let attributedNode = node;
    if (attributed === 'node/V8') {
      for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
        const upNode = byId.get(p)!;
        const up = frameOwner(upNode.callFrame);
        if (up.group !== 'node/V8' && !up.group.startsWith('(')) {
          attributed = up.group;
          attributedNode = upNode;
          break;
        }
      }
    }
    add(groupAttributed, attributed, us);
    const aWhere = attributedNode.callFrame.url
      ? `${shortUrl(attributedNode.callFrame.url)}:${attributedNode.callFrame.lineNumber + 1}`
      : '';
    const aKey = `${attributedNode.callFrame.functionName}|${aWhere}`;
    const aEntry = fnAttributed.get(aKey) ?? {
      fn: attributedNode.callFrame.functionName || '(anonymous)',
      where: aWhere,
      pkg: frameOwner(attributedNode.callFrame).pkg,
      us: 0,
    };
    aEntry.us += us;
    fnAttributed.set(aKey, aEntry);
  }
  const rows = <K extends string>(map: Map<K, number>): { key: K; ms: number; share: number }[] =>
    [...map.entries()]
      .map(([key, us]) => ({ key, ms: us / 1000, share: total > 0 ? us / total : 0 }))
      .sort((a, b) => b.ms - a.ms);
  return {
    windowMs: (toUs - fromUs) / 1000,
    samples: profile.samples.length,
    bySelf: rows(groupSelf).map(({ key, ms, share }) => ({ group: key, ms, share })),
    byAttributed: rows(groupAttributed).map(({ key, ms, share }) => ({ group: key, ms, share })),
    byPackage: rows(pkgSelf)
      .slice(0, 25)
      .map(({ key, ms, share }) => ({ pkg: key, ms, share })),
    topFunctions: topOf(fnSelf, total),
    topAttributed: topOf(fnAttributed, total),
  };
}

function profileMarkdown(summaries: ProfileSummary[], options: Options): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(
      `#### CPU profile of \`${s.variant}\` under load (${options.profileConnections} connection(s), ${options.profileS} s, ${s.requests} requests, ` +
        `${fmt(s.cpuMsPerReq, 3)} ms CPU/request with the profiler on)`,
    );
    lines.push('');
    lines.push('| group | self % | attributed % (node/V8 frames charged to their caller) | µs/request attributed |');
    lines.push('|---|---:|---:|---:|');
    for (const row of s.byAttributed) {
      const self = s.bySelf.find((x) => x.group === row.group);
      lines.push(
        `| ${row.group} | ${fmt((self?.share ?? 0) * 100, 1)} | ${fmt(row.share * 100, 1)} | ${fmt((row.ms * 1000) / Math.max(1, s.requests), 1)} |`,
      );
    }
    for (const row of s.bySelf.filter((x) => !s.byAttributed.some((a) => a.group === x.group))) {
      lines.push(`| ${row.group} | ${fmt(row.share * 100, 1)} | 0.0 | 0.0 |`);
    }
    lines.push('');
    lines.push('Top self-time functions:');
    lines.push('');
    lines.push('| % | function | package | where |');
    lines.push('|---:|---|---|---|');
    for (const f of s.topFunctions.slice(0, 25)) {
      lines.push(`| ${fmt(f.share * 100, 1)} | \`${f.fn}\` | ${f.pkg} | ${f.where} |`);
    }
    lines.push('');
    lines.push('Top functions with node-core/builtin time charged to their nearest package or our-code caller:');
    lines.push('');
    lines.push('| % | function | package | where |');
    lines.push('|---:|---|---|---|');
    for (const f of s.topAttributed.slice(0, 25)) {
      lines.push(`| ${fmt(f.share * 100, 1)} | \`${f.fn}\` | ${f.pkg} | ${f.where} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function profileRun(options: Options, upstreams: Upstreams): Promise<ProfileSummary[]> {
  const dir = join(OUT, 'profiles');
  mkdirSync(dir, { recursive: true });
  const summaries: ProfileSummary[] = [];
  for (const key of options.profile) {
    if (key === 'direct' || key === 'bare') throw new Error('--profile takes control-plane variants');
    const variantDir = join(dir, `${key}-${Date.now()}`);
    mkdirSync(variantDir, { recursive: true });
    // Nest re-raises SIGTERM after its shutdown hooks, and a signal death writes no profile: exit first.
    const running = await startVariant(key, upstreams, [
      '--cpu-prof',
      '--cpu-prof-dir',
      variantDir,
      '--import',
      'data:text/javascript,process.once("SIGTERM",()=>process.exit(0))',
    ]);
    try {
      console.log(`profile ${key}: ${await sanityCheck(running)}`);
      await slice(running, options.profileConnections, 3, -1);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const sample = await slice(running, options.profileConnections, options.profileS, -1);
      const toUs = Number(process.hrtime.bigint() / 1000n);
      await running.proc.stop();
      const file = readdirSync(variantDir).find((f) => f.endsWith('.cpuprofile'));
      if (file === undefined) throw new Error(`${key}: no .cpuprofile written in ${variantDir}`);
      const profile = JSON.parse(readFileSync(join(variantDir, file), 'utf8')) as CpuProfile;
      const summary: ProfileSummary = {
        variant: key,
        file: join(variantDir, file),
        requests: sample.requests,
        cpuMsPerReq: sample.cpuMsPerReq,
        ...analyseProfile(profile, fromUs, toUs),
      };
      writeFileSync(join(variantDir, 'summary.json'), JSON.stringify(summary, null, 2));
      summaries.push(summary);
    } finally {
      await running.proc.stop();
      await running.receivers?.close();
    }
  }
  return summaries;
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = performance.now();
  // Another `nest build` may be running (it empties dist/ first): wait for it rather than copy half a tree.
  const distMain = join(options.dist, MAIN_IN_DIST);
  for (let waited = 0; !existsSync(distMain); waited += 2) {
    if (waited >= 120) throw new Error(`${distMain} is missing: run "nest build" first`);
    if (waited === 0) console.log('waiting for dist/ (a build is running?)');
    await sleep(2000);
  }
  while (Date.now() - statSync(distMain).mtimeMs < 5000) await sleep(1000);
  mkdirSync(OUT, { recursive: true });
  rmSync(join(OUT, 'logs'), { recursive: true, force: true }); // the previous run's server stdout (tens of MB)
  serverNodeArgs = options.serverNodeArgs;
  const build = buildInfo(options.dist);
  console.log(`build: ${build}`);
  if (options.baselineDist !== undefined) console.log(`baseline (openai-before): ${distInfo(options.baselineDist)}`);
  rmSync(SNAPSHOT, { recursive: true, force: true });
  cpSync(options.dist, SNAPSHOT, { recursive: true });
  rmSync(join(OUT, 'data'), { recursive: true, force: true });
  if (PIN) execFileSync('taskset', ['-pc', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  else console.warn('overhead: fewer than 2 cores or no taskset: running unpinned');
  const info = machine();
  console.log(`machine: ${JSON.stringify(info)}`);

  const shared = await startMock('upstream-mock', LOAD_CORE);
  const upstreams: Upstreams = { shared };
  const procs: Proc[] = [shared.proc];
  const running: Running[] = [];
  const stopAll = async (): Promise<void> => {
    for (const r of running) await r.proc.stop();
    for (const p of procs) await p.stop();
    for (const r of running) await r.receivers?.close();
  };
  const onSignal = (): void => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    if (options.profile.length > 0) {
      const summaries = await profileRun(options, upstreams);
      const text = profileMarkdown(summaries, options);
      console.log(`\n${text}`);
      writeFileSync(join(OUT, 'profile-summary.md'), text);
      console.log(`(written to ${join(OUT, 'profile-summary.md')}; profiles in ${join(OUT, 'profiles')})`);
      return;
    }

    // Cold start first, on an idle server core.
    const cold: RunReport['cold'] = {};
    for (const key of options.coldVariants) {
      cold[key] = await coldStart(key, upstreams, options.coldRuns);
      console.log(`cold start ${key}: ${cold[key].map((t) => t.toFixed(0)).join(', ')} ms`);
    }

    for (let replica = 0; replica < options.replicas; replica++) {
      for (const key of options.variants) running.push(await startVariant(key, upstreams));
    }
    const sanity: RunReport['sanity'] = {};
    for (const r of running) {
      sanity[r.key] = await sanityCheck(r);
      console.log(`sanity ${r.key}: ${sanity[r.key]}`);
    }
    for (const r of running) await slice(r, 10, options.warmupS, 0);

    const samples: Sample[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const [ci, c] of options.connections.entries()) {
        const shift = (round + ci) % running.length;
        const order = [...running.slice(shift), ...running.slice(0, shift)];
        for (const r of order) {
          const s = await slice(r, c, options.sliceS, round);
          samples.push(s);
          console.log(
            `round ${round} c=${c} ${r.key.padEnd(15)} pid ${r.proc.pid} ${fmtInt(s.rps).padStart(6)} req/s  p50 ${fmt(s.p50, 3)}  p99 ${fmt(s.p99, 2)}  cpu ${fmt(s.cpuMsPerReq, 3)} ms/req${s.errors + s.non2xx > 0 ? `  ERRORS ${s.errors + s.non2xx}` : ''}`,
          );
        }
      }
    }

    const rssMiB: RunReport['rssMiB'] = {};
    const telemetry: RunReport['telemetry'] = {};
    await sleep(2500); // let the last trace and metric flushes land
    for (const r of running) {
      // With replicas: the highest peak, and the telemetry of all of them.
      rssMiB[r.key] = Math.max(rssMiB[r.key] ?? 0, peakRssMiB(r.proc.pid));
      if (r.def.provider !== undefined) {
        const sum = telemetry[r.key];
        telemetry[r.key] = {
          statsdLines: (sum?.statsdLines ?? 0) + (r.receivers?.statsdLines ?? 0),
          tracePayloads: (sum?.tracePayloads ?? 0) + (r.receivers?.tracePayloads ?? 0),
          llmobsPayloads: (sum?.llmobsPayloads ?? 0) + (r.receivers?.llmobsPayloads ?? 0),
          logLines: (sum?.logLines ?? 0) + r.proc.stdoutLines(),
        };
      }
    }
    const report: RunReport = {
      options,
      build,
      baseline: options.baselineDist === undefined ? undefined : distInfo(options.baselineDist),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: info,
      loadavgEnd: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      date: new Date().toISOString(),
      wallS: (performance.now() - startedAt) / 1000,
      samples,
      summary: summarise(samples, options.variants, options.connections),
      rssMiB,
      cold,
      telemetry,
      sanity,
    };
    const text = markdown(report);
    console.log(`\n${text}`);
    const raw = join(OUT, `overhead-${report.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(raw, JSON.stringify(report, null, 2));
    console.log(`raw samples: ${raw}`);
    if (options.write) {
      // The dated run goes to the month's history file; bench/RESULTS.md keeps the current tables (edited by hand).
      const results = resolve(BENCH, 'history', `${report.date.slice(0, 7)}.md`);
      const existing = existsSync(results) ? readFileSync(results, 'utf8') : '';
      appendFileSync(
        results,
        `${existing === '' || existing.endsWith('\n\n') ? '' : existing.endsWith('\n') ? '\n' : '\n\n'}${text}`,
      );
      console.log(`appended to ${results}`);
    }
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
