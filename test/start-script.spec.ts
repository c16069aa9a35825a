import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The node flags `npm start` (scripts/start.sh) chooses, with `node`, `nproc` and `nest` replaced on the PATH by
 * scripts that print what they were given: the script itself runs as it does for the service and the image.
 */
describe('scripts/start.sh node flags', () => {
  let bin: string;

  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'start-script-'));
    const script = (name: string, body: string): void => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    script('node', 'echo "node $*"');
    script('nest', 'exit 0');
    script('nproc', 'echo "${FAKE_NPROC}"');
  });

  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  /** The flags of the service's `node` (the last one the script runs: it `exec`s it). */
  const flags = (env: Record<string, string>): string[] => {
    const out = execFileSync('sh', ['scripts/start.sh'], {
      cwd: join(__dirname, '..'),
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, ...env },
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

  it('leaves the heap cap to NODE_OPTIONS when it sets one', () => {
    const args = flags({ FAKE_NPROC: '2', NODE_OPTIONS: '--max-old-space-size=1024' });
    expect(args.some((a) => a.startsWith('--max-old-space-size'))).toBe(false);
  });
});
