import { bearer, TEST_API_KEYS_ENV } from './support/api-keys';
import { FakeDatadogApi } from './support/fake-datadog-api';
import { startWithTelemetry, type TelemetryStack } from './support/http';

/**
 * A Datadog API that refuses a call and quotes the keys it was sent in its answer (an API gateway or proxy in front
 * of it, a debugging echo): Datadog's answer is read into the error the service reports, so the keys must be
 * scrubbed from it before it reaches anyone. Before, `source: datadog` attribution put the SDK's message, with the
 * whole answer, in its 502 detail: a caller holding a `read` key got DD_API_KEY and DD_APP_KEY, and so did the
 * request span's `error.message` and `error.stack`.
 */
const DD_API_KEY = 'ddapi-FAKE-echoed0back0by0the0api0123456';
const DD_APP_KEY = 'ddapp-FAKE-echoed0back0by0the0api0abcdefgh';
const NEEDLES = [DD_API_KEY, DD_APP_KEY, DD_API_KEY.slice(11), DD_APP_KEY.slice(11)];

describe('a Datadog answer quoting the keys: scrubbed from answers, spans and logs', () => {
  let api: FakeDatadogApi;
  let stack: TelemetryStack;
  const answers: { status: number; body: string }[] = [];

  beforeAll(async () => {
    api = await new FakeDatadogApi().start();
    api.route('GET', '/api/v1/query', (request) => ({
      status: 403,
      body: {
        errors: [
          `Forbidden: API key ${String(request.headers['dd-api-key'])} with application key ${String(request.headers['dd-application-key'])} is not allowed`,
        ],
      },
    }));
    stack = await startWithTelemetry({
      AUTH_DISABLED: 'false',
      API_KEYS: TEST_API_KEYS_ENV,
      DATADOG_API_URL: api.url,
      DD_API_KEY,
      DD_APP_KEY,
    });
    const base = stack.service.url;
    const calls: [string, RequestInit][] = [
      [
        '/optimization/attribute-anomaly',
        {
          method: 'POST',
          headers: { ...bearer('read'), 'content-type': 'application/json' },
          body: JSON.stringify({ metric: 'cost', source: 'datadog' }),
        },
      ],
      [
        '/optimization/anomaly/attribute?metric_name=latency&source=datadog',
        { method: 'POST', headers: bearer('read') },
      ],
    ];
    for (const [path, init] of calls) {
      const response = await fetch(`${base}${path}`, init);
      answers.push({ status: response.status, body: await response.text() });
    }
    await stack.service.stop();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await api?.close();
  });

  it('answered 502 ATTRIBUTION_SOURCE_FAILED with Datadog’s status and reason, without the keys', () => {
    expect(api.requests.filter((r) => r.path === '/api/v1/query').length).toBeGreaterThanOrEqual(2);
    for (const answer of answers) {
      expect(answer.status).toBe(502);
      const problem = JSON.parse(answer.body) as { code: string; detail: string };
      expect(problem.code).toBe('ATTRIBUTION_SOURCE_FAILED');
      for (const needle of NEEDLES) expect(problem.detail).not.toContain(needle);
      expect(problem.detail).toContain('HTTP 403');
      expect(problem.detail).toContain('is not allowed');
    }
  });

  it('sent neither key to the trace agent nor wrote it in a log line', () => {
    const errors = stack.agent.spans.filter((s) => s.meta['error.message']?.includes('metrics query'));
    expect(errors.length).toBeGreaterThanOrEqual(2);
    const texts = [stack.agent.allText(), ...stack.service.stdout, ...stack.service.stderr];
    const found = texts.flatMap((text) => NEEDLES.filter((needle) => text.includes(needle)));
    expect(found).toEqual([]);
  });
});
