import { createHash } from 'node:crypto';
import { DomainError, type RouteAccess } from '@app/common';
import { loadConfig } from '@app/config';
import { InMemoryMetrics } from '@app/telemetry';
import { AccessPolicy, clientBucketOf, drillRequested, type GuardedRequest } from './access-policy';
import { ApiKeyStore, DEVELOPMENT_KEY_PREFIX } from './api-key.store';
import { RateLimiter } from './rate-limiter';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const KEYS = { invoke: 'k-invoke-0123456789', read: 'k-read-0123456789', admin: 'k-admin-0123456789' };
const API_KEYS = Object.entries(KEYS)
  .map(([scope, key]) => `${scope}:${scope}:${sha(key)}`)
  .concat(`both:invoke+admin:${sha('k-both-0123456789')}`)
  .join(',');

function setup(env: Record<string, string> = {}): {
  policy: AccessPolicy;
  metrics: InMemoryMetrics;
  keys: ApiKeyStore;
} {
  const config = loadConfig({ envFile: false, env: { DD_TRACE_ENABLED: 'false', API_KEYS, ...env } });
  const keys = new ApiKeyStore(config);
  const metrics = new InMemoryMetrics();
  return { policy: new AccessPolicy(config, keys, new RateLimiter(), metrics), metrics, keys };
}

function request(headers: Record<string, string> = {}, extra: Partial<GuardedRequest> = {}): GuardedRequest {
  return { method: 'POST', url: '/qa', ip: '10.0.0.1', headers, routeOptions: { url: '/qa' }, ...extra };
}

/** The status and code a request gets, or 'ok'. */
function outcome(
  policy: AccessPolicy,
  req: GuardedRequest,
  access: RouteAccess | undefined,
  openPath?: string,
): string {
  try {
    policy.authorize(req, access, openPath);
    return 'ok';
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return `${error.status} ${error.code}`;
  }
}

const INVOKE: RouteAccess = { kind: 'scope', scope: 'invoke', drills: 'admin' };

