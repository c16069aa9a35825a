import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_API_KEYS, TEST_AUTH_ENV } from './support/api-keys';
import {
  type ClientOutcome,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  ResponseContract,
} from './client-contract';
import { ServiceProcess } from './support/service-process';

/**
 * The answers every operation gives before its handler runs, held to the document the service serves (`/docs-json`):
 * the refusals of the key check (401), of the body parser (413, 415, 400), of the query guard (400), of the router
 * (414, 400), of the rate limit (429) and of a failing provider (502, 503). The client suite (test/client.e2e-spec.ts)
 * calls each operation through the generated client with a valid body, so it never met these: 17 operations answered
 * a 413 and a 415 their document did not list, `getRecommendation` a 400 it did not list, and no response declared
 * `Retry-After`, `WWW-Authenticate` or the `x-control-plane-*` headers clients read. Each answer: a documented
 * status, a content type and body its schema takes, and every header clients act on declared on that response
 * (`ResponseContract`). The probes come from the document, so an operation added later is covered.
 */
const BODY_LIMIT_BYTES = 4096;
const WEBHOOK_SECRET = 'openapi-live-webhook-secret-001';
const KEY = TEST_API_KEYS.all;

const isProbe = (operation: Operation): boolean => operation.object['x-open'] === true;
const isKeyed = (operation: Operation): boolean =>
  (operation.object.security ?? []).some((s) => 'bearer' in s || 'api-key' in s);
const isWebhook = (operation: Operation): boolean =>
  (operation.object.security ?? []).some((s) => 'webhook-secret' in s);

interface Probe {
  operation: Operation;
  what: string;
  /** The status the service answers (asserted, so a probe that stopped reaching its refusal fails). */
  status: number;
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  key?: boolean;
}

/** The credentials an operation takes, unless the probe is about their absence. */
function credentials(operation: Operation, key: boolean): Record<string, string> {
  if (isWebhook(operation)) return { 'x-webhook-secret': WEBHOOK_SECRET };
  return key && isKeyed(operation) ? { authorization: `Bearer ${KEY}` } : {};
}

async function send(base: string, probe: Probe): Promise<ClientOutcome> {
  const { operation } = probe;
  const path = operation.path.replace(/\{[^}]+\}/g, probe.path ?? 'probe-id');
  const response = await fetch(`${base}${path}${probe.query ?? ''}`, {
    method: operation.method,
    headers: { ...credentials(operation, probe.key ?? true), ...probe.headers },
    body: probe.body,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // a stream or an empty body: checked as text
  }
  return response.ok ? { response, data: body } : { response, error: body };
}

/** Sends a probe and holds its answer to the document: its status, body and headers. */
async function expectDocumented(base: string, contract: ResponseContract, probe: Probe): Promise<ClientOutcome> {
  const outcome = await send(base, probe);
  const name = `${probe.operation.method} ${probe.operation.path} (${probe.what})`;
  expect({ name, status: outcome.response?.status }).toEqual({ name, status: probe.status });
  expect({ name, problems: contract.check(probe.operation.id, outcome) }).toEqual({ name, problems: [] });
  return outcome;
}

/** The refusals each operation gives before its handler, from what the document says it takes. */
function refusals(operations: Operation[]): Probe[] {
  const probes: Probe[] = [];
  for (const operation of operations) {
    const openAi = operation.path.startsWith('/v1/');
    if (isKeyed(operation)) probes.push({ operation, what: 'no API key', status: 401, key: false });
    if (operation.object.requestBody) {
      const json = { 'content-type': 'application/json' };
      probes.push(
        { operation, what: 'a text/plain body', status: 415, headers: { 'content-type': 'text/plain' }, body: 'a=b' },
        {
          operation,
          what: 'a body over the limit',
          status: 413,
          headers: json,
          body: `"${'x'.repeat(BODY_LIMIT_BYTES)}"`,
        },
        { operation, what: 'a body that is not JSON', status: 400, headers: json, body: '{"a":' },
      );
    }
    // The query guard refuses an unknown field on every route but the probes; /v1 ignores the query, as OpenAI does.
    if (!isProbe(operation) && !openAi && !operation.object.requestBody)
      probes.push({ operation, what: 'an unknown query field', status: 400, query: '?zz_unknown=1' });
    if (operation.path.includes('{')) {
      probes.push(
        { operation, what: 'a path parameter over 100 characters', status: 414, path: 'a'.repeat(101) },
        { operation, what: 'a path that is not UTF-8', status: 400, path: '%FF' },
      );
    }
  }
  return probes;
}

