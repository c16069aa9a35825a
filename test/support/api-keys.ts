import { createHash } from 'node:crypto';

/**
 * Fixed API keys for tests (never valid anywhere else), one per scope set, and the `API_KEYS` value that
 * configures them: `<name>:<scopes>:<sha256 hex of the key>` entries, comma-separated (docs/security.md).
 *
 * Usage: `new ServiceProcess({ AUTH_DISABLED: 'false', API_KEYS: TEST_API_KEYS_ENV })`, then
 * `authorization: \`Bearer ${TEST_API_KEYS.invoke}\`` (or `x-api-key: TEST_API_KEYS.invoke`).
 */
export type TestKeyName = 'invoke' | 'read' | 'admin' | 'all';
export type Scope = 'invoke' | 'read' | 'admin';

/** The plain keys. Each is 44 characters, like a generated key. */
export const TEST_API_KEYS: Readonly<Record<TestKeyName, string>> = Object.freeze({
  invoke: 'test-invoke-key-0000000000000000000000000000',
  read: 'test-read-key-000000000000000000000000000000',
  admin: 'test-admin-key-00000000000000000000000000000',
  all: 'test-all-scopes-key-000000000000000000000000',
});

/** The scopes each test key holds. */
export const TEST_KEY_SCOPES: Readonly<Record<TestKeyName, readonly Scope[]>> = Object.freeze({
  invoke: ['invoke'],
  read: ['read'],
  admin: ['admin'],
  all: ['invoke', 'read', 'admin'],
});

/** A well-formed key that no configuration holds (401 `invalid`). */
export const TEST_WRONG_API_KEY = 'test-wrong-key-00000000000000000000000000000';

/** sha256 hex of a key: what `API_KEYS` stores (`printf %s "$KEY" | sha256sum`). */
export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** One `API_KEYS` entry. */
export function apiKeyEntry(name: string, scopes: readonly Scope[], key: string): string {
  return `${name}:${scopes.join('+')}:${sha256Hex(key)}`;
}

/** The `API_KEYS` value holding every test key (names `test-invoke`, `test-read`, `test-admin`, `test-all`). */
export const TEST_API_KEYS_ENV: string = (Object.keys(TEST_API_KEYS) as TestKeyName[])
  .map((name) => apiKeyEntry(`test-${name}`, TEST_KEY_SCOPES[name], TEST_API_KEYS[name]))
  .join(',');

/** Environment for a service with auth on and the test keys configured. */
export const TEST_AUTH_ENV: Readonly<Record<string, string>> = Object.freeze({
  AUTH_DISABLED: 'false',
  API_KEYS: TEST_API_KEYS_ENV,
});

/** Headers presenting a test key as `Authorization: Bearer`. */
export function bearer(name: TestKeyName): Record<string, string> {
  return { authorization: `Bearer ${TEST_API_KEYS[name]}` };
}

/** Headers presenting a test key as `x-api-key`. */
export function xApiKey(name: TestKeyName): Record<string, string> {
  return { 'x-api-key': TEST_API_KEYS[name] };
}
