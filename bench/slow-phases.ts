/**
 * Where a call's time goes with a slow upstream and many calls in flight (issue 19): the control plane from dist/,
 * with `npm start`'s node flags, against bench/mock-upstream.ts answering after --delay-ms, loaded by bench/load.ts
 * with --connections closed-loop connections for --seconds. Its traces go to a loopback trace agent here, which
 * decodes them (msgpack, `PUT /v0.4/traces`); per call, from the `web.request` span and its `llm.generate`
 * (the upstream attempt) span:
 *
 * - before: from the server span's start to the upstream attempt's start (routing, validation, inspection...);
 * - upstream: the attempt's span, i.e. the upstream's delay plus the time its answer waited for the event loop;
 * - after: from the attempt's end to the server span's end (scoring, the response);
 * - outside: what the client measured minus the server span (the request waiting to be read, the response to be sent).
 *
 * Run: `sh scripts/node24.sh node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON bench/slow-phases.ts
 * [--connections 500] [--seconds 8] [--delay-ms 1000]` (after `nest build`). Server pinned to core 1, the rest to
 * core 0, when there are 2 cores and taskset. Loopback only.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '@msgpack/msgpack';
import type { LoadResult } from './load.ts';

/** Run from the repository's root, as `npm run bench` is. */
const ROOT = process.cwd();
const PIN = cpus().length >= 2 && existsSync('/usr/bin/taskset');
/** The node flags of `npm start` (scripts/start.sh). */
const SERVICE_FLAGS = ['--expose-gc', '--max-semi-space-size=8', '--max-old-space-size=320'];
const TS_FLAGS = ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'];

interface Span {
  name: string;
  span_id: bigint | number;
  parent_id: bigint | number;
  start: bigint | number;
  duration: bigint | number;
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

function run(core: number, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [command, argv] = PIN ? ['taskset', ['-c', String(core), process.execPath, ...args]] : [process.execPath, args];
  return spawn(command, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
}

const firstLine = (proc: ChildProcess): Promise<string> =>
  new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code} before printing`)));
  });

const pct = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
};

const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

async function load(url: string, connections: number, durationS: number): Promise<LoadResult> {
  const body = JSON.stringify({
    model: 'gemini-2.5-flash',
    messages: [
      { role: 'user', content: 'Explain in two sentences why retries with jitter help an overloaded service.' },
    ],
  });
  const spec = { url: `${url}/v1/chat/completions`, connections, durationS, method: 'POST', body };
  const proc = run(0, [...TS_FLAGS, join(ROOT, 'bench/load.ts'), JSON.stringify(spec)]);
  return JSON.parse(await firstLine(proc)) as LoadResult;
}

async function main(): Promise<void> {
  const connections = option('connections', 500);
  const seconds = option('seconds', 8);
  const delayMs = option('delay-ms', 1000);
  if (!existsSync(join(ROOT, 'dist/apps/control-plane/src/main.js'))) throw new Error('run `nest build` first');
  if (PIN) execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });

  const mock = run(0, [...TS_FLAGS, join(ROOT, 'bench/mock-upstream.ts'), '--delay-ms', String(delayMs)]);
  const mockPort = (JSON.parse(await firstLine(mock)) as { port: number }).port;
  const statsd = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => statsd.bind(0, '127.0.0.1', resolve));
  statsd.on('message', () => undefined);
  let collecting = false;
  const traces: Span[][] = [];
  const agent = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      if (collecting && req.url?.startsWith('/v0.4/traces')) traces.push(...(decode(Buffer.concat(parts)) as Span[][]));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));

  const port = await new Promise<number>((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'slow-phases-'));
  const service = run(1, [...SERVICE_FLAGS, 'dist/apps/control-plane/src/main.js'], {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    DD_ENV: 'bench',
    DD_AGENT_HOST: '127.0.0.1',
    DD_DOGSTATSD_PORT: String(statsd.address().port),
    DD_TRACE_AGENT_URL: `http://127.0.0.1:${(agent.address() as AddressInfo).port}`,
    DD_TRACE_ENABLED: 'true',
    LLM_PROVIDER: 'openai',
    LLM_MODEL: 'gemini-2.5-flash',
    OPENAI_BASE_URL: `http://127.0.0.1:${mockPort}`,
    // As in bench/overhead.ts: no key, no rate limit, no saturation shedding in a closed loop.
    AUTH_DISABLED: 'true',
    RATE_LIMIT_PER_MINUTE: '0',
    LLM_SHED_ELU: '0',
    LLM_SHED_EVENT_LOOP_DELAY_MS: '0',
  });
  service.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (i > 300) throw new Error('the service did not become healthy');
      const ok = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await load(url, 10, 3);
    collecting = true;
    const before = cpuMs(service.pid!);
    const result = await load(url, connections, seconds);
    await new Promise((r) => setTimeout(r, delayMs + 1500));
    const cpuPerCall = (cpuMs(service.pid!) - before) / result.requests;
    await new Promise((r) => setTimeout(r, 2500)); // dd-trace flushes every 2 s
    collecting = false;

    const phases = { before: [] as number[], upstream: [] as number[], after: [] as number[], server: [] as number[] };
    const ms = (v: bigint | number): number => Number(v) / 1e6;
    for (const trace of traces) {
      const root = trace.find((s) => s.name === 'web.request');
      const attempts = trace.filter((s) => s.name === 'llm.generate');
      if (!root || attempts.length !== 1) continue;
      const attempt = attempts[0]!;
      const rootStart = ms(root.start);
      const attemptStart = ms(attempt.start);
      const attemptEnd = attemptStart + ms(attempt.duration);
      phases.before.push(attemptStart - rootStart);
      phases.upstream.push(ms(attempt.duration));
      phases.after.push(rootStart + ms(root.duration) - attemptEnd);
      phases.server.push(ms(root.duration));
    }
    const row = (name: string, v: number[]): string =>
      `| ${name} | ${v.length} | ${pct(v, 0.5).toFixed(1)} | ${pct(v, 0.9).toFixed(1)} | ${pct(v, 0.99).toFixed(1)} |`;
    console.log(
      [
        `${connections} connections, ${seconds} s, upstream ${delayMs} ms: ${result.requests} answers (${result.rps.toFixed(0)}/s), ` +
          `${cpuPerCall.toFixed(3)} ms CPU per call, ${result.non2xx} non-2xx; ${traces.length} traces received`,
        '',
        '| phase (ms) | calls | p50 | p90 | p99 |',
        '|---|---:|---:|---:|---:|',
        row('before the upstream attempt', phases.before),
        row(`upstream attempt (the mock: ${delayMs})`, phases.upstream),
        row('after it', phases.after),
        row('server span', phases.server),
        `| client (load generator) | ${result.requests} | ${result.p50.toFixed(1)} | ${result.p90.toFixed(1)} | ${result.p99.toFixed(1)} |`,
      ].join('\n'),
    );
  } finally {
    service.kill('SIGTERM');
    mock.kill('SIGTERM');
    statsd.close();
    agent.close();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
