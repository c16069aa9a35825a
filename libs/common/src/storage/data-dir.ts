import { mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BootError } from '@app/config';

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** Whether `path` exists (false when it, or a folder on its way, is missing or a file). */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

/**
 * Creates `dir` and its missing parents one level at a time, and throws ENOTDIR when it exists but is not a
 * directory. Node's `mkdirSync(dir, { recursive: true })` loops forever where a mkdir inside an existing folder
 * answers ENOENT (`/proc/nonexistent/dir` on Linux: 70 % CPU for more than 11 minutes, deaf to SIGTERM); here that
 * mkdir throws.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !exists(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  if (missing.length === 0 && !statSync(dir).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR' });
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (error) {
      // Another process (a replica starting at the same time) made it first.
      if (errorCode(error) !== 'EEXIST' || !statSync(path).isDirectory()) throw error;
    }
  }
}

/**
 * Makes sure the embedded stores can write under DATA_DIR, once at boot before any opens its file: creates the folder
 * and writes and removes a file in it. A failure is a BootError naming DATA_DIR; it catches what `loadConfig`'s check
 * cannot see from permissions alone (a file system that refuses anyway: /sys, /proc, a full disk).
 */
export function prepareDataDir(dir: string): void {
  try {
    makeDirectory(dir);
    const probe = join(dir, `.write-check-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    const { message } = error as { message?: unknown };
    const reason = typeof message === 'string' ? message : String(error);
    throw new BootError('DATA_DIR', `"${dir}" cannot be created or written: ${reason}`, { cause: error });
  }
}
