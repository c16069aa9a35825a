import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyEntry, sha256Hex } from './support/api-keys';
import { FakeDatadogApi } from './support/fake-datadog-api';
import { installIncidentRoutes } from './support/fake-datadog-incidents';
import { type FakeIntegrations, registerIntegrationRoutes } from './support/fake-datadog-integrations';
import { FakeGeminiServer } from './support/fake-gemini-server';
import { startWithTelemetry, type TelemetryStack } from './support/http';
import { type FuzzCase, generateFuzzCases, type OpenApiDocument, operationsOf } from './support/openapi-fuzz';

/**
 * Issue 16: secrets never leave the process except to the party they are for. The service boots with recognisable
 * fake secrets (Datadog API and application keys, a Gemini key, an OpenAI key, the webhook secret, an API key of
 * its own, configured by hash), every operation of its OpenAPI document is driven (its valid request with each
 * form of the API key, a validation error, missing and near-miss credentials), the LLM routes also with a
 * secret-looking string in the prompt, the Datadog routes also through a Datadog failure; then every stdout and
 * stderr line, every payload the loopback trace agent received (APM msgpack, LLM Observability, telemetry), every
 * DogStatsD line and every response (status line, headers, body) is scanned: no secret, no secret's first 8
 * characters, no API key hash. A second process runs the real Gemini adapter against a loopback Gemini, which must
 * receive the Gemini key while nothing else does.
 */

const SECRETS = {
  DD_API_KEY: 'ddapi-FAKE-8f3b2c1d4e5f60718293a4b5c6d7e8f9',
  DD_APP_KEY: 'ddapp-FAKE-1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
  /** The Gemini key format (`AIza` + 35), so a provider error quoting it is caught by the key pattern too. */
  GEMINI_API_KEY: 'AIzaSyFAKEgemini0key0for0tests0only0001',
  OPENAI_API_KEY: 'oaikey-FAKE-9d8c7b6a5f4e3d2c1b0a9f8e',
  INCIDENTS_WEBHOOK_SECRET: 'whsec-FAKE-0c1d2e3f4a5b6c7d8e9f0a1b',
};
/** The service's own API key (all scopes); the service is configured with its sha256 only. */
const API_KEY = 'lrcpk-FAKE-3e7a9c1f5b2d8e4a6c0f9b3d7e1a5c8f';
const API_KEY_HASH = sha256Hex(API_KEY);
/** A secret a user pastes into a prompt: logs and spans must hold it redacted. */
const PROMPT_SECRET = 'sk-live-7Hq2Zx9Kp4Lm8Nw3Rt6Vy1Bc5';

/** What must appear nowhere in what the service emits. */
const NEEDLES: [string, string][] = [
  ...Object.entries(SECRETS).flatMap(([name, value]): [string, string][] => [
    [name, value],
    [`${name} (first 8 characters)`, value.slice(0, 8)],
  ]),
  ['the API key', API_KEY],
  ['the API key (first 8 characters)', API_KEY.slice(0, 8)],
  ['the API key hash', API_KEY_HASH],
  ['the API key hash (first 16 characters)', API_KEY_HASH.slice(0, 16)],
  ['the Authorization header value', `Bearer ${API_KEY}`],
];
/** What must appear in no log line or span: the pasted secret, whole or its distinctive tail. */
const PROMPT_NEEDLES: [string, string][] = [
  ['the prompt secret', PROMPT_SECRET],
  ['the prompt secret (tail)', PROMPT_SECRET.slice(8)],
];

const BASE_ENV = {
  ...SECRETS,
  AUTH_DISABLED: 'false',
  API_KEYS: apiKeyEntry('secrets-scan', ['invoke', 'read', 'admin'], API_KEY),
  LOG_LEVEL: 'debug',
  STATSD_FLUSH_INTERVAL_MS: '50',
  RUNTIME_METRICS_INTERVAL_MS: '200',
  SIM_LATENCY_MEDIAN_MS: '2',
  PUBLIC_BASE_URL: 'https://127.0.0.1:8443',
  INCIDENTS_DELIVERY_INTERVAL_MS: '100',
  // Every call's LLM Observability event, not only the interesting ones: the scan covers all of them.
  LLMOBS_KEEP: 'all',
};

interface Capture {
  responses: string[];
}

