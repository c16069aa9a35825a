import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TEST_API_KEYS, TEST_API_KEYS_ENV } from './support/api-keys';
import { ServiceProcess } from './support/service-process';

const root = resolve(__dirname, '..');

interface Assertion {
  type: string;
  operator: string;
  property?: string;
  target: unknown;
}

interface SyntheticFile {
  name: string;
  config: {
    request: { method: string; url: string; headers?: Record<string, string>; body?: string };
    assertions: Assertion[];
  };
}

/**
 * The Synthetics global variables the operator creates in Datadog (docs/datadog-integrations.md), as a Datadog
 * location fills `{{ NAME }}` in a test's request: here with a key holding the `invoke` scope only.
 */
const GLOBAL_VARIABLES: Record<string, string> = { LLM_CP_SYNTHETICS_API_KEY: TEST_API_KEYS.invoke };

const synthetics = readdirSync(join(root, 'datadog/synthetics'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: `datadog/synthetics/${f}`, text: readFileSync(join(root, 'datadog/synthetics', f), 'utf8') }));

/** What a Datadog location sends: the file rendered for `baseUrl`, then `{{ NAME }}` filled from the variables. */
function requestOf(text: string, baseUrl: string): SyntheticFile['config']['request'] {
  const rendered = JSON.parse(
    text.replace(/\[\[(\w+)(?::[\w.-]+)?\]\]/g, (_, name: string) => (name === 'public_base_url' ? baseUrl : 'x')),
  ) as SyntheticFile;
  const fill = (value: string): string =>
    value.replace(/\{\{\s*([A-Z0-9_]+)\s*\}\}/g, (_, name: string) => {
      const found = GLOBAL_VARIABLES[name];
      if (found === undefined) throw new Error(`{{ ${name} }} is no Synthetics global variable the docs name`);
      return found;
    });
  const { method, url, headers, body } = rendered.config.request;
  return {
    method,
    url: fill(url),
    headers: headers && Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, fill(v)])),
    body: body === undefined ? undefined : fill(body),
  };
}

/**
 * Each synthetic test of datadog/synthetics/, run as a Datadog location runs it against the built service deployed
 * as in production: API keys required (AUTH_DISABLED=false). Before, the /qa test sent no key: against any service
 * with auth on, every run was a 401 and its monitor alerted for good, the service answering fine.
 */
describe('the synthetic tests pass against the built service with its API keys required', () => {
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await new ServiceProcess({ AUTH_DISABLED: 'false', API_KEYS: TEST_API_KEYS_ENV }).start();
  });
  afterAll(async () => {
    await service?.stop();
  });

  it.each(synthetics.map((s) => [s.file, s.text]))('%s: every assertion holds', async (_file, text) => {
    const request = requestOf(text, service.url);
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(60_000),
    });
    const raw = await response.text();
    const assertions = (JSON.parse(text) as SyntheticFile).config.assertions;
    const failed: string[] = [];
    for (const a of assertions) {
      if (a.type === 'statusCode' && response.status !== a.target) failed.push(`status ${response.status}: ${raw}`);
      if (a.type === 'header' && !(response.headers.get(a.property!) ?? '').includes(String(a.target)))
        failed.push(`header ${a.property}: ${response.headers.get(a.property!)}`);
      if (a.operator === 'validatesJSONPath') {
        const { jsonPath, operator, targetValue } = a.target as {
          jsonPath: string;
          operator: string;
          targetValue: string;
        };
        let value: unknown;
        try {
          value = (JSON.parse(raw) as Record<string, unknown>)[jsonPath.replace(/^\$\./, '')];
        } catch {
          value = undefined;
        }
        const holds =
          operator === 'is' ? value === targetValue : typeof value === 'string' && new RegExp(targetValue).test(value);
        if (!holds) failed.push(`${jsonPath} ${operator} ${targetValue}: got ${JSON.stringify(value)}`);
      }
    }
    expect(failed).toEqual([]);
  });

  it('a test of a route that needs a key sends it from a Datadog variable, never a key written in the file', () => {
    for (const { file, text } of synthetics) {
      const headers = (JSON.parse(text) as SyntheticFile).config.request.headers ?? {};
      for (const [name, value] of Object.entries(headers)) {
        if (/^(authorization|x-api-key)$/i.test(name))
          expect([file, value]).toEqual([file, expect.stringMatching(/^(Bearer )?\{\{ ?[A-Z0-9_]+ ?\}\}$/)]);
      }
    }
    const docs = readFileSync(join(root, 'docs/datadog-integrations.md'), 'utf8');
    for (const name of Object.keys(GLOBAL_VARIABLES)) expect(docs).toContain(`\`${name}\``);
  });
});
