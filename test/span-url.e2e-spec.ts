import { request as httpRequest } from 'node:http';
import { bearer, TEST_API_KEYS_ENV } from './support/api-keys';
import { startWithTelemetry, type TelemetryStack } from './support/http';

/**
 * The HTTP server span's `http.url` is the request's URL as dd-trace records it: path and query as sent (dd-trace
 * obfuscates only `token=`/`api_key=`-like query parameters). Like every other text the service traces
 * (docs/telemetry.md, "Logs"), it goes through the PII redactor and is truncated: an e-mail or an API key in a path
 * parameter, a query parameter or an unknown path, percent-encoded or not, never reaches the trace agent; a URL
 * without any keeps its exact form.
 */
const EMAIL = 'jane.doe@example.com';
/** An API key of the service's own shape (`lrcp_...`), as a caller could paste it in a URL by mistake. */
const PASTED_KEY = 'lrcp_live_Pasted0Key0In0A0Url0123456789XYZ';
const NEEDLES = [EMAIL, 'jane.doe%40example.com', PASTED_KEY, PASTED_KEY.slice(10)];

describe('http.url on the server spans: redacted and bounded', () => {
  let stack: TelemetryStack;
  const urls = new Map<string, string>();

  beforeAll(async () => {
    stack = await startWithTelemetry({ AUTH_DISABLED: 'false', API_KEYS: TEST_API_KEYS_ENV });
    const base = stack.service.url;
    const auth = bearer('all');
    const calls: [string, string, Record<string, string>][] = [
      ['model id', `/v1/models/${EMAIL}`, auth],
      ['recommendation id', `/optimization/recommendations/${PASTED_KEY}`, auth],
      ['encoded query value', `/forecast/cost?hours=2&owner=${encodeURIComponent(EMAIL)}`, auth],
      ['query value', `/forecast/cost?hours=2&note=${PASTED_KEY}`, auth],
      ['unknown path, no key', `/${PASTED_KEY}/${EMAIL}`, {}],
      ['long path', `/ui/assets/${'a'.repeat(4000)}.js`, {}],
      ['clean', '/health?probe=1', {}],
      ['user agent', '/health', { 'user-agent': `crawler/1.0 (+mailto:${EMAIL}) ${'x'.repeat(4000)}` }],
    ];
    for (const [name, path, headers] of calls) {
      const response = await fetch(`${base}${path}`, { headers });
      expect(response.status).toBeLessThan(500);
      await response.arrayBuffer();
      urls.set(name, path);
    }
    // Reached by a pod address (a kubelet probe): the Host header's address is the service's own, kept as is.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${base}/health`, { headers: { host: '10.1.2.3:8080' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    await stack.service.stop();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const serverUrls = (): string[] =>
    stack.agent.spans.filter((s) => s.meta['span.kind'] === 'server').map((s) => s.meta['http.url'] ?? '');

  it('sent no e-mail and no pasted key in any span, and marked where they were', () => {
    const all = serverUrls();
    expect(all.length).toBeGreaterThanOrEqual(urls.size);
    for (const needle of NEEDLES) expect(all.filter((url) => url.includes(needle))).toEqual([]);
    expect(stack.agent.allText()).not.toContain(PASTED_KEY);
    const marked = all.filter((url) => /\[REDACTED:[A-Z_]+\]/.test(url));
    expect(marked.length).toBeGreaterThanOrEqual(5);
    expect(marked.some((url) => url.includes('/v1/models/[REDACTED:EMAIL]'))).toBe(true);
    expect(marked.some((url) => url.includes('/forecast/cost?hours=2&owner=[REDACTED:EMAIL]'))).toBe(true);
  });

  it('bounds a long URL and User-Agent (redacted too), and keeps a clean URL (and its Host) exactly as sent', () => {
    const all = serverUrls();
    const long = all.filter((url) => url.includes('/ui/assets/aaaa'));
    expect(long).toHaveLength(1);
    expect(long[0]!.length).toBeLessThan(400);
    expect(all).toContain(`${stack.service.url}/health?probe=1`);
    expect(all).toContain('http://10.1.2.3:8080/health');
    const agents = stack.agent.spans.map((s) => s.meta['http.useragent'] ?? '');
    const crawler = agents.filter((agent) => agent.startsWith('crawler/1.0'));
    expect(crawler).toEqual([expect.stringContaining('(+mailto:[REDACTED:EMAIL])')]);
    expect(crawler[0]!.length).toBeLessThan(400);
  });
});