async function send(base: string, c: FuzzCase, capture: Capture): Promise<number> {
  const response = await fetch(`${base}${c.url}`, {
    method: c.method,
    headers: c.headers,
    body: c.body === undefined ? undefined : new Uint8Array(c.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  capture.responses.push(
    `${c.operation} [${c.target}: ${c.description}] -> ${response.status} ${JSON.stringify([...response.headers])} ${text}`,
  );
  return response.status;
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}): FuzzCase => {
  const path = new URL(url).pathname + new URL(url).search;
  return {
    operation: `POST ${new URL(url).pathname}`,
    target: 'scan',
    description: 'extra request',
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers },
    body: Buffer.from(JSON.stringify(body)),
    expect: 'either',
    success: [200, 201],
  };
};

/** Every text the stack emitted, by source: log lines, stderr, trace agent payloads, decoded spans, metrics. */
function emitted(stack: TelemetryStack, capture: Capture): Record<string, string[]> {
  const bigints = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);
  return {
    'stdout log line': stack.service.stdout,
    stderr: stack.service.stderr,
    'trace agent payload': stack.agent.payloads.map((p) => `${p.path} ${p.body.toString('latin1')}`),
    'decoded span': stack.agent.spans.map((span) => JSON.stringify(span, bigints)),
    'DogStatsD line': stack.statsd.lines.map((line) => line.raw),
    response: capture.responses,
  };
}

/** `where: needle name: excerpt` for each needle found. */
function leaks(sources: Record<string, string[]>, needles: [string, string][]): string[] {
  const found: string[] = [];
  for (const [source, texts] of Object.entries(sources)) {
    for (const text of texts) {
      for (const [name, needle] of needles) {
        const at = text.indexOf(needle);
        if (at >= 0)
          found.push(`${source}: ${name}: ...${text.slice(Math.max(0, at - 150), at + needle.length + 50)}...`);
      }
    }
  }
  return found;
}

/** The scan cases of one operation: its valid request, with x-api-key too, a validation error, bad credentials. */
function scanCases(doc: OpenApiDocument, cases: FuzzCase[]): FuzzCase[] {
  const picked: FuzzCase[] = [];
  for (const op of operationsOf(doc)) {
    const own = cases.filter((c) => c.operation === op.key);
    const valid = own.find((c) => c.expect === 'valid')!;
    picked.push(valid);
    if (valid.headers.authorization) {
      const { authorization: _, ...rest } = valid.headers;
      picked.push({
        ...valid,
        description: 'the valid request with x-api-key',
        headers: { ...rest, 'x-api-key': API_KEY },
      });
    }
    const invalid = own.find(
      (c) => c.expect === 'reject' && /^(body\.|query\.|path\.|header\.)/.test(c.target) && c.description !== 'missing',
    );
    if (invalid) picked.push(invalid);
    picked.push(
      ...own.filter(
        (c) => c.target === 'auth' && /no credentials|character changed|without "Bearer "/.test(c.description),
      ),
    );
  }
  return picked;
}

