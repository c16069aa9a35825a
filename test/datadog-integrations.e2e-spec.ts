import { FakeDatadogApi } from './support/fake-datadog-api';
import { type FakeIntegrations, registerIntegrationRoutes } from './support/fake-datadog-integrations';
import { type LlmBody, post } from './support/http';
import { ServiceProcess } from './support/service-process';

const API_KEY = 'e2e-api-key-0123456789';
const APP_KEY = 'e2e-app-key-9876543210';
const WORKFLOW_ID = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const PROXY_PASSWORD = 'Pr0xy-Pa55word';

interface Product {
  product: string;
  configured: boolean;
  reachable: boolean | null;
  reason: string;
}
interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: { field: string; reason: string }[];
  datadogStatus?: number | null;
}
interface Assertion {
  type: string;
  operator: string;
  property?: string;
  target?: unknown;
}
interface SyntheticWire {
  config: {
    request: { method: string; url: string; headers?: Record<string, string>; body?: string };
    assertions: Assertion[];
  };
}

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;
const products = async (service: ServiceProcess): Promise<Map<string, Product>> => {
  const response = await fetch(`${service.url}/datadog/products`);
  expect(response.status).toBe(200);
  const body = await json<{ products: Product[] }>(response);
  expect(body).not.toHaveProperty('total_products');
  return new Map(body.products.map((p) => [p.product, p]));
};

/**
 * `/datadog/*` on the built service: the real SDK against a loopback Datadog API (DATADOG_API_URL), dummy keys.
 * Three processes: one with the API up, one whose API is down and without PUBLIC_BASE_URL, one without keys.
 */
