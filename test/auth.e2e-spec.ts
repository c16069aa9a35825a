import { request as httpRequest } from 'node:http';
import { DogStatsdReceiver } from './support/dogstatsd-receiver';
import {
  bearer,
  TEST_API_KEYS,
  TEST_API_KEYS_ENV,
  TEST_KEY_SCOPES,
  TEST_WRONG_API_KEY,
  type TestKeyName,
  xApiKey,
} from './support/api-keys';
import { ServiceProcess } from './support/service-process';

/**
 * Issue 16, security, on the built service: every route × (no key, a wrong key, each scope) answers the expected
 * 401 / 403 / its own status; problem+json or OpenAI error bodies; the drills need `admin`; the webhook keeps its own
 * secret; rate limits with Retry-After; CORS off by default; security headers on every answer; the body limit on
 * every POST route; the development key; AUTH_DISABLED's warning; a bad API_KEYS stops the boot.
 */
const WEBHOOK_SECRET = 'auth-e2e-webhook-secret-0001';
const AUTH_ENV = {
  AUTH_DISABLED: 'false',
  API_KEYS: TEST_API_KEYS_ENV,
  SIM_LATENCY_MEDIAN_MS: '1',
  INCIDENTS_WEBHOOK_SECRET: WEBHOOK_SECRET,
};

type Access = 'open' | 'own' | 'invoke' | 'read' | 'admin';

interface RouteCase {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  access: Access;
  body?: unknown;
  headers?: Record<string, string>;
  /** The status once the caller is let through (the route's own answer with this request). */
  ok: number;
}

const ROUTES: RouteCase[] = [
  { method: 'GET', path: '/health', access: 'open', ok: 200 },
  { method: 'GET', path: '/health/ready', access: 'open', ok: 200 },
  { method: 'GET', path: '/docs', access: 'open', ok: 200 },
  { method: 'GET', path: '/docs-json', access: 'open', ok: 200 },
  { method: 'GET', path: '/openapi.json', access: 'open', ok: 200 },
  { method: 'POST', path: '/qa', access: 'invoke', body: { question: 'Hi?' }, ok: 200 },
  { method: 'POST', path: '/reason', access: 'invoke', body: { prompt: 'Why?' }, ok: 200 },
  { method: 'POST', path: '/stress', access: 'admin', body: { prompt: 'x', repetitions: 2 }, ok: 200 },
  {
    method: 'POST',
    path: '/v1/chat/completions',
    access: 'invoke',
    body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }] },
    ok: 200,
  },
  { method: 'GET', path: '/v1/models', access: 'invoke', ok: 200 },
  { method: 'GET', path: '/v1/models/gemini-2.5-flash', access: 'invoke', ok: 200 },
  { method: 'GET', path: '/forecast/cost?hours=2', access: 'read', ok: 200 },
  { method: 'GET', path: '/usage/spend?hours=2', access: 'read', ok: 200 },
  { method: 'GET', path: '/insights/health-score', access: 'read', ok: 200 },
  { method: 'GET', path: '/llm/router', access: 'read', ok: 200 },
  { method: 'GET', path: '/llm/drills/faults', access: 'read', ok: 200 },
  { method: 'POST', path: '/llm/drills/faults', access: 'admin', body: { slow_rate: 0.01, duration_s: 1 }, ok: 200 },
  { method: 'DELETE', path: '/llm/drills/faults', access: 'admin', ok: 200 },
  { method: 'POST', path: '/insights', access: 'read', body: { avg_latency_ms: 100 }, ok: 200 },
  { method: 'POST', path: '/optimization/attribute-anomaly', access: 'read', body: { metric: 'cost' }, ok: 200 },
  { method: 'POST', path: '/optimization/anomaly/attribute?metric_name=cost', access: 'read', ok: 200 },
  { method: 'GET', path: '/optimization/recommendations', access: 'read', ok: 200 },
  { method: 'GET', path: '/optimization/recommendations/no-such-id', access: 'read', ok: 404 },
  { method: 'GET', path: '/optimization/roi-report', access: 'read', ok: 200 },
  { method: 'POST', path: '/optimization/roi-report', access: 'read', body: { days: 7 }, ok: 200 },
  {
    method: 'POST',
    path: '/optimization/recommendations',
    access: 'admin',
    body: {
      title: 'Cache answers',
      category: 'caching',
      description: 'Cache repeated questions',
      estimated_savings_per_request: 0.001,
      estimated_savings_percentage: 10,
    },
    ok: 201,
  },
  { method: 'POST', path: '/optimization/recommendations/no-such-id/implement', access: 'admin', body: {}, ok: 404 },
  {
    method: 'POST',
    path: '/optimization/recommendations/no-such-id/record-result',
    access: 'admin',
    body: {},
    ok: 404,
  },
  { method: 'GET', path: '/incidents', access: 'read', ok: 200 },
  { method: 'GET', path: '/incidents/status', access: 'read', ok: 200 },
  {
    method: 'POST',
    path: '/incidents/create',
    access: 'admin',
    body: { monitor_name: 'auth e2e', alert_message: 'x', runbook: 'y' },
    ok: 202,
  },
  {
    method: 'POST',
    path: '/incidents/create-from-insight',
    access: 'admin',
    body: { insight_type: 'cost', title: 't', description: 'd', recommendations: ['r'] },
    ok: 202,
  },
  {
    method: 'POST',
    path: '/incidents/webhook',
    access: 'own',
    headers: { 'x-webhook-secret': WEBHOOK_SECRET },
    body: { title: 'auth e2e', transition: 'Warn', alert_id: '1' },
    ok: 200,
  },
  { method: 'GET', path: '/datadog/products', access: 'read', ok: 200 },
  { method: 'POST', path: '/datadog/synthetics/create', access: 'admin', body: { kind: 'health' }, ok: 409 },
  { method: 'POST', path: '/datadog/notebooks/create', access: 'admin', body: { template: 'root-cause' }, ok: 503 },
  {
    method: 'POST',
    path: '/datadog/workflows/trigger',
    access: 'admin',
    body: { workflow_id: '11111111-2222-4333-8444-555555555555' },
    ok: 503,
  },
];

