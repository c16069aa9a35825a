import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL server from the machine's binaries (PostgreSQL 15 under /usr/lib/postgresql, or
 * PG_BIN_DIR, or initdb on PATH): initdb into a temp dir, start on a free loopback port with its unix
 * socket in the temp dir, stop and delete after. PostgreSQL refuses to run as root, so under root (CI)
 * the server runs as the `postgres` user, else `nobody`, with the temp dir handed to that user.
 * Never skips: when it cannot start, `start()` throws with the reason and the server log.
 *
 * The server runs on the machine's real clock, whatever clock the test process is given: libfaketime (`faketime`,
 * used to run a test at 23:59:58 or days ahead) is passed on to children by LD_PRELOAD and FAKETIME, and a
 * PostgreSQL under it never fired its `statement_timeout` (a `pg_sleep(3)` under a 300 ms bound ran 3 s), so
 * test/database-statement-timeout.spec.ts failed under `faketime -f +2d` though the service was right.
 */
export class PostgresTestServer {
  private dir = '';
  private port = 0;
  private runAs: { uid: number; gid: number } | undefined;
  private bin = '';

  /** `env`: the environment the server's tools start from (this process's by default). */
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get url(): string {
    return `postgres://ledger@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    this.bin = findBinDir();
    this.dir = mkdtempSync(join(tmpdir(), 'ledger-pg-'));
    this.runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
    if (this.runAs) {
      chmodSync(this.dir, 0o700);
      chownSync(this.dir, this.runAs.uid, this.runAs.gid);
    }
    this.port = await freePort();
    const data = join(this.dir, 'data');
    this.run('initdb', ['-D', data, '-U', 'ledger', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    try {
      this.run('pg_ctl', ['-D', data, '-o', options, '-l', join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
    } catch (error) {
      const logFile = join(this.dir, 'server.log');
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(no log)';
      throw new Error(`${(error as Error).message}\n--- server.log ---\n${log}`, { cause: error });
    }
  }

  /** Stops immediately (a crash, as far as clients can tell) and starts again on the same port and data. */
  restart(): void {
    const data = join(this.dir, 'data');
    this.run('pg_ctl', ['-D', data, '-m', 'fast', '-l', join(this.dir, 'server.log'), '-w', '-t', '30', 'restart']);
  }

  /** Stops immediately (`pg_ctl stop -m immediate`: a crash, as clients see it), keeping the data for `resume`. */
  halt(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  /** Starts again after `halt`, on the same port and data. */
  resume(): void {
    const data = join(this.dir, 'data');
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    this.run('pg_ctl', ['-D', data, '-o', options, '-l', join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
  }

  /**
   * SIGSTOP to the server and every backend: a frozen host or a network partition, as a client sees it (connections
   * stay open; nothing answers). `thaw` sends SIGCONT.
   */
  freeze(): void {
    for (const pid of this.serverPids()) process.kill(pid, 'SIGSTOP');
  }

  thaw(): void {
    for (const pid of this.serverPids()) process.kill(pid, 'SIGCONT');
  }

  /** The postmaster (first line of postmaster.pid) and its children, from /proc. */
  private serverPids(): number[] {
    const postmaster = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((entry) => {
        try {
          // /proc/<pid>/stat: "pid (comm) state ppid ...": the comm may hold spaces, so read after its last ')'.
          const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  }

  stop(): void {
    if (!this.dir) return;
    try {
      this.thaw();
    } catch {
      // not running
    }
    try {
      this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }

  private run(tool: string, args: string[]): void {
    const command = join(this.bin, tool);
    const result = this.runAs
      ? spawnSync(
          'setpriv',
          [`--reuid=${this.runAs.uid}`, `--regid=${this.runAs.gid}`, '--clear-groups', command, ...args],
          {
            encoding: 'utf8',
            cwd: this.dir,
            env: realClockEnv(this.env),
          },
        )
      : spawnSync(command, args, { encoding: 'utf8', cwd: this.dir, timeout: 60_000, env: realClockEnv(this.env) });
    if (result.error || result.status !== 0) {
      throw new Error(
        `PostgreSQL test server: ${tool} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}${result.stdout}`,
      );
    }
  }
}

/** `env` without what would fake a child's clock (libfaketime's preload and settings). */
export function realClockEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => name !== 'LD_PRELOAD' && !name.startsWith('FAKETIME')),
  );
}

function findBinDir(): string {
  const candidates = [process.env.PG_BIN_DIR, '/usr/lib/postgresql/15/bin'];
  try {
    const versions = execFileSync('ls', ['/usr/lib/postgresql'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const v of versions.sort().reverse()) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian layout
  }
  for (const dir of candidates)
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), '..');
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 15 or set PG_BIN_DIR. ' +
      'The ledger contract suite needs them and never skips.',
  );
}

function unprivilegedUser(): { uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    const result = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (result.status === 0) {
      const uid = Number(result.stdout.trim());
      const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
      return { uid, gid };
    }
  }
  throw new Error('Running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
