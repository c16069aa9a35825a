import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

/** A path as given, with where it resolves to when relative (to the working directory). */
export function shownPath(path: string): string {
  return isAbsolute(path) ? `"${path}"` : `"${path}" (${resolve(path)})`;
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/**
 * Why `dir` cannot hold the service's files, or undefined: it must be a directory this process may write in, or be
 * creatable (its nearest existing ancestor is such a directory). Only looks: nothing is created (the stores create
 * it at boot; a file system that refuses anyway is told by them: BootError).
 */
export function directoryProblem(dir: string): string | undefined {
  const target = resolve(dir);
  for (let at = target; ; at = dirname(at)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(at).isDirectory();
    } catch (error) {
      // Missing (or under a file): look at the folder it would be created in.
      if ((code(error) === 'ENOENT' || code(error) === 'ENOTDIR') && dirname(at) !== at) continue;
      return `${shownPath(dir)} cannot be read (${code(error)})`;
    }
    const subject = at === target ? shownPath(dir) : `${shownPath(dir)} cannot be created: "${at}"`;
    if (!isDirectory) return `${subject} is a file, not a directory`;
    try {
      accessSync(at, constants.W_OK | constants.X_OK);
    } catch (error) {
      return `${subject} is not writable by this process (${code(error)})`;
    }
    return undefined;
  }
}

/** Why `dir` is not an existing directory this process can read, or undefined. */
export function existingDirectoryProblem(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return `${shownPath(dir)} is a file, not a directory`;
    accessSync(dir, constants.R_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    return code(error) === 'ENOENT' || code(error) === 'ENOTDIR'
      ? `${shownPath(dir)} does not exist`
      : `${shownPath(dir)} cannot be read (${fsReason(error)})`;
  }
}

/** A file system error as "ENOENT: no such file or directory", without the call and path Node appends. */
function fsReason(error: unknown): string {
  const { message } = error as { message?: unknown };
  return typeof message === 'string' ? message.replace(/, \w+( '.*')?$/s, '') : code(error);
}

/** Why the file at `path` is not readable JSON, or undefined (what it holds is checked by its reader). */
export function jsonFileProblem(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return `${shownPath(path)} cannot be read (${fsReason(error)})`;
  }
  try {
    JSON.parse(text);
  } catch (error) {
    return `${shownPath(path)} is not JSON (${(error as Error).message})`;
  }
  return undefined;
}
