import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, TEST_API_KEYS, TEST_AUTH_ENV } from './support/api-keys';
import { FakeDatadogApi } from './support/fake-datadog-api';
import { installIncidentRoutes } from './support/fake-datadog-incidents';
import { registerIntegrationRoutes } from './support/fake-datadog-integrations';
import { post } from './support/http';
import { type FuzzCase, generateFuzzCases, type OpenApiDocument, operationsOf } from './support/openapi-fuzz';
import { ServiceProcess } from './support/service-process';

/**
 * Issue 16: a fuzz run over every operation of the OpenAPI document the running service serves (`/docs-json`), so
 * operations added later are covered without touching this file. A few thousand requests from
 * `test/support/openapi-fuzz.ts` (wrong types, missing fields, strings beyond maxLength and beyond the body limit,
 * nesting 10,000 deep, bytes that are not UTF-8, wrong media types, prototype-pollution keys, seeded random
 * mutations), four at a time, against the built service with its Datadog routes on a loopback fake of the Datadog
 * API and the simulated LLM provider. Every answer: never a 5xx, never a hang, a 4xx for what the schema refuses,
 * a documented 2xx otherwise, and every error `application/problem+json` (on `/v1/*`, OpenAI's error body).
 * `FUZZ_SEED=<n>` replays a run; the seed is printed on failure.
 */

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BODY_LIMIT_BYTES = 1024 * 1024;
const WEBHOOK_SECRET = 'fuzz-webhook-secret-0000000001';
const CONCURRENCY = 4;
/** No answer within this is a hang (the slowest valid call: /qa with simulate_latency, 1 s). */
const REQUEST_TIMEOUT_MS = 15_000;
/** Operations whose valid request may be refused because of the service's state, and the codes allowed. */
const STATEFUL: Record<string, string[]> = {
  // Implementing needs priced requests in the ledger's baseline window; a result needs an implementation first.
  'POST /optimization/recommendations/{id}/implement': ['INSUFFICIENT_USAGE', 'RECOMMENDATION_ALREADY_IMPLEMENTED'],
  'POST /optimization/recommendations/{id}/record-result': ['RECOMMENDATION_NOT_IMPLEMENTED', 'INSUFFICIENT_USAGE'],
};

/**
 * Inputs the document refuses and the service takes (a 2xx), each reported to the library's owner. Not a 5xx, a
 * hang or a leak: a disagreement between the OpenAPI document and the validation. `operation target: description`.
 */
const KNOWN_DISCREPANCIES: Record<string, string> = {
  // libs/llm DrillQueryDto: an empty `?simulate_x=` is taken as false; the document says boolean.
  ...Object.fromEntries(
    ['/qa', '/reason', '/stress'].flatMap((path) =>
      ['simulate_latency', 'simulate_retry', 'simulate_bad_prompt', 'simulate_long_context'].map((q) => [
        `POST ${path} query.${q}: empty`,
        'libs/llm',
      ]),
    ),
  ),
  // libs/llm StressRequestDto: `repetitions` is optional (default 10) and `null` is taken as absent; the document
  // says a number (class-validator's @IsOptional lets null through).
  'POST /stress body.repetitions: null': 'libs/llm',
};

