import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The node flags `npm start` (scripts/start.sh) chooses, with `node`, `nproc` and `nest` replaced on the PATH by
 * scripts that print what they were given: the script itself runs as it does for the service and the image.
 */
describe('scripts/start.sh node flags', () => {
  let bin: string;
  /** An empty cgroup mount unless a test writes one: the machine's own quota must not decide these tests. */
  let cgroups: string;

  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'start-script-'));
    cgroups = mkdtempSync(join(tmpdir(), 'start-script-cgroup-'));
    const script = (name: string, body: string): void => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    script('node', 'echo "node $*"');
    script('nest', 'exit 0');
    script('nproc', 'echo "${FAKE_NPROC}"');
  });

  afterAll(() => {
    rmSync(bin, { recursive: true, force: true });
    rmSync(cgroups, { recursive: true, force: true });
  });

  /** The flags of the service's `node` (the last one the script runs: it `exec`s it). */
  const flags = (env: Record<string, string>): string[] => {
    const out = execFileSync('sh', ['scripts/start.sh'], {
      cwd: join(__dirname, '..'),
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, CGROUP_FS: join(cgroups, 'none'), ...env },
      encoding: 'utf8',
    });
    const lines = out.trim().split('\n');
    return lines.at(-1)!.split(' ').slice(1);
  };

  it('runs the service with the memory flags and exposes gc for the idle memory release', () => {
    const args = flags({ FAKE_NPROC: '2' });
    expect(args.at(-1)).toBe('dist/apps/control-plane/src/main.js');
    expect(args).toEqual(
      expect.arrayContaining(['--expose-gc', '--max-semi-space-size=8', '--max-old-space-size=320']),
    );
    // Two cores or more: V8's own worker pool.
    expect(args.some((a) => a.startsWith('--v8-pool-size'))).toBe(false);
  });

  it('gives V8 one worker thread on a single core, unless NODE_OPTIONS sets its own', () => {
    expect(flags({ FAKE_NPROC: '1' })).toContain('--v8-pool-size=1');
    const own = flags({ FAKE_NPROC: '1', NODE_OPTIONS: '--v8-pool-size=2' });
    expect(own.some((a) => a.startsWith('--v8-pool-size'))).toBe(false);
  });

  /** A cgroup mount holding `files` (path → content), as a container's /sys/fs/cgroup. */
  const mount = (name: string, files: Record<string, string>): string => {
    const dir = join(cgroups, name);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return dir;
  };
  const pooled = (args: string[]): boolean => args.includes('--v8-pool-size=1');

  it('counts a CPU quota of one core or less as one core, though nproc sees more (cgroup v2 and v1)', () => {
    const v2 = (content: string): boolean =>
      pooled(flags({ FAKE_NPROC: '8', CGROUP_FS: mount(`v2-${content.replace(/\W/g, '_')}`, { 'cpu.max': content }) }));
    expect(v2('100000 100000\n')).toBe(true); // docker --cpus=1
    expect(v2('50000 100000\n')).toBe(true); // half a core
    expect(v2('150000 100000\n')).toBe(false); // 1.5 cores: two
    expect(v2('max 100000\n')).toBe(false); // no quota
    expect(v2('garbage\n')).toBe(false);

    const v1 = (quota: string, period: string): boolean =>
      pooled(
        flags({
          FAKE_NPROC: '8',
          CGROUP_FS: mount(`v1-${quota}-${period}`, {
            'cpu/cpu.cfs_quota_us': `${quota}\n`,
            'cpu/cpu.cfs_period_us': `${period}\n`,
          }),
        }),
      );
    expect(v1('100000', '100000')).toBe(true);
    expect(v1('-1', '100000')).toBe(false); // no quota
    expect(v1('400000', '100000')).toBe(false);

    // A quota above what nproc reports leaves nproc's count: a pinned process on one core is still one core.
    expect(pooled(flags({ FAKE_NPROC: '1', CGROUP_FS: mount('v2-four', { 'cpu.max': '400000 100000\n' }) }))).toBe(
      true,
    );
  });

  it('leaves the heap cap to NODE_OPTIONS when it sets one', () => {
    const args = flags({ FAKE_NPROC: '2', NODE_OPTIONS: '--max-old-space-size=1024' });
    expect(args.some((a) => a.startsWith('--max-old-space-size'))).toBe(false);
  });
});
