import { BasicTextRedactor, DomainError } from '@app/common';
import type { AppConfig } from '@app/config';
import { testConfig } from '../../../../test/support/app-config';
import { FakeDatadogApi } from '../../../../test/support/fake-datadog-api';
import { type FakeIntegrations, registerIntegrationRoutes } from '../../../../test/support/fake-datadog-integrations';
import { createDatadogIntegrations } from '../datadog.module';
import { DatadogIntegrationsClientAdapter } from './adapters/datadog-integrations-client.adapter';
import { DatadogRequestError } from './datadog-integrations.errors';
import type { DatadogIntegrationsPort } from './datadog-integrations.port';
import { DatadogIntegrationsService } from './datadog-integrations.service';
import { IntegrationTemplates } from './integration-templates';

/** A synthetic API test as Datadog receives it (the fields the tests read). */
interface SyntheticWire {
  type: string;
  subtype: string;
  name: string;
  message: string;
  locations: string[];
  tags: string[];
  options: { tick_every: number };
  config: { request: Record<string, unknown> & { body?: string }; assertions: unknown[] };
}

/** A notebook create request as Datadog receives it. */
interface NotebookWire {
  data: {
    type: string;
    attributes: {
      name: string;
      time: unknown;
      cells: {
        type: string;
        attributes: { definition: { type: string; text?: string; requests?: { q: string }[] } };
      }[];
    };
  };
}

const API_KEY = 'fake-api-key-1234567';
const APP_KEY = 'fake-app-key-7654321';
const templates = IntegrationTemplates.load();

/** The problem a call ended with (fails the test when it succeeded: no fake success). */
async function problemOf(call: Promise<unknown>): Promise<DomainError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(DomainError);
  return outcome.error as DomainError;
}

