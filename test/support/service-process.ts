import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const MAIN_JS = resolve(__dirname, '../../dist/apps/control-plane/src/main.js');

export interface LogLine {
  level?: string;
  message?: string;
  context?: string;
  dd?: { trace_id?: string; span_id?: string; service?: string; env?: string; version?: string };
  [key: string]: unknown;
}

/**
 * The services started by this test file and not yet seen to exit. A service a file leaves running (a test that
 * failed before its `stop()`, a hook jest timed out while `start()` was still waiting) used to run on until jest
 * exited: in band (`npm test` on a 2-core CI runner) that is every suite after it, sharing the runner's cores with
 * their timing and growth checks. Jest runs a root-level `afterAll` after every `describe`'s own, so the one below
 * stops only what the file's own hooks left running.
 */
const running = new Set<ServiceProcess>();

/** Kills (SIGKILL) every service this test file started and did not stop; their pids, for a note. */
export async function killLeftoverServices(): Promise<number[]> {
  const leftovers = [...running];
  const pids = leftovers.flatMap((service) => (service.pid === undefined ? [] : [service.pid]));
  await Promise.all(leftovers.map((service) => service.kill()));
  return pids;
}

if (typeof afterAll === 'function')
  afterAll(async () => {
    const pids = await killLeftoverServices();
    if (pids.length > 0)
      process.stderr.write(
        `service-process: killed ${pids.length} service(s) the file left running: ${pids.join(', ')}\n`,
      );
  });

/**
 * The built service (`nest build` output) running as a child process, exactly as `npm start` runs it,
 * with its environment set by the test. stdout is parsed as JSON log lines.
 */
export class ServiceProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  url = '';
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private stdoutClosed?: Promise<void>;

  constructor(private readonly env: Record<string, string>) {}

  static assertBuilt(): void {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "nest build" first (npm test does)`);
  }

  logs(): LogLine[] {
    return this.stdout.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  }

  /**
   * Starts the process and resolves once it logs its listening URL. The boot costs about 2 s of CPU; on a 2-core
   * runner shared with other work it took 12-18 s, and past 20 s twice in five suites (the default was 20 s).
   */
  async start(timeoutMs = 60_000): Promise<this> {
    ServiceProcess.assertBuilt();
    const child = spawn(process.execPath, [MAIN_JS], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        DD_AGENT_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        DATA_DIR: resolve(__dirname, '../../.cache/test-data', String(process.pid)),
        // Test-only defaults: the suites call routes without API keys and faster than a client would, so auth and
        // rate limits are off unless a suite sets them (test/auth.e2e-spec.ts sets AUTH_DISABLED=false and
        // API_KEYS from test/support/api-keys.ts). Never a default outside tests (docs/security.md).
        AUTH_DISABLED: 'true',
        RATE_LIMIT_PER_MINUTE: '0',
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    running.add(this);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        running.delete(this);
        resolve(code ?? (signal ? 128 + (signal === 'SIGTERM' ? 15 : 9) : null));
      }),
    );
    this.stdoutClosed = new Promise((resolve) => child.stdout.once('close', () => resolve()));
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      this.stdout.push(...parts.filter((p) => p.trim()));
    });
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
    const deadline = Date.now() + timeoutMs;
    while (!this.url) {
      const line = this.logs().find(
        (l) => typeof l.message === 'string' && l.message.startsWith('control plane listening on '),
      );
      if (line) this.url = line.message!.slice('control plane listening on '.length).trim();
      else if (child.exitCode !== null)
        throw new Error(`service exited with ${child.exitCode}: ${this.stderr.join('')}`);
      else if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`service did not start in ${timeoutMs} ms: ${this.stderr.join('')}${this.stdout.join('\n')}`);
      } else await new Promise((r) => setTimeout(r, 25));
    }
    return this;
  }

  /** Stops reading the service's stdout: the pipe fills and its writes wait, as with a stalled log collector. */
  pauseStdout(): void {
    this.child?.stdout?.pause();
  }

  resumeStdout(): void {
    this.child?.stdout?.resume();
  }

  /** Resolves with the exit code of a process expected to stop by itself (bad configuration). */
  async exitCode(timeoutMs = 60_000): Promise<number | null> {
    ServiceProcess.assertBuilt();
    if (!this.child) {
      const child = spawn(process.execPath, [MAIN_JS], {
        env: { PATH: process.env.PATH ?? '', ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      running.add(this);
      child.stdout.on('data', (c: Buffer) => this.stdout.push(c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => this.stderr.push(c.toString('utf8')));
      this.exited = new Promise((resolve) =>
        child.on('exit', (code) => {
          running.delete(this);
          resolve(code);
        }),
      );
    }
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    const result = await Promise.race([this.exited!, timer]);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error('process did not exit');
    }
    return result;
  }

  /**
   * Waits for a log line matching `predicate` among the lines from index `from` on. A hang guard, not a speed claim:
   * 15 s by default, for a service on a loaded 2-core runner (its boot alone took 12-18 s there).
   */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15_000, from = 0): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs().slice(from).find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`log line not seen in ${timeoutMs} ms; got:\n${this.stdout.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The service's process id, while it runs (for /proc readings). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills the process at once (SIGKILL: a crash, nothing of its shutdown runs) and waits for it to exit. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the process with `signal` (SIGTERM: what an orchestrator sends) and waits for its exit code. */
  async stop(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP' = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
    const result = await Promise.race([this.exited!, timer]);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      return null;
    }
    // Everything the process wrote before it exited has been read once its stdout closes.
    await Promise.race([this.stdoutClosed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    return result;
  }
}