interface Outcome {
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

async function send(base: string, c: FuzzCase): Promise<Outcome> {
  const started = Date.now();
  const response = await fetch(`${base}${c.url}`, {
    method: c.method,
    headers: c.headers,
    body: c.body === undefined ? undefined : new Uint8Array(c.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text,
    ms: Date.now() - started,
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with an error answer's body, or undefined. */
function errorBodyProblem(c: FuzzCase, outcome: Outcome): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(outcome.text);
  } catch {
    return `error body is not JSON (content-type ${outcome.contentType || 'none'})`;
  }
  // `/v1/*` answers OpenAI error bodies, except for what is refused before routing (body, media type, URL), which
  // is problem+json there too (docs/openai-compat.md).
  if (c.url.startsWith('/v1/') && !/^application\/problem\+json\b/.test(outcome.contentType)) {
    if (!/^application\/json\b/.test(outcome.contentType)) return `content-type ${outcome.contentType}, not JSON`;
    const error = isRecord(body) ? body.error : undefined;
    if (
      !isRecord(error) ||
      typeof error.message !== 'string' ||
      typeof error.type !== 'string' ||
      !('param' in error) ||
      !('code' in error)
    )
      return 'not an OpenAI error body {error:{message,type,param,code}}';
    return undefined;
  }
  if (!/^application\/problem\+json\b/.test(outcome.contentType))
    return `content-type ${outcome.contentType || 'none'}, not application/problem+json`;
  if (
    !isRecord(body) ||
    body.status !== outcome.status ||
    typeof body.code !== 'string' ||
    typeof body.title !== 'string'
  )
    return 'not a problem with status, code and title';
  return undefined;
}

/** What is wrong with the answer to `c`, or undefined. */
function verdict(c: FuzzCase, outcome: Outcome): string | undefined {
  if (outcome.status >= 500) return `${outcome.status}`;
  if (outcome.status < 200 || (outcome.status >= 300 && outcome.status < 400)) return `unexpected ${outcome.status}`;
  if (outcome.status < 300) {
    if (c.expect === 'reject' && !KNOWN_DISCREPANCIES[`${c.operation} ${c.target}: ${c.description}`])
      return `${outcome.status} for input the schema refuses`;
    if (!c.success.includes(outcome.status))
      return `${outcome.status} is not a documented success (${c.success.join(', ')})`;
    return undefined;
  }
  return errorBodyProblem(c, outcome);
}

const describeCase = (c: FuzzCase): string =>
  `${c.operation} [${c.target}: ${c.description}] ${c.method} ${c.url.length > 200 ? `${c.url.slice(0, 200)}...` : c.url}` +
  ` headers=${JSON.stringify(c.headers).slice(0, 300)} body=${
    c.body === undefined ? 'none' : JSON.stringify(c.body.subarray(0, 300).toString('latin1'))
  }${c.body && c.body.length > 300 ? `... (${c.body.length} bytes)` : ''}`;

describe('fuzz: every operation of the served OpenAPI document', () => {
  let service: ServiceProcess;
  let api: FakeDatadogApi;
  let doc: OpenApiDocument;
  let cases: FuzzCase[];
  const dataDir = mkdtempSync(join(tmpdir(), 'fuzz-e2e-'));
  const auth = bearer('all');

  beforeAll(async () => {
    api = await new FakeDatadogApi().start();
    installIncidentRoutes(api);
    registerIntegrationRoutes(api);
    api.route('GET', '/api/v1/query', () => ({
      status: 200,
      body: { status: 'ok', res_type: 'time_series', series: [] },
    }));
    service = await new ServiceProcess({
      ...TEST_AUTH_ENV,
      DATA_DIR: dataDir,
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: '9',
      SIM_LATENCY_MEDIAN_MS: '2',
      BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
      DATADOG_API_URL: api.url,
      DD_API_KEY: 'fuzz-dd-api-key-0001',
      DD_APP_KEY: 'fuzz-dd-app-key-0001',
      PUBLIC_BASE_URL: 'https://127.0.0.1:8443',
      INCIDENTS_WEBHOOK_SECRET: WEBHOOK_SECRET,
      INCIDENTS_DELIVERY_INTERVAL_MS: '200',
    }).start();

    const served = await fetch(`${service.url}/docs-json`, { headers: auth });
    expect(served.status).toBe(200);
    doc = (await served.json()) as OpenApiDocument;

    // Valid values the schemas cannot give: an existing recommendation, a served model, the webhook secret.
    const recommendation = await post(
      `${service.url}/optimization/recommendations`,
      {
        title: 'Cache answers',
        category: 'caching',
        description: 'Cache repeated questions.',
        estimated_savings_per_request: 0.001,
        estimated_savings_percentage: 10,
      },
      auth,
    );
    expect(recommendation.status).toBe(201);
    const recommendationId = String(((await recommendation.json()) as { id: unknown }).id);
    const models = (await (await fetch(`${service.url}/v1/models`, { headers: auth })).json()) as {
      data: { id: string }[];
    };
    const model = models.data[0]!.id;
    cases = generateFuzzCases(doc, {
      seed: SEED,
      bodyLimitBytes: BODY_LIMIT_BYTES,
      credentials: { bearer: TEST_API_KEYS.all, 'api-key': TEST_API_KEYS.all, 'webhook-secret': WEBHOOK_SECRET },
      hints: {
        'POST /v1/chat/completions': { body: { model, messages: [{ role: 'user', content: 'Say hi.' }] } },
        'GET /v1/models/{id}': { path: { id: model } },
        'GET /optimization/recommendations/{id}': { path: { id: recommendationId } },
        'POST /optimization/recommendations/{id}/implement': { path: { id: recommendationId } },
        'POST /optimization/recommendations/{id}/record-result': { path: { id: recommendationId } },
        'POST /optimization/anomaly/attribute': { query: { metric_name: 'llm.cost.usd' } },
        // A drill needs one rate above 0 (not expressible in the schema); a short, harmless one.
        'POST /llm/drills/faults': { body: { slow_rate: 0.01, duration_s: 1 } },
        'POST /qa': { body: { question: 'What colour is the sky?' } },
        'POST /reason': { body: { prompt: 'Why is the sky blue?' } },
        'POST /stress': { body: { prompt: 'hi', repetitions: 2 } },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await api?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('covers every operation the service documents', () => {
    const operations = operationsOf(doc).map((op) => op.key);
    expect(operations.length).toBeGreaterThanOrEqual(25);
    for (const expected of ['POST /qa', 'POST /v1/chat/completions', 'POST /incidents/webhook', 'GET /health'])
      expect(operations).toContain(expected);
    const covered = new Set(cases.map((c) => c.operation));
    expect(operations.filter((op) => !covered.has(op))).toEqual([]);
    expect(cases.length).toBeGreaterThan(2000);
  });

  it('answers the valid request of every operation with a documented 2xx (or the state-dependent 4xx)', async () => {
    const failures: string[] = [];
    for (const c of cases.filter((k) => k.expect === 'valid')) {
      const outcome = await send(service.url, c);
      const problem = verdict(c, outcome);
      const code = /"code":"([A-Z_]+)"/.exec(outcome.text)?.[1] ?? '';
      const stateful = outcome.status >= 400 && outcome.status < 500 && (STATEFUL[c.operation] ?? []).includes(code);
      if (problem || (outcome.status >= 300 && !stateful))
        failures.push(`${outcome.status} ${problem ?? ''} ${outcome.text.slice(0, 300)}\n  ${describeCase(c)}`);
    }
    if (failures.length > 0) throw new Error(`FUZZ_SEED=${SEED}\n${failures.join('\n')}`);
  }, 60_000);

  it('never answers a 5xx, never hangs, refuses what the schema refuses, and every error is problem+json', async () => {
    const started = Date.now();
    const queue = cases.filter((c) => c.expect !== 'valid');
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let slowest = 0;
    let index = 0;
    const worker = async (): Promise<void> => {
      while (index < queue.length) {
        const c = queue[index++]!;
        let outcome: Outcome;
        try {
          outcome = await send(service.url, c);
        } catch (error) {
          failures.push(
            `no answer (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})\n  ${describeCase(c)}`,
          );
          continue;
        }
        slowest = Math.max(slowest, outcome.ms);
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        const problem = verdict(c, outcome);
        if (problem) failures.push(`${problem}: ${outcome.status} ${outcome.text.slice(0, 300)}\n  ${describeCase(c)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const summary = `FUZZ_SEED=${SEED}: ${queue.length} requests in ${Date.now() - started} ms, slowest ${slowest} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}`;
    if (process.env.FUZZ_FAILURES_FILE) writeFileSync(process.env.FUZZ_FAILURES_FILE, failures.join('\n'));
    if (failures.length > 0) {
      throw new Error(`${summary}\n${failures.length} failure(s):\n${failures.slice(0, 40).join('\n')}`);
    }
    expect(statuses.get(400)).toBeGreaterThan(1000);
  }, 150_000);

  it('still answers /health afterwards and logged no request as failed', async () => {
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(200);
    const errors = service
      .logs()
      .filter((line) => line.level === 'error' || line.message === 'request failed')
      .map((line) => JSON.stringify(line).slice(0, 500));
    expect(errors).toEqual([]);
  });
});