type Caller = 'none' | 'wrong' | TestKeyName;
const CALLERS: Caller[] = ['none', 'wrong', 'invoke', 'read', 'admin', 'all'];

function headersOf(caller: Caller): Record<string, string> {
  if (caller === 'none') return {};
  if (caller === 'wrong') return { authorization: `Bearer ${TEST_WRONG_API_KEY}` };
  // Half the keys as x-api-key, half as Bearer: both are accepted.
  return caller === 'read' || caller === 'all' ? xApiKey(caller) : bearer(caller);
}

function expected(route: RouteCase, caller: Caller): number {
  if (route.access === 'open' || route.access === 'own') return route.ok;
  if (caller === 'none' || caller === 'wrong') return 401;
  return TEST_KEY_SCOPES[caller].includes(route.access) ? route.ok : 403;
}

function call(base: string, route: RouteCase, headers: Record<string, string>, query = ''): Promise<Response> {
  const path = query ? `${route.path}${route.path.includes('?') ? '&' : '?'}${query}` : route.path;
  return fetch(`${base}${path}`, {
    method: route.method,
    headers: {
      ...(route.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...route.headers,
      ...headers,
    },
    body: route.body !== undefined ? JSON.stringify(route.body) : undefined,
  });
}

/**
 * A GET that sends each header as the lines given: fetch joins a repeated header into one line, Node's client sends
 * an array as one line per value (as curl does with `-H` twice).
 */
function getWithHeaderLines(url: string, headers: Record<string, string[]>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    for (const [name, values] of Object.entries(headers)) req.setHeader(name, values);
    req.on('error', reject);
    req.end();
  });
}

