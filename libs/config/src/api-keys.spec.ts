import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCorsOrigins, parseOpenPaths, readApiKeys } from './api-keys';
import { ConfigError, loadConfig } from './load-config';

const HASH = 'a'.repeat(64);
const HASH2 = 'B'.repeat(64);

function load(env: Record<string, string>): ReturnType<typeof loadConfig> {
  return loadConfig({ envFile: false, env: { DD_TRACE_ENABLED: 'false', ...env } });
}

function problemsOf(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('API_KEYS and API_KEYS_FILE', () => {
  it('reads name:scopes:sha256 entries, scopes in a fixed order, hashes lower-cased and never printable', () => {
    const { keys, problems } = readApiKeys(`ci:read+invoke:${HASH}, ops:admin:${HASH2}`, undefined);
    expect(problems).toEqual([]);
    expect(keys.map((k) => [k.name, k.scopes])).toEqual([
      ['ci', ['invoke', 'read']],
      ['ops', ['admin']],
    ]);
    expect(keys[1]!.sha256.reveal()).toBe('b'.repeat(64));
    expect(JSON.stringify(keys)).not.toContain(HASH);
    expect(String(keys[0]!.sha256)).toBe('[redacted]');
  });

  it('reads a file, one entry per line, with comments and blank lines, merged with API_KEYS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `# the CI\nci:invoke+read+admin:${HASH} # trailing comment\n\n`);
    const { keys, problems } = readApiKeys(`ops:admin:${HASH2}`, file);
    expect(problems).toEqual([]);
    expect(keys.map((k) => k.name)).toEqual(['ops', 'ci']);
  });

  it.each([
    ['ci:invoke', 'API_KEYS entry 1 is not'],
    [`CI:invoke:${HASH}`, 'API_KEYS entry 1: the name must be'],
    [`${'a'.repeat(41)}:invoke:${HASH}`, 'the name must be'],
    [`ci:write:${HASH}`, 'API_KEYS entry 1 (ci): scopes must be invoke, read, admin joined by +'],
    [`ci::${HASH}`, 'scopes must be'],
    [
      'ci:invoke:my-plain-secret-key',
      'the third part must be the sha256 of the key, 64 hex digits (not the key itself)',
    ],
    [`ci:invoke:${HASH},ci:read:${HASH2}`, 'API_KEYS entry 2: the name ci is given twice'],
    [`ci:invoke:${HASH},cd:read:${HASH}`, 'API_KEYS entry 2 (cd): the same key hash is given twice'],
  ])('stops the boot on %s, naming the variable and never echoing the value', (value, message) => {
    const text = problemsOf({ API_KEYS: value });
    expect(text).toContain(message);
    expect(text).not.toContain('my-plain-secret-key');
    expect(text).not.toContain(HASH);
  });

  it('names API_KEYS_FILE when the file cannot be read or a line is wrong', () => {
    expect(problemsOf({ API_KEYS_FILE: '/nonexistent/keys' })).toContain(
      'API_KEYS_FILE: cannot read /nonexistent/keys',
    );
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `# ok\nci:invoke:${HASH}\nsecret-in-the-wrong-place\n`);
    const text = problemsOf({ API_KEYS_FILE: file });
    expect(text).toContain('API_KEYS_FILE line 3 is not');
    expect(text).not.toContain('secret-in-the-wrong-place');
  });

  it('maps to config.security with the defaults: auth on, every openable path open, 600/120 per minute, no CORS', () => {
    const config = load({});
    expect(config.security).toEqual({
      authDisabled: false,
      apiKeys: [],
      openPaths: ['/health', '/health/ready', '/docs', '/docs-json', '/docs-yaml', '/openapi.json', '/ui'],
      rateLimitPerMinute: 600,
      rateLimitAnonymousPerMinute: 120,
      corsOrigins: [],
    });
    expect(config.http.trustProxyHops).toBe(0);
  });
});

describe('AUTH_OPEN_PATHS and CORS_ORIGINS', () => {
  it('opens only the health and docs paths, or none', () => {
    expect(parseOpenPaths('/health, /health/ready/').paths).toEqual(['/health', '/health/ready']);
    expect(parseOpenPaths('none').paths).toEqual([]);
    expect(problemsOf({ AUTH_OPEN_PATHS: '/health,/stress' })).toContain('AUTH_OPEN_PATHS: /stress cannot be opened');
  });

  it('takes origins or *, and refuses paths and other schemes', () => {
    expect(parseCorsOrigins('https://127.0.0.1:8443, http://localhost:5173/').origins).toEqual([
      'https://127.0.0.1:8443',
      'http://localhost:5173',
    ]);
    expect(parseCorsOrigins('*').problems).toEqual([]);
    expect(parseCorsOrigins('https://127.0.0.1:8443/path').problems).toHaveLength(1);
    expect(parseCorsOrigins('ftp://127.0.0.1').problems).toHaveLength(1);
    expect(problemsOf({ CORS_ORIGINS: '127.0.0.1' })).toContain('CORS_ORIGINS: 127.0.0.1 is not an origin');
  });
});
