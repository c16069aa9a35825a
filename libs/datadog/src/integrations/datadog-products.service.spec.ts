import type { AppConfig } from '@app/config';
import { type AgentProbe, InMemoryMetrics, type MetricsHealth, NoopTracer, type TracerStatus } from '@app/telemetry';
import { testConfig } from '../../../../test/support/app-config';
import { FakeDatadogApi } from '../../../../test/support/fake-datadog-api';
import { type FakeIntegrations, registerIntegrationRoutes } from '../../../../test/support/fake-datadog-integrations';
import { createDatadogIntegrations } from '../datadog.module';
import type { DatadogProductDto } from './dto/datadog-integrations.dto';
import { API_CHECK_CACHE_MS, DatadogProductsService } from './datadog-products.service';

const API_PRODUCTS = [
  'incidents',
  'metrics_query',
  'synthetics',
  'notebooks',
  'workflow_automation',
  'monitors_dashboards_slos',
];

/** A tracer whose status and agent probe the test sets. */
function tracer(status: TracerStatus, probe?: AgentProbe): NoopTracer {
  return Object.assign(new NoopTracer(), {
    status: () => status,
    probeAgent: () => Promise.resolve(probe),
  });
}

function metrics(health: Partial<MetricsHealth> = {}): InMemoryMetrics {
  const base = new InMemoryMetrics();
  return Object.assign(base, {
    health: (): MetricsHealth => ({ ok: true, target: 'udp://127.0.0.1:8125', sendErrors: 0, ...health }),
  });
}

const byKey = (products: DatadogProductDto[]) => new Map(products.map((p) => [p.product, p]));