describe('Datadog integrations: the real SDK adapter and the service against a loopback Datadog API', () => {
  let api: FakeDatadogApi;
  let fake: FakeIntegrations;
  const config = (env: Record<string, string> = {}): AppConfig =>
    testConfig({
      DATADOG_API_URL: api.url,
      DD_API_KEY: API_KEY,
      DD_APP_KEY: APP_KEY,
      DD_SERVICE: 'llm-cp',
      DD_ENV: 'staging',
      PUBLIC_BASE_URL: 'https://127.0.0.1:8443/',
      DATADOG_NOTIFY_HANDLES: '@slack-llm-oncall,@pagerduty-llm',
      DATADOG_APP_URL: 'https://app.datadoghq.eu',
      ...env,
    });
  const service = (cfg = config(), port: DatadogIntegrationsPort = createDatadogIntegrations(cfg)) =>
    new DatadogIntegrationsService(cfg, port, templates, new BasicTextRedactor());

  beforeEach(async () => {
    api = await new FakeDatadogApi().start();
    fake = registerIntegrationRoutes(api);
  });
  afterEach(() => api.close());

  describe('POST /datadog/synthetics/create', () => {
    it('creates a /health API test at PUBLIC_BASE_URL with the assertions /health really answers', async () => {
      const created = await service().createSyntheticTest({ kind: 'health' });

      const [posted] = api.received('POST', '/api/v1/synthetics/tests/api');
      expect(posted!.headers['dd-api-key']).toBe(API_KEY);
      expect(posted!.headers['dd-application-key']).toBe(APP_KEY);
      const test = posted!.body as SyntheticWire;
      expect(test).toMatchObject({ type: 'api', subtype: 'http' });
      expect(test.config.request).toEqual({ method: 'GET', url: 'https://127.0.0.1:8443/health', timeout: 10 });
      expect(test.config.assertions).toEqual([
        { type: 'statusCode', operator: 'is', target: 200 },
        { type: 'header', property: 'content-type', operator: 'contains', target: 'application/json' },
        {
          type: 'body',
          operator: 'validatesJSONPath',
          target: { jsonPath: '$.status', operator: 'is', targetValue: 'ok' },
        },
        { type: 'responseTime', operator: 'lessThan', target: 1000 },
      ]);
      expect(test.locations).toEqual(['aws:us-east-1', 'aws:eu-west-1']);
      expect(test.options.tick_every).toBe(60);
      expect(test.tags).toEqual(
        expect.arrayContaining(['service:llm-cp', 'env:staging', 'managed-by:llm-control-plane']),
      );
      expect(test.message).toContain('@slack-llm-oncall @pagerduty-llm');
      expect(JSON.stringify(test)).not.toMatch(/\[\[/);
      expect(created).toEqual({
        public_id: 'abc-def-001',
        name: test.name,
        kind: 'health',
        target_url: 'https://127.0.0.1:8443/health',
        locations: ['aws:us-east-1', 'aws:eu-west-1'],
        tick_every: 60,
        monitor_id: 9001,
        url: 'https://app.datadoghq.eu/synthetics/details/abc-def-001',
      });
    });

    it('creates a /qa test that posts a fixed question and asserts a non-empty answer, with the locations and interval asked', async () => {
      const created = await service().createSyntheticTest({
        kind: 'qa',
        locations: ['aws:eu-central-1', 'pl:office-abc123'],
        tick_every: 7200,
      });
      const test = fake.syntheticTests[0] as unknown as SyntheticWire;
      expect(test.config.request).toMatchObject({
        method: 'POST',
        url: 'https://127.0.0.1:8443/qa',
        headers: { 'content-type': 'application/json' },
        bodyType: 'application/json',
      });
      expect(JSON.parse(test.config.request.body!)).toEqual({ question: expect.any(String) as unknown });
      expect(test.config.assertions).toContainEqual({
        type: 'body',
        operator: 'validatesJSONPath',
        target: { jsonPath: '$.answer', operator: 'matches', targetValue: '\\S' },
      });
      expect(test.config.assertions).toContainEqual({ type: 'statusCode', operator: 'is', target: 200 });
      expect(test.locations).toEqual(['aws:eu-central-1', 'pl:office-abc123']);
      expect(test.options.tick_every).toBe(7200);
      expect(created).toMatchObject({ kind: 'qa', tick_every: 7200, target_url: 'https://127.0.0.1:8443/qa' });
    });

    it('without PUBLIC_BASE_URL answers 409 naming it, and sends nothing', async () => {
      const problem = await problemOf(service(config({ PUBLIC_BASE_URL: '' })).createSyntheticTest({ kind: 'health' }));
      expect(problem).toMatchObject({ status: 409, code: 'PUBLIC_BASE_URL_NOT_CONFIGURED' });
      expect(problem.detail).toContain('PUBLIC_BASE_URL');
      expect(api.requests).toEqual([]);
    });
  });

  describe('POST /datadog/notebooks/create', () => {
    it('creates a v1 notebook of markdown and timeseries cells, scoped to the service and env, the title escaped', async () => {
      const title = 'Outage "big" one\nsecond line \\ end';
      const now = new Date('2026-12-05T10:00:00.000Z');
      const created = await service().createNotebook(
        { template: 'root-cause', incident_id: 'INC-42', title, time_range_hours: 6 },
        now,
      );
      const posted = api.received('POST', '/api/v1/notebooks')[0]!.body as NotebookWire;
      expect(posted.data.type).toBe('notebooks');
      const attributes = posted.data.attributes;
      expect(attributes.name).toBe(title);
      expect(attributes.time).toEqual({
        start: '2026-12-05T04:00:00.000Z',
        end: '2026-12-05T10:00:00.000Z',
        live: false,
      });
      const cells = attributes.cells;
      expect(cells.length).toBeGreaterThan(5);
      for (const cell of cells) {
        expect(cell.type).toBe('notebook_cells');
        expect(['markdown', 'timeseries']).toContain(cell.attributes.definition.type);
      }
      expect(cells[0]!.attributes.definition.text).toContain('**Incident:** INC-42');
      const queries = cells.flatMap((c) => (c.attributes.definition.requests ?? []).map((r) => r.q));
      expect(queries.length).toBeGreaterThan(5);
      for (const q of queries) expect(q).toContain('{service:llm-cp,env:staging');
      expect(created).toEqual({
        id: 101,
        name: title,
        template: 'root-cause',
        url: 'https://app.datadoghq.eu/notebook/101',
      });
    });

    it("keeps the file's relative time without time_range_hours, and names the notebook after the template", async () => {
      const created = await service().createNotebook({ template: 'cost' }, new Date('2026-12-05T10:00:00Z'));
      const attributes = (fake.notebooks[0] as unknown as NotebookWire).data.attributes;
      expect(attributes.time).toEqual({ live_span: '1w' });
      expect(attributes.name).toBe('LLM cost review: llm-cp (staging) 2026-12-05T10:00Z');
      expect(created.name).toBe(attributes.name);
    });
  });

  describe('POST /datadog/workflows/trigger', () => {
    it('starts a v2 workflow instance with the inputs as its payload and answers its id', async () => {
      const workflowId = '5e8f1c3a-8d0b-4f7c-9a57-1f0e2d3c4b5a';
      const answer = await service().triggerWorkflow({
        workflow_id: workflowId,
        inputs: { model: 'gemini-2.5-flash' },
      });
      expect(fake.workflowInstances).toHaveLength(1);
      const [instance] = fake.workflowInstances;
      expect(instance!.workflowId).toBe(workflowId);
      expect(instance!.body).toEqual({ meta: { payload: { model: 'gemini-2.5-flash' } } });
      expect(answer).toEqual({ workflow_id: workflowId, instance_id: instance!.instanceId });
    });
  });

  describe('failures: the problem Datadog called for, never a success', () => {
    const workflow = { workflow_id: '5e8f1c3a-8d0b-4f7c-9a57-1f0e2d3c4b5a' };

    it('a Datadog 400 is a 400 with its messages', async () => {
      fake.fail('synthetics', { status: 400, body: { errors: ['Invalid location aws:mars-1'] } });
      const problem = await problemOf(service().createSyntheticTest({ kind: 'health', locations: ['aws:mars-1'] }));
      expect(problem).toMatchObject({ status: 400, code: 'DATADOG_BAD_REQUEST' });
      expect(problem.detail).toContain('Invalid location aws:mars-1');
      expect(problem.extensions).toMatchObject({ datadogStatus: 400, datadogErrors: ['Invalid location aws:mars-1'] });
    });

    it('a Datadog 403 is a 403 (keys or permissions), 404 a 404, 429 a 429', async () => {
      fake.fail('notebooks', { status: 403, body: { errors: ['Forbidden: notebooks_write missing'] } });
      expect(await problemOf(service().createNotebook({ template: 'cost' }))).toMatchObject({
        status: 403,
        code: 'DATADOG_FORBIDDEN',
        extensions: { datadogStatus: 403 },
      });
      fake.fail('workflows', { status: 404, body: { errors: ['workflow not found'] } });
      expect(await problemOf(service().triggerWorkflow(workflow))).toMatchObject({
        status: 404,
        code: 'DATADOG_NOT_FOUND',
      });
      fake.fail('workflows', { status: 429, body: { errors: ['Rate limit exceeded'] } });
      expect(await problemOf(service().triggerWorkflow(workflow))).toMatchObject({ status: 429 });
    });

    it("a Datadog 500 is a 502 with Datadog's status, sent once (no retry that could run a workflow twice)", async () => {
      fake.fail('workflows', { status: 500, body: { errors: ['Internal Server Error'] } });
      const problem = await problemOf(service().triggerWorkflow(workflow));
      expect(problem).toMatchObject({
        status: 502,
        code: 'DATADOG_UPSTREAM_ERROR',
        extensions: { datadogStatus: 500 },
      });
      expect(api.received('POST', /\/instances$/)).toHaveLength(1);
      expect(fake.workflowInstances).toEqual([]);
    });

    it('never puts a key in the answer, even when Datadog echoes one', async () => {
      fake.fail('synthetics', { status: 400, body: { errors: [`bad request for key ${API_KEY} and ${APP_KEY}`] } });
      const problem = await problemOf(service().createSyntheticTest({ kind: 'health' }));
      const text = JSON.stringify({ detail: problem.detail, extensions: problem.extensions });
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(APP_KEY);
      expect(text).toContain('[REDACTED:DATADOG_KEY]');
    });

    it('no answer is a 502 (refused) or a 504 (timeout)', async () => {
      const cfg = config();
      const port = new DatadogIntegrationsClientAdapter(cfg, { callTimeoutMs: 300 });
      api.setFault({ mode: 'hang' });
      const timeout = await problemOf(service(cfg, port).createNotebook({ template: 'cost' }));
      expect(timeout).toMatchObject({ status: 504, code: 'DATADOG_TIMEOUT' });
      expect(timeout.detail).toContain('no answer within 300 ms');
      api.setFault({ mode: 'none' });
      await api.down();
      const refused = await problemOf(service(cfg, port).createNotebook({ template: 'cost' }));
      expect(refused).toMatchObject({ status: 502, code: 'DATADOG_UNREACHABLE', extensions: { datadogStatus: null } });
    });

    it('a 2xx that is not what the API documents is a 502, not a success', async () => {
      fake.fail('workflows', { status: 200, body: { data: {} } });
      expect(await problemOf(service().triggerWorkflow(workflow))).toMatchObject({
        status: 502,
        code: 'DATADOG_UPSTREAM_ERROR',
      });
    });

    it('without keys every call is refused with 503 naming DD_API_KEY and DD_APP_KEY, and nothing is sent', async () => {
      const cfg = config({ DD_API_KEY: '', DD_APP_KEY: '' });
      const port = createDatadogIntegrations(cfg);
      expect(port.name).toBe('unconfigured');
      for (const call of [
        service(cfg, port).createSyntheticTest({ kind: 'health' }),
        service(cfg, port).createNotebook({ template: 'root-cause' }),
        service(cfg, port).triggerWorkflow(workflow),
      ]) {
        const problem = await problemOf(call);
        expect(problem).toMatchObject({ status: 503, code: 'DATADOG_NOT_CONFIGURED' });
        expect(problem.detail).toContain('DD_API_KEY and DD_APP_KEY');
      }
      await expect(port.validateApiKey()).rejects.toBeInstanceOf(DatadogRequestError);
      expect(api.requests).toEqual([]);
    });
  });

  describe('the payload check before sending', () => {
    it('refuses a payload the SDK model does not take whole (unknown field, bad enum) without sending it', async () => {
      const port = createDatadogIntegrations(config());
      const payload = templates.synthetic('health', {
        service: 's',
        env: 'e',
        notify: '@x',
        publicBaseUrl: 'https://x.example',
      });
      await expect(port.createSyntheticsApiTest({ ...payload, tick_evry: 60 })).rejects.toMatchObject({
        kind: 'invalid_payload',
        message: expect.stringContaining('tick_evry: unknown field') as unknown,
      });
      await expect(port.createSyntheticsApiTest({ ...payload, subtype: 'carrier-pigeon' })).rejects.toMatchObject({
        kind: 'invalid_payload',
      });
      expect(api.requests).toEqual([]);
    });

    it('validates the API key with GET /api/v1/validate', async () => {
      const port = createDatadogIntegrations(config());
      await expect(port.validateApiKey()).resolves.toEqual({ valid: true });
      fake.apiKeyValid = false;
      await expect(port.validateApiKey()).rejects.toMatchObject({ status: 403, kind: 'rejected' });
    });
  });
});
