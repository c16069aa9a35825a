import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { placeholdersOf } from '../resource-template';
import { kindOf, REFERENCE_KINDS, RESOURCE_DIRECTORIES, type ResourceKind } from './resource-kinds';

/** One payload file under `datadog/`, as read (placeholders not rendered). */
export interface ResourceFile {
  kind: ResourceKind;
  /** The file name without `.json`: what `[[monitor_id:<key>]]`, `runbook:<key>` and the runbook file use. */
  key: string;
  /** The path relative to the repository root, `datadog/monitors/llm-error-rate.json`. */
  path: string;
  text: string;
  /** Every placeholder of the file, `name` or `name:arg`. */
  placeholders: string[];
  /** The files this one references (`kind/key`), from its `[[<kind>_id:<key>]]` placeholders. */
  references: { kind: ResourceKind; key: string }[];
}

/** A file the loader could not use (not JSON, or a directory holding several kinds and no known type). */
export interface UnreadableResourceFile {
  path: string;
  problem: string;
}

/** `kind/key`: the identity of a file among all files. */
export function resourceId(kind: ResourceKind, key: string): string {
  return `${kind}/${key}`;
}

/** A placeholder that references another file: its kind and key, else undefined. */
export function referenceOf(placeholder: string): { kind: ResourceKind; key: string } | undefined {
  const [name, arg] = placeholder.split(':', 2);
  const kind = name ? REFERENCE_KINDS[name] : undefined;
  return kind && arg ? { kind, key: arg } : undefined;
}

/**
 * Reads every `*.json` of the kind directories under `datadogDir` (the repository's `datadog/`), sorted by path.
 * Placeholders are left as they are; the raw text must still be JSON (placeholders only inside strings).
 */
export function loadResourceFiles(
  datadogDir: string,
  pathPrefix = 'datadog',
): { files: ResourceFile[]; unreadable: UnreadableResourceFile[] } {
  const files: ResourceFile[] = [];
  const unreadable: UnreadableResourceFile[] = [];
  for (const directory of Object.keys(RESOURCE_DIRECTORIES).sort()) {
    const dir = join(datadogDir, directory);
    let names: string[];
    try {
      if (!statSync(dir).isDirectory()) continue;
      names = readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = `${pathPrefix}/${directory}/${name}`;
      const text = readFileSync(join(dir, name), 'utf8');
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch (error) {
        unreadable.push({ path, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` });
        continue;
      }
      const kind = kindOf(directory, payload);
      if (!kind) {
        unreadable.push({ path, problem: `cannot tell the kind of this ${directory} file (data.type)` });
        continue;
      }
      const placeholders = [...new Set(placeholdersOf(text))];
      const references = placeholders.flatMap((p) => {
        const ref = referenceOf(p);
        return ref ? [ref] : [];
      });
      files.push({ kind, key: name.slice(0, -'.json'.length), path, text, placeholders, references });
    }
  }
  return { files, unreadable };
}