describe('GET /datadog/products: configured and reachable, only as far as checked', () => {
  let api: FakeDatadogApi;
  let fake: FakeIntegrations;
  const config = (env: Record<string, string> = {}): AppConfig =>
    testConfig({ DATADOG_API_URL: api.url, DD_API_KEY: 'fake-api-key-123', DD_APP_KEY: 'fake-app-key-123', ...env });
  const products = (cfg: AppConfig, t = tracer({ enabled: false, llmobsEnabled: false }), m = metrics()) =>
    new DatadogProductsService(cfg, createDatadogIntegrations(cfg), t, m);

  beforeEach(async () => {
    api = await new FakeDatadogApi().start();
    fake = registerIntegrationRoutes(api);
  });
  afterEach(() => api.close());

  it('lists every product once, with no total to disagree with the list', async () => {
    const answer = await products(config()).products();
    expect(Object.keys(answer).sort()).toEqual(['api_url', 'products', 'site']);
    expect(answer.products.map((p) => p.product)).toEqual([
      'apm_traces',
      'llm_observability',
      'dogstatsd_metrics',
      'logs',
      ...API_PRODUCTS,
    ]);
  });

  it('says the REST API products are reachable after GET /api/v1/validate accepted the key, and checks once a minute', async () => {
    const service = products(config());
    const first = byKey((await service.products(1_000_000, 1_000_000)).products);
    for (const key of API_PRODUCTS) {
      expect(first.get(key)).toMatchObject({ configured: true, reachable: true, checked_at: expect.any(String) });
      expect(first.get(key)!.reason).toContain('/api/v1/validate answered 200');
    }
    await service.products(1_000_000 + API_CHECK_CACHE_MS - 1, 1_000_000 + API_CHECK_CACHE_MS - 1);
    expect(api.received('GET', '/api/v1/validate')).toHaveLength(1);
    await service.products(1_000_000 + API_CHECK_CACHE_MS, 1_000_000 + API_CHECK_CACHE_MS);
    expect(api.received('GET', '/api/v1/validate')).toHaveLength(2);
  });

  it('checks again after a minute on the monotonic clock, though the wall clock stepped back an hour meanwhile', async () => {
    const service = products(config());
    const wall = Date.UTC(2026, 11, 7, 12);
    await service.products(wall, 5_000);
    // NTP or a VM resumed stepped the wall clock back an hour; a minute went by.
    const again = byKey(
      (await service.products(wall - 3_600_000 + API_CHECK_CACHE_MS, 5_000 + API_CHECK_CACHE_MS)).products,
    );
    expect(api.received('GET', '/api/v1/validate')).toHaveLength(2);
    expect(again.get('synthetics')!.checked_at).toBe(new Date(wall - 3_600_000 + API_CHECK_CACHE_MS).toISOString());
  });

  it('says unreachable when Datadog refuses the key (403), fails (5xx) or does not answer', async () => {
    fake.apiKeyValid = false;
    let answer = byKey((await products(config()).products()).products);
    expect(answer.get('synthetics')).toMatchObject({ configured: true, reachable: false });
    expect(answer.get('synthetics')!.reason).toContain('403');

    fake.apiKeyValid = true;
    fake.fail('validate', { status: 503, body: { errors: ['Service Unavailable'] } });
    answer = byKey((await products(config()).products()).products);
    expect(answer.get('incidents')).toMatchObject({ reachable: false });
    expect(answer.get('incidents')!.reason).toContain('HTTP 503');

    await api.down();
    answer = byKey((await products(config()).products()).products);
    expect(answer.get('notebooks')).toMatchObject({ configured: true, reachable: false });
    expect(answer.get('notebooks')!.reason).toContain('no answer');
  });

  it('without keys: the API products are not configured and unknown, and nothing is called', async () => {
    const answer = byKey((await products(config({ DD_API_KEY: '', DD_APP_KEY: '' })).products()).products);
    for (const key of API_PRODUCTS) {
      expect(answer.get(key)).toMatchObject({ configured: false, reachable: null, checked_at: null });
      expect(answer.get(key)!.reason).toContain('DD_API_KEY');
    }
    expect(api.requests).toEqual([]);
  });

  it('says the agent products are reachable only when the agent answered, unknown when tracing is off', async () => {
    const on = { enabled: true, agentUrl: 'http://127.0.0.1:8126', llmobsEnabled: true };
    let answer = byKey(
      (
        await products(
          config(),
          tracer(on, { reachable: true, detail: 'agent at http://127.0.0.1:8126 answers' }),
        ).products()
      ).products,
    );
    expect(answer.get('apm_traces')).toMatchObject({ configured: true, reachable: true });
    expect(answer.get('llm_observability')).toMatchObject({ configured: true, reachable: true });
    expect(answer.get('llm_observability')!.reason).toContain('not checked');

    answer = byKey(
      (
        await products(
          config(),
          tracer(on, { reachable: false, detail: 'cannot reach the agent at http://127.0.0.1:8126: ECONNREFUSED' }),
        ).products()
      ).products,
    );
    expect(answer.get('apm_traces')).toMatchObject({ reachable: false });
    expect(answer.get('apm_traces')!.reason).toContain('ECONNREFUSED');

    answer = byKey((await products(config()).products()).products);
    expect(answer.get('apm_traces')).toMatchObject({ configured: false, reachable: null });
    expect(answer.get('llm_observability')).toMatchObject({ configured: false, reachable: null });
  });

  it('never claims DogStatsD or logs reachable: unknown, or unreachable after send errors', async () => {
    let answer = byKey((await products(config()).products()).products);
    expect(answer.get('dogstatsd_metrics')).toMatchObject({ configured: true, reachable: null, checked_at: null });
    expect(answer.get('logs')).toMatchObject({ configured: true, reachable: null, checked_at: null });
    answer = byKey(
      (
        await products(
          config(),
          undefined,
          metrics({ ok: false, sendErrors: 4, lastError: 'getaddrinfo ENOTFOUND agent' }),
        ).products()
      ).products,
    );
    expect(answer.get('dogstatsd_metrics')).toMatchObject({ reachable: false });
    expect(answer.get('dogstatsd_metrics')!.reason).toContain('ENOTFOUND');
  });
});