describe('/datadog/* (built service, loopback Datadog API)', () => {
  let api: FakeDatadogApi;
  let fake: FakeIntegrations;
  let deadApi: FakeDatadogApi;
  let service: ServiceProcess;
  let downService: ServiceProcess;
  let unconfigured: ServiceProcess;

  beforeAll(async () => {
    api = await new FakeDatadogApi().start();
    fake = registerIntegrationRoutes(api);
    deadApi = await new FakeDatadogApi().start();
    await deadApi.down();
    const common = { DD_TRACE_ENABLED: 'false', DD_SERVICE: 'llm-e2e', DD_ENV: 'e2e', DD_DOGSTATSD_PORT: '9' };
    [service, downService, unconfigured] = await Promise.all([
      new ServiceProcess({
        ...common,
        DATADOG_API_URL: api.url,
        DD_API_KEY: API_KEY,
        DD_APP_KEY: APP_KEY,
        PUBLIC_BASE_URL: 'https://127.0.0.1:8443',
        DATADOG_NOTIFY_HANDLES: '@slack-e2e',
      }).start(),
      // Credentials in both URLs (a proxy's): what the service says about them must never carry them.
      new ServiceProcess({
        ...common,
        DATADOG_API_URL: deadApi.url.replace('://', `://proxy-user:${PROXY_PASSWORD}@`),
        DD_API_KEY: API_KEY,
        DD_APP_KEY: APP_KEY,
        DD_TRACE_ENABLED: 'true',
        DD_TRACE_AGENT_URL: `http://agent-user:${PROXY_PASSWORD}@127.0.0.1:9`,
      }).start(),
      new ServiceProcess({ ...common, DATADOG_API_URL: api.url, PUBLIC_BASE_URL: 'https://127.0.0.1:8443' }).start(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([service?.stop(), downService?.stop(), unconfigured?.stop()]);
    await api?.close();
  });

  afterEach(() => fake.clear());

  it('GET /datadog/products: the API products reachable when Datadog accepted the key, agent-side ones unknown', async () => {
    const listed = await products(service);
    for (const key of ['incidents', 'metrics_query', 'synthetics', 'notebooks', 'workflow_automation']) {
      expect(listed.get(key)).toMatchObject({ configured: true, reachable: true });
    }
    expect(listed.get('logs')).toMatchObject({ reachable: null });
    expect(listed.get('dogstatsd_metrics')).toMatchObject({ reachable: null });
    expect(listed.get('apm_traces')).toMatchObject({ configured: false, reachable: null });
    expect(api.received('GET', '/api/v1/validate').length).toBeGreaterThanOrEqual(1);
  });

  it('GET /datadog/products: unreachable when the Datadog API is down, not configured without keys', async () => {
    const down = await products(downService);
    expect(down.get('synthetics')).toMatchObject({ configured: true, reachable: false });
    expect(down.get('synthetics')!.reason).toContain('no answer');
    // The URLs' credentials are not in the answer (they were: the agent's in `use`, the API's in each `reason`).
    const text = await (await fetch(`${downService.url}/datadog/products`)).text();
    expect(text).toContain('127.0.0.1');
    expect(text).not.toContain(PROXY_PASSWORD);
    expect(text).not.toContain('proxy-user');
    expect(text).not.toContain('agent-user');
    const none = await products(unconfigured);
    expect(none.get('synthetics')).toMatchObject({ configured: false, reachable: null });
  });

  it('POST /datadog/synthetics/create: a /health test at PUBLIC_BASE_URL whose assertions the real /health passes', async () => {
    const before = fake.syntheticTests.length;
    const response = await post(`${service.url}/datadog/synthetics/create`, { kind: 'health', tick_every: 300 });
    expect(response.status).toBe(201);
    const created = await json<{ public_id: string; target_url: string; tick_every: number }>(response);
    expect(created).toMatchObject({ target_url: 'https://127.0.0.1:8443/health', tick_every: 300 });
    const test = fake.syntheticTests[before] as unknown as SyntheticWire & { message: string; tags: string[] };
    expect(test.config.request.url).toBe('https://127.0.0.1:8443/health');
    expect(test.message).toContain('@slack-e2e');
    expect(test.tags).toEqual(expect.arrayContaining(['service:llm-e2e', 'env:e2e', 'managed-by:llm-control-plane']));

    // Replay the test's request against the running service and check each assertion Datadog would.
    const health = await fetch(`${service.url}/health`);
    const body = (await health.json()) as Record<string, unknown>;
    for (const assertion of test.config.assertions) {
      if (assertion.type === 'statusCode') expect(health.status).toBe(assertion.target);
      if (assertion.type === 'header') expect(health.headers.get(assertion.property!)).toContain(assertion.target);
      if (assertion.operator === 'validatesJSONPath') {
        const target = assertion.target as { jsonPath: string; targetValue: unknown };
        expect(body[target.jsonPath.replace('$.', '')]).toBe(target.targetValue);
      }
    }
  });

  it('POST /datadog/synthetics/create: a /qa test whose request the real /qa answers with a non-empty answer', async () => {
    const before = fake.syntheticTests.length;
    const response = await post(`${service.url}/datadog/synthetics/create`, { kind: 'qa' });
    expect(response.status).toBe(201);
    const test = fake.syntheticTests[before] as unknown as SyntheticWire;
    expect(test.config.request.url).toBe('https://127.0.0.1:8443/qa');
    const qa = await fetch(`${service.url}/qa`, {
      method: test.config.request.method,
      headers: test.config.request.headers,
      body: test.config.request.body,
    });
    expect(qa.status).toBe(200);
    const answer = (await qa.json()) as LlmBody;
    const jsonPath = test.config.assertions.find((a) => a.operator === 'validatesJSONPath')!.target as {
      jsonPath: string;
      targetValue: string;
    };
    expect(jsonPath.jsonPath).toBe('$.answer');
    expect(answer.answer).toMatch(new RegExp(jsonPath.targetValue));
  });

  it('POST /datadog/synthetics/create: never takes a URL from the request; bad input is a 400 naming the field', async () => {
    const withUrl = await post(`${service.url}/datadog/synthetics/create`, {
      kind: 'health',
      url: 'http://169.254.169.254/latest',
    });
    expect(withUrl.status).toBe(400);
    expect((await json<Problem>(withUrl)).errors).toEqual([{ field: 'url', reason: 'property url should not exist' }]);

    const bad = await post(`${service.url}/datadog/synthetics/create`, {
      kind: 'browser',
      tick_every: 10,
      locations: Array.from({ length: 11 }, (_, i) => `aws:r-${i}`),
    });
    expect(bad.status).toBe(400);
    const fields = (await json<Problem>(bad)).errors!.map((e) => e.field).sort();
    expect(fields).toEqual(['kind', 'locations', 'tick_every']);
  });

  it('POST /datadog/synthetics/create without PUBLIC_BASE_URL: 409 saying to set it', async () => {
    const response = await post(`${downService.url}/datadog/synthetics/create`, { kind: 'health' });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json<Problem>(response);
    expect(problem.code).toBe('PUBLIC_BASE_URL_NOT_CONFIGURED');
    expect(problem.detail).toContain('PUBLIC_BASE_URL');
  });

  it('POST /datadog/notebooks/create: a root-cause notebook; bad input names the field', async () => {
    const response = await post(`${service.url}/datadog/notebooks/create`, {
      template: 'root-cause',
      incident_id: 'INC-7',
      title: 'Latency "spike"',
      time_range_hours: 12,
    });
    expect(response.status).toBe(201);
    expect(await json<Record<string, unknown>>(response)).toMatchObject({
      name: 'Latency "spike"',
      template: 'root-cause',
      url: expect.stringMatching(/\/notebook\/\d+$/) as unknown,
    });
    const bad = await post(`${service.url}/datadog/notebooks/create`, { template: 'cost', time_range_hours: 0 });
    expect(bad.status).toBe(400);
    expect((await json<Problem>(bad)).errors!.map((e) => e.field)).toEqual(['time_range_hours']);
  });

  it('POST /datadog/workflows/trigger: starts an instance; a bad id or oversized inputs is a 400 naming the field', async () => {
    const response = await post(`${service.url}/datadog/workflows/trigger`, {
      workflow_id: WORKFLOW_ID,
      inputs: { reason: 'e2e' },
    });
    expect(response.status).toBe(201);
    const started = await json<{ instance_id: string }>(response);
    expect(fake.workflowInstances.at(-1)).toMatchObject({
      workflowId: WORKFLOW_ID,
      instanceId: started.instance_id,
      body: { meta: { payload: { reason: 'e2e' } } },
    });
    const badId = await post(`${service.url}/datadog/workflows/trigger`, { workflow_id: '../../v1/validate' });
    expect(badId.status).toBe(400);
    expect((await json<Problem>(badId)).errors!.map((e) => e.field)).toEqual(['workflow_id']);
    const big = await post(`${service.url}/datadog/workflows/trigger`, {
      workflow_id: WORKFLOW_ID,
      inputs: { text: 'x'.repeat(20_000) },
    });
    expect(big.status).toBe(400);
    expect((await json<Problem>(big)).errors!.map((e) => e.field)).toEqual(['inputs']);
  });

  it("Datadog's 403 is a 403 problem, its 500 a 502 with datadogStatus: no success, no key", async () => {
    fake.fail('synthetics', { status: 403, body: { errors: ['Forbidden'] } });
    const forbidden = await post(`${service.url}/datadog/synthetics/create`, { kind: 'health' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toContain('application/problem+json');
    const text = await forbidden.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'DATADOG_FORBIDDEN', datadogStatus: 403 });
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(APP_KEY);

    fake.fail('workflows', { status: 500, body: { errors: ['Internal Server Error'] } });
    const failed = await post(`${service.url}/datadog/workflows/trigger`, { workflow_id: WORKFLOW_ID });
    expect(failed.status).toBe(502);
    expect(await json<Problem>(failed)).toMatchObject({ code: 'DATADOG_UPSTREAM_ERROR', datadogStatus: 500 });
  });

  it('without keys every POST is a 503 naming DD_API_KEY and DD_APP_KEY', async () => {
    for (const [path, body] of [
      ['synthetics/create', { kind: 'health' }],
      ['notebooks/create', { template: 'cost' }],
      ['workflows/trigger', { workflow_id: WORKFLOW_ID }],
    ] as const) {
      const response = await post(`${unconfigured.url}/datadog/${path}`, body);
      expect(response.status).toBe(503);
      const problem = await json<Problem>(response);
      expect(problem.code).toBe('DATADOG_NOT_CONFIGURED');
      expect(problem.detail).toContain('DD_API_KEY and DD_APP_KEY');
    }
  });
});