describe('secrets never in logs, spans, metrics or responses', () => {
  const dirs: string[] = [];
  const newDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-scan-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('simulated provider, Datadog routes against a loopback Datadog API', () => {
    let api: FakeDatadogApi;
    let integrations: FakeIntegrations;
    let stack: TelemetryStack;
    const capture: Capture = { responses: [] };
    let driven = 0;

    beforeAll(async () => {
      api = await new FakeDatadogApi().start();
      installIncidentRoutes(api);
      integrations = registerIntegrationRoutes(api);
      api.route('GET', '/api/v1/query', () => ({
        status: 200,
        body: { status: 'ok', res_type: 'time_series', series: [] },
      }));
      stack = await startWithTelemetry({ ...BASE_ENV, DATA_DIR: newDir(), DATADOG_API_URL: api.url });
      const { service } = stack;
      const auth = { authorization: `Bearer ${API_KEY}` };
      const doc = (await (await fetch(`${service.url}/docs-json`, { headers: auth })).json()) as OpenApiDocument;
      const recommendation = await fetch(`${service.url}/optimization/recommendations`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: 'Cache answers',
          category: 'caching',
          description: 'Cache repeated questions.',
          estimated_savings_per_request: 0.001,
          estimated_savings_percentage: 10,
        }),
      });
      const id = String(((await recommendation.json()) as { id: unknown }).id);
      const models = (await (await fetch(`${service.url}/v1/models`, { headers: auth })).json()) as {
        data: { id: string }[];
      };
      const model = models.data[0]!.id;
      const cases = generateFuzzCases(doc, {
        seed: 16,
        bodyLimitBytes: 1024 * 1024,
        randomPerOperation: 0,
        credentials: { bearer: API_KEY, 'api-key': API_KEY, 'webhook-secret': SECRETS.INCIDENTS_WEBHOOK_SECRET },
        hints: {
          'POST /qa': { body: { question: `Is my key ${PROMPT_SECRET} safe to share?` } },
          'POST /reason': { body: { prompt: `Explain why ${PROMPT_SECRET} must stay private.` } },
          'POST /stress': { body: { prompt: `token ${PROMPT_SECRET}`, repetitions: 2 } },
          'POST /v1/chat/completions': {
            body: { model, messages: [{ role: 'user', content: `Rotate ${PROMPT_SECRET} please.` }] },
          },
          'POST /incidents/create': {
            body: { monitor_name: 'Scan', alert_message: `leaked ${PROMPT_SECRET}`, runbook: 'Rotate.' },
          },
          'GET /v1/models/{id}': { path: { id: model } },
          'GET /optimization/recommendations/{id}': { path: { id } },
          'POST /optimization/recommendations/{id}/implement': { path: { id } },
          'POST /optimization/recommendations/{id}/record-result': { path: { id } },
          'POST /optimization/anomaly/attribute': { query: { metric_name: 'cost', source: 'datadog' } },
          'POST /optimization/attribute-anomaly': { body: { metric: 'cost', source: 'datadog' } },
        },
      });
      const base = service.url;
      const picked = scanCases(doc, cases);
      const statuses: number[] = [];
      for (const c of picked) statuses.push(await send(base, c, capture));
      // The LLM routes' other paths: a retry, a safety block, a stream; the Datadog routes' failures.
      for (const query of ['simulate_retry=true', 'simulate_bad_prompt=true'])
        statuses.push(
          await send(base, postJson(`${base}/qa?${query}`, { question: `Keep ${PROMPT_SECRET} secret?` }), capture),
        );
      statuses.push(
        await send(
          base,
          postJson(`${base}/reason`, { prompt: `Stream about ${PROMPT_SECRET}` }, { accept: 'text/event-stream' }),
          capture,
        ),
      );
      statuses.push(
        await send(
          base,
          postJson(`${base}/v1/chat/completions`, {
            model,
            stream: true,
            messages: [{ role: 'user', content: PROMPT_SECRET }],
          }),
          capture,
        ),
      );
      integrations.fail('notebooks', { status: 500, body: { errors: ['internal error'] } });
      integrations.fail('synthetics', { status: 403, body: { errors: ['Forbidden'] } });
      statuses.push(await send(base, postJson(`${base}/datadog/notebooks/create`, { template: 'cost' }), capture));
      statuses.push(await send(base, postJson(`${base}/datadog/synthetics/create`, { kind: 'health' }), capture));
      integrations.clear();
      api.setFault({ mode: 'status', status: 500 });
      statuses.push(
        await send(
          base,
          postJson(`${base}/optimization/attribute-anomaly`, { metric: 'latency', source: 'datadog' }),
          capture,
        ),
      );
      api.setFault({ mode: 'none' });
      driven = statuses.length;
      expect(statuses.filter((s) => s >= 200 && s < 300).length).toBeGreaterThan(30);
      // Let the incident outbox deliver, the statsd buffer and the tracer flush, then stop: shutdown flushes the rest.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await stack.service.stop();
    }, 90_000);

    afterAll(async () => {
      await stack?.stop();
      await api?.close();
    });

    it('drove every operation and captured logs, spans, LLM Observability events and metrics', () => {
      expect(driven).toBeGreaterThan(90);
      expect(stack.service.logs().length).toBeGreaterThan(50);
      expect(stack.agent.spans.length).toBeGreaterThan(50);
      expect(stack.agent.llmobsSpans().length).toBeGreaterThan(0);
      expect(stack.statsd.lines.length).toBeGreaterThan(50);
      // The Datadog routes ran their real paths: the keys went to the Datadog API, in its headers only.
      expect(api.requests.length).toBeGreaterThan(3);
      for (const request of api.requests) {
        expect(request.headers['dd-api-key']).toBe(SECRETS.DD_API_KEY);
        expect(request.headers['dd-application-key'] ?? SECRETS.DD_APP_KEY).toBe(SECRETS.DD_APP_KEY);
      }
    });

    it('emitted no secret, no secret prefix, no API key hash anywhere', () => {
      expect(leaks(emitted(stack, capture), NEEDLES)).toEqual([]);
    });

    it('redacted the secret pasted in prompts in every log line and span', () => {
      const { response: _responses, ...telemetry } = emitted(stack, capture);
      expect(leaks(telemetry, PROMPT_NEEDLES)).toEqual([]);
      const prompts = stack.service.logs().filter((line) => typeof line.prompt === 'string');
      expect(prompts.length).toBeGreaterThan(3);
      expect(prompts.some((line) => /\[REDACTED:[A-Z_]+\]/.test(line.prompt as string))).toBe(true);
      expect(JSON.stringify(stack.agent.llmobsSpans())).toMatch(/\[REDACTED:[A-Z_]+\]/);
    });
  });

  describe('the Gemini adapter against a loopback Gemini', () => {
    let gemini: FakeGeminiServer;
    let stack: TelemetryStack;
    const capture: Capture = { responses: [] };

    beforeAll(async () => {
      gemini = await new FakeGeminiServer().start();
      stack = await startWithTelemetry({
        ...BASE_ENV,
        DATA_DIR: newDir(),
        LLM_PROVIDER: 'gemini',
        LLM_BASE_URL: gemini.url,
        LLM_MODEL: 'gemini-2.5-flash',
        LLM_MAX_RETRIES: '0',
        LLM_RETRY_BASE_MS: '5',
      });
      const base = stack.service.url;
      const statuses: number[] = [];
      statuses.push(await send(base, postJson(`${base}/qa`, { question: `Is ${PROMPT_SECRET} valid?` }), capture));
      statuses.push(
        await send(
          base,
          postJson(`${base}/reason`, { prompt: `Why hide ${PROMPT_SECRET}?` }, { 'x-api-key': API_KEY }),
          capture,
        ),
      );
      statuses.push(await send(base, postJson(`${base}/stress`, { prompt: 'hi', repetitions: 2 }), capture));
      statuses.push(
        await send(
          base,
          postJson(`${base}/reason`, { prompt: 'Stream it.' }, { accept: 'text/event-stream' }),
          capture,
        ),
      );
      statuses.push(
        await send(
          base,
          postJson(`${base}/v1/chat/completions`, {
            model: 'gemini-2.5-flash',
            messages: [{ role: 'user', content: 'hi' }],
          }),
          capture,
        ),
      );
      // The provider refuses the key and quotes it (as some APIs do): the error path must not pass it on.
      const quoted = {
        error: { code: 400, message: `API key not valid: ${SECRETS.GEMINI_API_KEY}`, status: 'INVALID_ARGUMENT' },
      };
      gemini.enqueue({ type: 'error', status: 400, body: quoted });
      statuses.push(await send(base, postJson(`${base}/qa`, { question: 'Fails upstream?' }), capture));
      gemini.enqueue({ type: 'error', status: 400, body: quoted });
      statuses.push(
        await send(
          base,
          postJson(`${base}/v1/chat/completions`, {
            model: 'gemini-2.5-flash',
            messages: [{ role: 'user', content: 'fail' }],
          }),
          capture,
        ),
      );
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5).every((s) => s >= 400)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await stack.service.stop();
    }, 60_000);

    afterAll(async () => {
      await stack?.stop();
      await gemini?.close();
    });

    it('sent the Gemini key to Gemini, on every call', () => {
      expect(gemini.requests.length).toBeGreaterThanOrEqual(7);
      for (const request of gemini.requests) expect(JSON.stringify(request.headers)).toContain(SECRETS.GEMINI_API_KEY);
    });

    it('emitted no secret, no secret prefix, no API key hash, and the prompt secret only redacted', () => {
      const sources = emitted(stack, capture);
      expect(stack.agent.spans.length).toBeGreaterThan(5);
      expect(leaks(sources, NEEDLES)).toEqual([]);
      const { response: _responses, ...telemetry } = sources;
      expect(leaks(telemetry, PROMPT_NEEDLES)).toEqual([]);
    });
  });
});