describe('auth matrix: every route × (no key, wrong key, each scope)', () => {
  let service: ServiceProcess;
  let statsd: DogStatsdReceiver;

  beforeAll(async () => {
    statsd = await new DogStatsdReceiver().start();
    service = await new ServiceProcess({ ...AUTH_ENV, DD_DOGSTATSD_PORT: String(statsd.port) }).start();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await statsd?.close();
  });

  it('answers 401 / 403 / the route’s own status for each caller', async () => {
    const mismatches: string[] = [];
    for (const route of ROUTES) {
      for (const caller of CALLERS) {
        const res = await call(service.url, route, headersOf(caller));
        const want = expected(route, caller);
        if (res.status !== want) {
          mismatches.push(
            `${route.method} ${route.path} as ${caller}: ${res.status}, expected ${want}: ${await res.text()}`,
          );
        } else await res.arrayBuffer();
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it('the problem+json refusals: UNAUTHORIZED with WWW-Authenticate: Bearer, FORBIDDEN naming the scope', async () => {
    const missing = await fetch(`${service.url}/forecast/cost`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await missing.json()).toMatchObject({ status: 401, code: 'UNAUTHORIZED', instance: '/forecast/cost' });

    const wrong = await fetch(`${service.url}/forecast/cost`, { headers: { 'x-api-key': TEST_WRONG_API_KEY } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrongBody = await wrong.text();
    expect(wrongBody).not.toContain(TEST_WRONG_API_KEY);

    const scope = await fetch(`${service.url}/stress`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer('invoke') },
      body: JSON.stringify({ prompt: 'x' }),
    });
    expect(scope.status).toBe(403);
    const body = (await scope.json()) as { code: string; detail: string; requiredScope: string };
    expect(body).toMatchObject({ code: 'FORBIDDEN', requiredScope: 'admin' });
    expect(body.detail).toContain('admin scope');
  });

  it('the /v1 routes refuse with OpenAI error bodies, same statuses', async () => {
    const missing = await fetch(`${service.url}/v1/models`);
    expect(missing.status).toBe(401);
    const body = (await missing.json()) as { error: { message: string; type: string; code: string | null } };
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.type).toBe('string');
    const forbidden = await fetch(`${service.url}/v1/models`, { headers: bearer('read') });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { message: string } }).error.message).toContain('invoke scope');
  });

  it('the simulate_* drills need the admin scope on top of invoke; turned off they need nothing more', async () => {
    const qa = ROUTES.find((r) => r.path === '/qa')!;
    const drilled = await call(service.url, qa, bearer('invoke'), 'simulate_long_context=true');
    expect(drilled.status).toBe(403);
    expect(((await drilled.json()) as { detail: string; requiredScope: string }).requiredScope).toBe('admin');
    expect((await call(service.url, qa, bearer('invoke'), 'simulate_long_context=false')).status).toBe(200);
    expect((await call(service.url, qa, bearer('admin'), 'simulate_retry=true')).status).toBe(403);
    const allowed = await call(service.url, qa, bearer('all'), 'simulate_retry=true');
    expect(allowed.status).toBe(200);
    const reason = ROUTES.find((r) => r.path === '/reason')!;
    expect((await call(service.url, reason, bearer('invoke'), 'simulate_bad_prompt=1')).status).toBe(403);
  });

  it('the webhook keeps its own X-Webhook-Secret: an admin key does not replace it', async () => {
    const res = await fetch(`${service.url}/incidents/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer('admin') },
      body: JSON.stringify({ title: 't', transition: 'Warn' }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('WEBHOOK_UNAUTHORIZED');
  });

  it('refuses a key header sent twice (Node keeps only the first Authorization line), even when the first is valid', async () => {
    const valid = `Bearer ${TEST_API_KEYS.read}`;
    const once = await getWithHeaderLines(`${service.url}/forecast/cost`, { authorization: [valid] });
    expect(once.status).toBe(200);
    for (const headers of [
      { authorization: [valid, `Bearer ${TEST_WRONG_API_KEY}`] },
      { authorization: [valid, valid] },
      { 'x-api-key': [TEST_API_KEYS.read, TEST_WRONG_API_KEY] },
    ] as Record<string, string[]>[]) {
      const twice = await getWithHeaderLines(`${service.url}/forecast/cost`, headers);
      expect(twice.status).toBe(401);
      expect(JSON.parse(twice.body)).toMatchObject({
        code: 'UNAUTHORIZED',
        detail: 'The API key is not valid: a key header is given twice.',
      });
    }
  });

  it('security headers on every answer (2xx, 401, 404, docs), no-store on API answers, no CORS by default', async () => {
    for (const [path, headers] of [
      ['/health', {}],
      ['/forecast/cost', {}],
      ['/no-such-route', {}],
      ['/forecast/cost?hours=2', bearer('read')],
      ['/docs', {}],
    ] as const) {
      const res = await fetch(`${service.url}${path}`, { headers: { origin: 'https://evil.example', ...headers } });
      await res.arrayBuffer();
      expect([path, res.headers.get('x-content-type-options')]).toEqual([path, 'nosniff']);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      if (path !== '/docs') expect([path, res.headers.get('cache-control')]).toEqual([path, 'no-store']);
    }
    const preflight = await fetch(`${service.url}/qa`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('counts the refusals in http.auth.rejected by reason, never with a key in a tag', async () => {
    await (await fetch(`${service.url}/incidents`)).arrayBuffer();
    const rejected = (reason: string) => (lines: { name: string; tags: string[] }[]) =>
      lines.some((m) => m.name === 'http.auth.rejected' && m.tags.includes(`reason:${reason}`));
    await statsd.waitFor(rejected('missing'));
    await statsd.waitFor(rejected('invalid'));
    await statsd.waitFor(rejected('scope'));
    const all = statsd.lines.map((l) => l.raw).join('\n');
    for (const key of Object.values(TEST_API_KEYS)) expect(all).not.toContain(key);
    const logs = service.stdout.join('\n');
    for (const key of [...Object.values(TEST_API_KEYS), TEST_WRONG_API_KEY]) expect(logs).not.toContain(key);
  });
});

describe('rate limits and the body limit', () => {
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await new ServiceProcess({
      ...AUTH_ENV,
      RATE_LIMIT_PER_MINUTE: '3',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2',
      BODY_LIMIT_BYTES: '2048',
    }).start();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('limits each key to RATE_LIMIT_PER_MINUTE, then 429 RATE_LIMITED with Retry-After; other keys are apart', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await fetch(`${service.url}/incidents/status`, { headers: bearer('read') });
      statuses.push(last.status);
      if (i < 3) await last.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('content-type')).toContain('application/problem+json');
    expect(await last!.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    const other = await fetch(`${service.url}/incidents/status`, { headers: bearer('all') });
    expect(other.status).toBe(200);
  });

  it('limits callers without a key per IP (open routes and refused guesses alike)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${service.url}/forecast/cost`, { headers: { 'x-api-key': `guess-${i}` } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([401, 401, 429]);
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(429);
    expect(health.headers.get('retry-after')).not.toBeNull();
  });

  it('applies BODY_LIMIT_BYTES to every POST route (413 before anything else)', async () => {
    const big = JSON.stringify({ question: 'x'.repeat(4096) });
    const problems: string[] = [];
    for (const route of ROUTES.filter((r) => r.method === 'POST')) {
      const res = await fetch(`${service.url}${route.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer('all'), ...route.headers },
        body: big,
      });
      await res.arrayBuffer();
      if (res.status !== 413) problems.push(`${route.path}: ${res.status}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('CORS, and the rate limit of what no route answers (404, 405, preflights)', () => {
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await new ServiceProcess({
      ...AUTH_ENV,
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '4',
      CORS_ORIGINS: 'https://127.0.0.1:5173',
    }).start();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('answers CORS preflights for CORS_ORIGINS only, exposing Retry-After', async () => {
    const allowed = await fetch(`${service.url}/qa`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://127.0.0.1:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://127.0.0.1:5173');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const refused = await fetch(`${service.url}/qa`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:6666', 'access-control-request-method': 'POST' },
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('counts 404s, 405s and CORS preflights in the anonymous bucket: a flood of them is limited, not free', async () => {
    // Before, no guard ran for them (no controller route) and the docs hook let them by: unlimited for anyone.
    const preflight = (): Promise<Response> =>
      fetch(`${service.url}/qa`, {
        method: 'OPTIONS',
        headers: { origin: 'https://127.0.0.1:5173', 'access-control-request-method': 'POST' },
      });
    // Unknown paths until refused: within the 4 of the bucket (fewer when the test before spent some) and one more.
    const statuses: number[] = [];
    let refused: Response | undefined;
    while (statuses.length < 6 && refused === undefined) {
      const res = await fetch(`${service.url}/no-such-route-${statuses.length}`);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    expect(statuses.slice(0, -1).every((status) => status === 404)).toBe(true);
    expect(statuses.length).toBeLessThanOrEqual(5);
    expect(refused!.headers.get('retry-after')).not.toBeNull();
    expect(await refused!.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    // The preflights and the 405s of the same client are refused as well.
    expect((await preflight()).status).toBe(429);
    expect((await fetch(`${service.url}/qa`, { method: 'DELETE' })).status).toBe(429);
    // One bucket per client IP: the open routes are refused too.
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(429);
    // A valid key's requests count in the key's bucket, apart.
    const keyed = await fetch(`${service.url}/no-such-route`, { headers: bearer('read') });
    expect(keyed.status).toBe(404);
  });
});

describe('without API_KEYS: the development key', () => {
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await new ServiceProcess({ AUTH_DISABLED: 'false', SIM_LATENCY_MEDIAN_MS: '1' }).start();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('prints a generated key once on stderr (never in the JSON logs); it has every scope for this process', async () => {
    const stderr = service.stderr.join('');
    const keys = [...stderr.matchAll(/lrcp_dev_[A-Za-z0-9_-]{43}/g)].map((m) => m[0]);
    expect(new Set(keys).size).toBe(1);
    const key = keys[0]!;
    // Its curl line names the port the service listens on (PORT=0 here: the one it was given, not 0).
    expect(stderr).toContain(`curl -s ${service.url}/qa -H "Authorization: Bearer ${key}"`);
    expect(stderr).not.toMatch(/:0\/qa/);
    expect((await fetch(`${service.url}/incidents/status`)).status).toBe(401);
    const ok = await fetch(`${service.url}/stress`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ prompt: 'x', repetitions: 1 }),
    });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    // Pasted into a prompt, the key is redacted from the call's log line like any other secret.
    const pasted = await fetch(`${service.url}/reason`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ prompt: `here is my key ${key} please rotate` }),
    });
    expect(pasted.status).toBe(200);
    await pasted.arrayBuffer();
    const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
      dependencies: Record<string, { status: string; detail: string }>;
    };
    expect(ready.dependencies.auth).toMatchObject({ status: 'unconfigured' });
    expect(JSON.stringify(ready)).not.toContain(key);
    await new Promise((r) => setTimeout(r, 300));
    expect(service.stdout.join('\n')).not.toContain(key);
    expect(service.logs().map((l) => l.prompt)).toContain('here is my key [REDACTED:SECRET] please rotate');
    expect(service.logs().some((l) => l.level === 'warn' && String(l.message).includes('development key'))).toBe(true);
  });
});

describe('AUTH_DISABLED=true and a bad API_KEYS', () => {
  it('AUTH_DISABLED opens everything, with a loud warning at boot and in /health/ready', async () => {
    const service = await new ServiceProcess({ AUTH_DISABLED: 'true', API_KEYS: TEST_API_KEYS_ENV }).start();
    try {
      expect(service.stderr.join('')).toContain('AUTH_DISABLED=true: WARNING');
      expect(service.logs().some((l) => l.level === 'warn' && String(l.message).includes('AUTH_DISABLED'))).toBe(true);
      const res = await fetch(`${service.url}/incidents/status`);
      expect(res.status).toBe(200);
      const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
        dependencies: Record<string, { status: string; detail: string }>;
      };
      expect(ready.dependencies.auth!.status).toBe('disabled');
      expect(ready.dependencies.auth!.detail).toContain('every route is open');
    } finally {
      await service.stop();
    }
  }, 60_000);

  it('a bad API_KEYS entry stops the boot (78), naming the variable and never echoing the value', async () => {
    const service = new ServiceProcess({ API_KEYS: 'ci:invoke:plain-text-key-not-a-hash', DD_TRACE_ENABLED: 'false' });
    expect(await service.exitCode()).toBe(78);
    const stderr = service.stderr.join('');
    expect(stderr).toContain('API_KEYS entry 1 (ci)');
    expect(stderr).not.toContain('plain-text-key-not-a-hash');
  }, 60_000);
});