describe('AccessPolicy', () => {
  it('401 without a key (WWW-Authenticate: Bearer), 401 with an unknown or malformed one, 403 naming the scope', () => {
    const { policy, metrics } = setup();
    expect(outcome(policy, request(), INVOKE)).toBe('401 UNAUTHORIZED');
    expect(outcome(policy, request({ authorization: 'Bearer nope' }), INVOKE)).toBe('401 UNAUTHORIZED');
    expect(outcome(policy, request({ authorization: `Basic ${KEYS.invoke}` }), INVOKE)).toBe('401 UNAUTHORIZED');
    expect(outcome(policy, request({ authorization: `Bearer ${KEYS.read}` }), INVOKE)).toBe('403 FORBIDDEN');
    expect(outcome(policy, request({ authorization: `Bearer ${KEYS.invoke}` }), INVOKE)).toBe('ok');
    expect(outcome(policy, request({ 'x-api-key': KEYS.invoke }), INVOKE)).toBe('ok');
    try {
      policy.authorize(request(), INVOKE);
    } catch (error) {
      expect((error as DomainError).headers).toEqual({ 'www-authenticate': 'Bearer' });
    }
    try {
      policy.authorize(request({ 'x-api-key': KEYS.read }), INVOKE);
    } catch (error) {
      expect((error as DomainError).detail).toContain('invoke scope');
      expect((error as DomainError).extensions).toEqual({ requiredScope: 'invoke' });
    }
    const reasons = metrics.recorded.filter((m) => m.name === 'http.auth.rejected').map((m) => m.tags[0]);
    expect(reasons).toEqual([
      'reason:missing',
      'reason:invalid',
      'reason:invalid',
      'reason:scope',
      'reason:missing',
      'reason:scope',
    ]);
  });

  it('the simulate_* drills need the admin scope too; a drill turned off is no drill', () => {
    const { policy } = setup();
    const drill = (query: Record<string, string>, key: string): string =>
      outcome(policy, request({ 'x-api-key': key }, { query }), INVOKE);
    expect(drill({ simulate_long_context: 'true' }, KEYS.invoke)).toBe('403 FORBIDDEN');
    expect(drill({ simulate_long_context: 'false', simulate_retry: '0' }, KEYS.invoke)).toBe('ok');
    // As a Python client spells them off (requests writes False), and as FastAPI took them: no drill.
    expect(drill({ simulate_latency: 'False', simulate_retry: 'no', simulate_bad_prompt: 'OFF' }, KEYS.invoke)).toBe(
      'ok',
    );
    expect(drill({ simulate_latency: 'True' }, KEYS.invoke)).toBe('403 FORBIDDEN');
    expect(drill({ simulate_latency: 'maybe' }, KEYS.invoke)).toBe('403 FORBIDDEN');
    expect(drill({ simulate_latency: '1' }, 'k-both-0123456789')).toBe('ok');
    expect(drill({ simulate_latency: '1' }, KEYS.admin)).toBe('403 FORBIDDEN');
    expect(drillRequested({ simulate_x: ['false', 'true'] })).toBe(true);
    expect(drillRequested({ other: 'true' })).toBe(false);
  });

  it('says in words why a key is refused, and what a drill needs (was "not valid: the key is not valid")', () => {
    const { policy } = setup();
    const detail = (headers: Record<string, string>, query: Record<string, string> = {}): string => {
      try {
        policy.authorize(request(headers, { query }), INVOKE);
      } catch (error) {
        return (error as DomainError).detail;
      }
      return 'ok';
    };
    expect(detail({ authorization: 'Bearer nope' })).toBe('The API key is not valid: it matches no configured key.');
    expect(detail({ 'x-api-key': 'k'.repeat(600) })).toBe(
      'The API key is not valid: it is longer than 512 characters.',
    );
    expect(detail({ 'x-api-key': KEYS.invoke }, { simulate_retry: 'true' })).toMatch(
      /^Turning on a simulate_\* drill of \S+ \S+ needs an API key with the admin scope; this key does not have it\.$/,
    );
  });

  it('open routes answer without a key unless AUTH_OPEN_PATHS closes them (then read); own-auth routes pass', () => {
    const open: RouteAccess = { kind: 'open' };
    const health = (headers: Record<string, string>, policy: AccessPolicy): string =>
      outcome(
        policy,
        request(headers, { method: 'GET', url: '/health/ready', routeOptions: { url: '/health/ready' } }),
        open,
      );
    expect(health({}, setup().policy)).toBe('ok');
    const closed = setup({ AUTH_OPEN_PATHS: '/health' }).policy;
    expect(health({}, closed)).toBe('401 UNAUTHORIZED');
    expect(health({ 'x-api-key': KEYS.invoke }, closed)).toBe('403 FORBIDDEN');
    expect(health({ 'x-api-key': KEYS.read }, closed)).toBe('ok');
    expect(outcome(setup().policy, request(), { kind: 'own', scheme: 'webhook-secret' })).toBe('ok');
  });

  it("an open route may answer for another path's AUTH_OPEN_PATHS entry (every /ui/... route for /ui)", () => {
    const ui: RouteAccess = { kind: 'open', openPath: '/ui' };
    const asset = (headers: Record<string, string>, policy: AccessPolicy): string =>
      outcome(
        policy,
        request(headers, { method: 'GET', url: '/ui/assets/main.js', routeOptions: { url: '/ui/assets/:file' } }),
        ui,
      );
    expect(asset({}, setup().policy)).toBe('ok');
    const closed = setup({ AUTH_OPEN_PATHS: '/health,/docs' }).policy;
    expect(asset({}, closed)).toBe('401 UNAUTHORIZED');
    expect(asset({ 'x-api-key': KEYS.read }, closed)).toBe('ok');
  });

  it('refuses a route with no access rule to everyone, even a key with every scope (deny by default)', () => {
    const { policy } = setup();
    expect(outcome(policy, request(), undefined)).toBe('401 UNAUTHORIZED');
    expect(outcome(policy, request({ 'x-api-key': 'k-both-0123456789' }), undefined)).toBe('403 FORBIDDEN');
  });

  it('rate-limits per key, and per client IP without a valid key, with Retry-After', () => {
    const { policy, metrics } = setup({ RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2' });
    const byKey = (): string => outcome(policy, request({ 'x-api-key': KEYS.invoke }), INVOKE);
    expect([byKey(), byKey(), byKey(), byKey()]).toEqual(['ok', 'ok', 'ok', '429 RATE_LIMITED']);
    // Another key, and anonymous callers, have their own buckets.
    expect(outcome(policy, request({ 'x-api-key': 'k-both-0123456789' }), INVOKE)).toBe('ok');
    const anonymous = (ip: string): string => outcome(policy, request({ 'x-api-key': 'guess' }, { ip }), INVOKE);
    expect([anonymous('10.0.0.9'), anonymous('10.0.0.9'), anonymous('10.0.0.9')]).toEqual([
      '401 UNAUTHORIZED',
      '401 UNAUTHORIZED',
      '429 RATE_LIMITED',
    ]);
    expect(anonymous('10.0.0.10')).toBe('401 UNAUTHORIZED');
    try {
      byKey();
    } catch (error) {
      expect(Number((error as DomainError).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const limited = metrics.recorded.filter((m) => m.name === 'http.rate_limited').map((m) => m.tags[0]);
    expect(limited).toEqual(['principal:key', 'principal:anonymous', 'principal:key']);
  });

  it('counts an IPv6 caller by its /64 (it holds every address in it), an IPv4 one by its address', () => {
    const { policy } = setup({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2' });
    const anonymous = (ip: string): string => outcome(policy, request({}, { ip }), INVOKE);
    expect([anonymous('2001:db8:0:1::1'), anonymous('2001:db8:0:1::2'), anonymous('2001:db8:0:1:ffff::9')]).toEqual([
      '401 UNAUTHORIZED',
      '401 UNAUTHORIZED',
      '429 RATE_LIMITED',
    ]);
    expect(anonymous('2001:db8:0:2::1')).toBe('401 UNAUTHORIZED');
    expect(clientBucketOf('2001:db8::1')).toBe('ip:2001:db8:0:0::/64');
    expect(clientBucketOf('2001:DB8:0:0:1:2:3:4')).toBe('ip:2001:db8:0:0::/64');
    expect(clientBucketOf('fe80::1%eth0')).toBe('ip:fe80:0:0:0::/64');
    expect(clientBucketOf('::1')).toBe('ip:0:0:0:0::/64');
    expect(clientBucketOf('64:ff9b::192.0.2.1')).toBe('ip:64:ff9b:0:0::/64');
    expect(clientBucketOf('::ffff:192.0.2.7')).toBe('ip:192.0.2.7');
    expect(clientBucketOf('192.0.2.7')).toBe('ip:192.0.2.7');
    expect(clientBucketOf(undefined)).toBe('ip:unknown');
  });

  it('AUTH_DISABLED lets everything through, still rate-limited per IP at the per-key rate', () => {
    const { policy, keys } = setup({ AUTH_DISABLED: 'true', RATE_LIMIT_PER_MINUTE: '1' });
    expect(keys.mode).toBe('disabled');
    expect(outcome(policy, request(), undefined)).toBe('ok');
    expect(outcome(policy, request(), { kind: 'scope', scope: 'admin' })).toBe('429 RATE_LIMITED');
  });
});

describe('ApiKeyStore', () => {
  it('without API_KEYS generates one development key with every scope, handed out once', () => {
    const config = loadConfig({ envFile: false, env: { DD_TRACE_ENABLED: 'false' } });
    const store = new ApiKeyStore(config);
    expect(store.mode).toBe('development');
    const key = store.takeDevelopmentKey()!;
    expect(key.startsWith(DEVELOPMENT_KEY_PREFIX)).toBe(true);
    expect(key.length).toBeGreaterThan(40);
    expect(store.takeDevelopmentKey()).toBeUndefined();
    expect(store.identify({ authorization: `Bearer ${key}` })).toEqual({
      kind: 'key',
      name: 'development',
      scopes: ['invoke', 'read', 'admin'],
    });
    // Another process (another store) has another key.
    const other = new ApiKeyStore(config);
    expect(other.identify({ authorization: `Bearer ${key}` }).kind).toBe('invalid');
  });

  it('reads Authorization first, refuses a header given twice and over-long keys', () => {
    const store = setup().keys;
    expect(store.identify({ authorization: `bearer ${KEYS.read}`, 'x-api-key': KEYS.invoke })).toMatchObject({
      name: 'read',
    });
    expect(store.identify({ 'x-api-key': [KEYS.read, KEYS.read] }).kind).toBe('invalid');
    expect(store.identify({ 'x-api-key': 'x'.repeat(10_000) }).kind).toBe('invalid');
    expect(store.identify({ authorization: '  ' }).kind).toBe('missing');
  });

  it("refuses a key header sent twice that Node's headers hide (only the first Authorization is kept)", () => {
    const store = setup().keys;
    // What Node leaves in `headers` for two Authorization lines: the first one only.
    const headers = { authorization: `Bearer ${KEYS.read}` };
    const raw = (...lines: string[][]): string[] => lines.flat();
    expect(store.identify(headers, raw(['Authorization', `Bearer ${KEYS.read}`]))).toMatchObject({ name: 'read' });
    expect(
      store.identify(headers, raw(['Authorization', `Bearer ${KEYS.read}`], ['authorization', 'Bearer wrong'])),
    ).toEqual({ kind: 'invalid', why: 'a key header is given twice' });
    expect(
      store.identify(headers, raw(['AUTHORIZATION', `Bearer ${KEYS.read}`], ['Authorization', `Bearer ${KEYS.read}`])),
    ).toMatchObject({ kind: 'invalid' });
    expect(
      store.identify({ 'x-api-key': `${KEYS.read}, x` }, raw(['x-api-key', KEYS.read], ['X-Api-Key', 'x'])),
    ).toEqual({ kind: 'invalid', why: 'a key header is given twice' });
    // One of each is not "twice": Authorization is read first.
    expect(
      store.identify(
        { ...headers, 'x-api-key': 'wrong' },
        raw(['host', 'x'], ['authorization', `Bearer ${KEYS.read}`], ['x-api-key', 'wrong']),
      ),
    ).toMatchObject({ name: 'read' });
  });

  it('reads the raw header lines of the request it authorizes', () => {
    const { policy } = setup();
    const headers = { authorization: `Bearer ${KEYS.invoke}` };
    const rawHeaders = ['authorization', `Bearer ${KEYS.invoke}`, 'authorization', 'Bearer wrong'];
    expect(outcome(policy, request(headers, { raw: { rawHeaders } }), INVOKE)).toBe('401 UNAUTHORIZED');
    expect(outcome(policy, request(headers, { raw: { rawHeaders: rawHeaders.slice(0, 2) } }), INVOKE)).toBe('ok');
  });
});
