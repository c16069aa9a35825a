import { readFile, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

/** A runbook key: the monitor file's name under datadog/monitors/ without `.json` (its `runbook:<key>` tag). */
export const RUNBOOK_KEY = /^[a-z0-9-]{1,100}$/;

/** The largest runbook read, in bytes (a runbook is a page of markdown). */
export const RUNBOOK_MAX_BYTES = 64 * 1024;

export interface Runbook {
  /** The key asked for, when it is a valid key; null otherwise. */
  key: string | null;
  markdown: string;
  /** False: the generic runbook (no file for the key, or the key is not a valid key). */
  found: boolean;
}

/** The folder of the runbooks: `runbooks/` at the repository root (the working directory; the image copies it). */
export function defaultRunbooksDir(): string {
  return resolve(process.cwd(), 'runbooks');
}

/** The runbook of a monitor without one of its own. */
export function genericRunbook(monitorName: string): string {
  return [
    '# No runbook for this monitor',
    '',
    `No runbook exists for the monitor "${monitorName}" (no \`runbook:<key>\` tag, or no runbooks/<key>.md for it).`,
    '',
    '## What to do',
    '',
    '1. Open the dashboard and the logs and traces linked on this incident for the service and env.',
    '2. Check `GET /health/ready` and `GET /insights/health-score` of the control plane.',
    '3. Write the runbook (`runbooks/<key>.md`) and tag the monitor `runbook:<key>` once the cause is known.',
  ].join('\n');
}

/**
 * Reads the runbooks (`runbooks/<key>.md`) on demand, so an edited runbook is used at the next incident. A key is
 * `[a-z0-9-]+`: anything else (a path, `..`, a slash, upper case) never reaches the file system, and the resolved
 * path must stay inside the folder (a symbolic link out of it is refused too). An unknown or invalid key gives the
 * generic runbook, which says that none exists for the monitor.
 */
export class RunbookCatalog {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  static isValidKey(key: string): boolean {
    return RUNBOOK_KEY.test(key);
  }

  /** The runbook for `key` (from a `runbook:<key>` tag), or the generic one naming `monitorName`. */
  async get(key: string | undefined, monitorName: string): Promise<Runbook> {
    if (key === undefined || !RunbookCatalog.isValidKey(key)) {
      return { key: null, markdown: genericRunbook(monitorName), found: false };
    }
    const markdown = await this.read(key);
    return markdown === undefined
      ? { key, markdown: genericRunbook(monitorName), found: false }
      : { key, markdown, found: true };
  }

  private async read(key: string): Promise<string | undefined> {
    try {
      const dir = await realpath(this.dir);
      const file = await realpath(join(dir, `${key}.md`));
      if (!file.startsWith(dir + sep)) return undefined;
      const bytes = await readFile(file);
      return bytes.subarray(0, RUNBOOK_MAX_BYTES).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
