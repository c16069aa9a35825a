import { readFileSync } from 'node:fs';
import { Secret } from './secret';

/** The scopes an API key can hold (docs/security.md): `invoke` the LLM routes, `read` the reports, `admin` the rest. */
export const API_SCOPES = ['invoke', 'read', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** One configured API key: its name (logs, metrics, rate-limit bucket), its scopes and the sha256 of the key. */
export interface ApiKeyEntry {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  /** sha256 of the key, 64 lower-case hex digits. Never printed. */
  readonly sha256: Secret;
}

/** The paths that may be left open to callers without a key (AUTH_OPEN_PATHS), and the default: all of them. */
export const OPENABLE_PATHS = [
  '/health',
  '/health/ready',
  '/docs',
  '/docs-json',
  '/docs-yaml',
  '/openapi.json',
  '/ui',
] as const;

const NAME = /^[a-z0-9_-]{1,40}$/;
const HASH = /^[0-9a-f]{64}$/i;
const FORMAT = '`<name>:<scopes>:<sha256 hex of the key>`';

/**
 * Parses `<name>:<scopes>:<sha256 hex>` entries. Returns the entries or the problems, each naming `where`
 * (`API_KEYS entry 2`, `API_KEYS_FILE line 5`) and the name when it is valid, never the hash or anything else.
 */
export function parseApiKeyEntries(entries: readonly { where: string; text: string }[]): {
  keys: ApiKeyEntry[];
  problems: string[];
} {
  const keys: ApiKeyEntry[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const { where, text } of entries) {
    const parts = text.split(':').map((p) => p.trim());
    if (parts.length !== 3) {
      problems.push(`${where} is not ${FORMAT} (it has ${parts.length} part(s))`);
      continue;
    }
    const [name = '', scopeText = '', hash = ''] = parts;
    if (!NAME.test(name)) {
      problems.push(`${where}: the name must be 1 to 40 characters of a-z, 0-9, _ and -`);
      continue;
    }
    const scopes = scopeText.split('+').map((s) => s.trim());
    const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
    if (scopeText === '' || unknown.length > 0) {
      problems.push(`${where} (${name}): scopes must be ${API_SCOPES.join(', ')} joined by +`);
      continue;
    }
    if (!HASH.test(hash)) {
      problems.push(
        `${where} (${name}): the third part must be the sha256 of the key, 64 hex digits (not the key itself)`,
      );
      continue;
    }
    const lower = hash.toLowerCase();
    if (names.has(name)) problems.push(`${where}: the name ${name} is given twice`);
    else if (hashes.has(lower)) problems.push(`${where} (${name}): the same key hash is given twice`);
    else {
      names.add(name);
      hashes.add(lower);
      const unique = API_SCOPES.filter((s) => scopes.includes(s));
      keys.push(Object.freeze({ name, scopes: Object.freeze(unique), sha256: new Secret(lower) }));
    }
  }
  return { keys, problems };
}

/** The entries of `API_KEYS` (comma-separated) and of the `API_KEYS_FILE` file (one per line, `#` comments). */
export function readApiKeys(
  apiKeys: string | undefined,
  apiKeysFile: string | undefined,
): { keys: ApiKeyEntry[]; problems: string[] } {
  const entries: { where: string; text: string }[] = [];
  const problems: string[] = [];
  (apiKeys ?? '')
    .split(',')
    .map((text) => text.trim())
    .forEach((text, index) => {
      if (text !== '') entries.push({ where: `API_KEYS entry ${index + 1}`, text });
    });
  if (apiKeysFile !== undefined) {
    let content: string | undefined;
    try {
      content = readFileSync(apiKeysFile, 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      problems.push(`API_KEYS_FILE: cannot read ${apiKeysFile} (${code})`);
    }
    content?.split(/\r?\n/).forEach((line, index) => {
      const text = line.replace(/#.*$/, '').trim();
      if (text !== '') entries.push({ where: `API_KEYS_FILE line ${index + 1}`, text });
    });
  }
  const parsed = parseApiKeyEntries(entries);
  return { keys: parsed.keys, problems: [...problems, ...parsed.problems] };
}

/** AUTH_OPEN_PATHS: `none`, or a comma-separated subset of OPENABLE_PATHS. */
export function parseOpenPaths(value: string): { paths: string[]; problems: string[] } {
  if (value.trim().toLowerCase() === 'none') return { paths: [], problems: [] };
  const paths = value
    .split(',')
    .map((p) => p.trim().replace(/(.)\/+$/, '$1'))
    .filter((p) => p !== '');
  const refused = paths.filter((p) => !(OPENABLE_PATHS as readonly string[]).includes(p));
  return {
    paths: [...new Set(paths)],
    problems: refused.map(
      (p) => `AUTH_OPEN_PATHS: ${p.slice(0, 100)} cannot be opened (only ${OPENABLE_PATHS.join(', ')}, or none)`,
    ),
  };
}

/** CORS_ORIGINS: origins (`https://app.example.com`) or `*`; empty: CORS off. */
export function parseCorsOrigins(value: string): { origins: string[]; problems: string[] } {
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  const problems: string[] = [];
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      problems.push(`CORS_ORIGINS: ${origin.slice(0, 100)} is not an origin (scheme://host[:port], no path) or *`);
    }
  }
  return { origins: origins.map((o) => o.replace(/\/$/, '')), problems };
}
