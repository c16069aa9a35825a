import { closeSync, openSync } from 'node:fs';

/**
 * Runs `fn` with every file descriptor of this process taken (opened on /dev/null until the OS refuses with EMFILE),
 * as a flood of connections leaves a server, then gives them back. Synchronous: nothing else of the process runs in
 * between. Returns what `fn` returned, and whether the limit was really reached.
 */
export function withEveryFileDescriptorTaken<T>(fn: () => T): { value: T; exhausted: boolean } {
  const taken: number[] = [];
  let exhausted = false;
  try {
    for (let i = 0; i < 1_000_000; i++) {
      try {
        taken.push(openSync('/dev/null', 'r'));
      } catch (error) {
        exhausted = (error as NodeJS.ErrnoException).code === 'EMFILE';
        break;
      }
    }
    return { value: fn(), exhausted };
  } finally {
    for (const fd of taken) closeSync(fd);
  }
}