describe('every operation answers as its OpenAPI document says, refusals and headers included', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'openapi-live-'));
  let service: ServiceProcess | undefined;
  let limited: ServiceProcess | undefined;
  let document: OpenApiDocument;
  let contract: ResponseContract;
  let operations: Operation[];

  const common = {
    ...TEST_AUTH_ENV,
    DD_TRACE_ENABLED: 'false',
    DD_DOGSTATSD_PORT: '9',
    SIM_LATENCY_MEDIAN_MS: '5',
    BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
    INCIDENTS_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };

  beforeAll(async () => {
    ServiceProcess.assertBuilt();
    [service, limited] = await Promise.all([
      new ServiceProcess({ ...common, DATA_DIR: join(dataDir, 'a') }).start(),
      // One request a minute, per key and per client IP: the second is refused.
      new ServiceProcess({
        ...common,
        DATA_DIR: join(dataDir, 'b'),
        RATE_LIMIT_PER_MINUTE: '1',
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1',
      }).start(),
    ]);
    document = (await (await fetch(`${service.url}/docs-json`)).json()) as OpenApiDocument;
    contract = new ResponseContract(document);
    operations = operationsOf(document);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([service?.stop(), limited?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refusals before the handler: 401, 413, 415, 400, 414, each documented with its body and headers', async () => {
    const probes = refusals(operations);
    expect(probes.length).toBeGreaterThan(60);
    for (const probe of probes) {
      const outcome = await expectDocumented(service!.url, contract, probe);
      if (probe.status === 401) expect(outcome.response!.headers.get('www-authenticate')).toBe('Bearer');
    }
  }, 60_000);

  it('the rate limit: a 429 with Retry-After on every operation, documented', async () => {
    // The key's one request, and the client IP's (keyless: the probes and the webhook).
    await fetch(`${limited!.url}/health`);
    await fetch(`${limited!.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    for (const operation of operations) {
      const body = operation.object.requestBody ? '{}' : undefined;
      const json: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
      // The webhook's notifications with the right secret are always taken (Datadog retries only a 5xx: a 429 lost
      // them); a wrong secret is refused by the rate limit as any anonymous caller is.
      const headers = isWebhook(operation) ? { ...json, 'x-webhook-secret': 'not-the-secret-0000000000' } : json;
      const outcome = await expectDocumented(limited!.url, contract, {
        operation,
        what: 'over the rate limit',
        status: 429,
        headers,
        body,
      });
      expect(Number(outcome.response!.headers.get('retry-after'))).toBeGreaterThan(0);
      if (isWebhook(operation)) {
        // With the right secret the same client is past its bucket and still taken: '{}' is validated (400).
        const taken = await send(limited!.url, {
          operation,
          what: 'with its secret',
          status: 400,
          headers: json,
          body,
        });
        expect(taken.response!.status).toBe(400);
      }
    }
  }, 60_000);

  it('a chat completion and a stream: the x-control-plane-* headers and the stream as text, documented', async () => {
    const chat = operations.find((o) => o.id === 'chatCompletions')!;
    const qa = operations.find((o) => o.id === 'qa')!;
    const json = { 'content-type': 'application/json' };
    const messages = [{ role: 'user', content: 'Why is the sky blue?' }];
    const answered = await expectDocumented(service!.url, contract, {
      operation: chat,
      what: 'a completion',
      status: 200,
      headers: json,
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages }),
    });
    expect(answered.response!.headers.get('x-control-plane-prompt-id')).toEqual(expect.any(String));
    await expectDocumented(service!.url, contract, {
      operation: chat,
      what: 'a stream',
      status: 200,
      headers: json,
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages, stream: true }),
    });
    const streamed = await expectDocumented(service!.url, contract, {
      operation: qa,
      what: 'a stream',
      status: 200,
      headers: { ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ question: 'Why is the sky blue?' }),
    });
    expect(streamed.data).toMatch(/^event: delta\n/);
  }, 60_000);

  // Last: the drill leaves the circuits open for a while.
  it('a failing provider: 502, then 503 with Retry-After (circuit open), as documented; on /v1 with its headers', async () => {
    const admin = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const start = await fetch(`${service!.url}/llm/drills/faults`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ error_rate: 1, duration_s: 60 }),
    });
    expect(start.status).toBe(200);
    try {
      const llm = operations.filter((o) => ['qa', 'reason', 'chatCompletions'].includes(o.id));
      expect(llm).toHaveLength(3);
      const bodies: Record<string, unknown> = {
        qa: { question: 'Why is the sky blue?' },
        reason: { prompt: 'Why is the sky blue?' },
        chatCompletions: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Why?' }] },
      };
      const seen = new Set<number>();
      // Failures open the circuit of each model of the chain: 502s, then 503 `CIRCUIT_OPEN` with a Retry-After.
      for (let round = 0; round < 20 && !seen.has(503); round++) {
        for (const operation of llm) {
          const outcome = await send(service!.url, {
            operation,
            what: 'a failing provider',
            status: 0,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(bodies[operation.id]),
          });
          const status = outcome.response!.status;
          seen.add(status);
          expect({ id: operation.id, problems: contract.check(operation.id, outcome) }).toEqual({
            id: operation.id,
            problems: [],
          });
          if (status === 503) expect(Number(outcome.response!.headers.get('retry-after'))).toBeGreaterThan(0);
          if (operation.id === 'chatCompletions')
            expect(outcome.response!.headers.get('x-control-plane-error-code')).toEqual(expect.any(String));
        }
      }
      expect([...seen].sort()).toEqual([502, 503]);
    } finally {
      await fetch(`${service!.url}/llm/drills/faults`, { method: 'DELETE', headers: admin });
    }
  }, 60_000);
});
