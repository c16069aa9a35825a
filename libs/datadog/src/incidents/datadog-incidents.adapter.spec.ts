import { FakeDatadogApi } from '../../../../test/support/fake-datadog-api';
import { type FakeIncidents, installIncidentRoutes } from '../../../../test/support/fake-datadog-incidents';
import { testConfig } from '../../../../test/support/app-config';
import { DatadogApiError } from '../datadog.errors';
import { createDatadogIncidents } from '../datadog.module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INCIDENT_CONTEXT_FIELDS, type IncidentRequest } from './datadog-incidents.port';
import { contextFieldName, IDEMPOTENCY_FIELD } from './datadog-incidents.adapter';

const request = (key: string): IncidentRequest => ({
  idempotencyKey: key,
  title: '[LLM] p95 latency above 1.5 s - p95 is 2300 ms',
  severity: 'SEV-2',
  customerImpacted: true,
  customerImpactScope: 'LLM answers of llm-reliability-control-plane (test) are slow',
  fields: { service: 'llm-reliability-control-plane', env: 'test', monitor: '[LLM] p95 latency' },
  runbookMarkdown: '## What failed\np95 of `llm.request.latency_ms` above 1500 ms\n## Why\n...\n## Next\n1. ...',
  links: [
    { title: 'Dashboard', url: 'http://127.0.0.1:9/dashboard/abc-def-ghi' },
    { title: 'Logs', url: 'http://127.0.0.1:9/logs?query=service%3Allm' },
  ],
  notificationHandles: ['@slack-llm-oncall'],
});

describe('DatadogIncidentsAdapter (the real SDK against a loopback Datadog API)', () => {
  let api: FakeDatadogApi;
  let state: FakeIncidents;
  const config = () =>
    testConfig({
      DATADOG_API_URL: api.url,
      DATADOG_APP_URL: 'http://127.0.0.1:9',
      DD_API_KEY: 'fake-api-key-123',
      DD_APP_KEY: 'fake-app-key-123',
    });

  beforeEach(async () => {
    api = await new FakeDatadogApi().start();
    state = installIncidentRoutes(api);
  });
  afterEach(() => api.close());

  it('creates a v2 incident with severity, customer impact, fields, the runbook cell, handles and link attachments', async () => {
    const incidents = createDatadogIncidents(config());
    expect(incidents.name).toBe('datadog');
    const delivered = await incidents.create(request('cp-1'));

    expect(state.incidents).toHaveLength(1);
    const [incident] = state.incidents;
    expect(delivered).toEqual({ id: incident!.id, publicId: 1, url: 'http://127.0.0.1:9/incidents/1' });
    const posted = api.received('POST', '/api/v2/incidents')[0]!;
    expect(posted.headers['dd-api-key']).toBe('fake-api-key-123');
    const attributes = (posted.body as { data: { type: string; attributes: Record<string, unknown> } }).data;
    expect(attributes.type).toBe('incidents');
    expect(attributes.attributes).toMatchObject({
      title: '[LLM] p95 latency above 1.5 s - p95 is 2300 ms',
      customer_impacted: true,
      customer_impact_scope: expect.stringContaining('slow') as unknown,
      fields: {
        severity: { type: 'dropdown', value: 'SEV-2' },
        state: { type: 'dropdown', value: 'active' },
        control_plane_key: { type: 'textbox', value: 'cp-1' },
        cp_service: { type: 'textbox', value: 'llm-reliability-control-plane' },
        cp_env: { type: 'textbox', value: 'test' },
        cp_monitor: { type: 'textbox', value: '[LLM] p95 latency' },
      },
      notification_handles: [{ handle: '@slack-llm-oncall', display_name: '@slack-llm-oncall' }],
    });
    const cells = attributes.attributes.initial_cells as { cell_type: string; content: { content: string } }[];
    expect(cells).toHaveLength(1);
    expect(cells[0]!.cell_type).toBe('markdown');
    expect(cells[0]!.content.content).toContain('## What failed');
    expect(cells[0]!.content.content).toContain('[Dashboard](http://127.0.0.1:9/dashboard/abc-def-ghi)');
    expect(incident!.attachments.map((a) => a.title)).toEqual(['Dashboard', 'Logs']);
  });

  it('a link attachment Datadog refuses is a warning on the delivered incident, not a failure', async () => {
    const strict = await new FakeDatadogApi().start();
    strict.route('POST', /\/api\/v2\/incidents\/[\w-]+\/attachments/, () => ({
      status: 400,
      body: { errors: ['bad link'] },
    }));
    const held = installIncidentRoutes(strict);
    try {
      const incidents = createDatadogIncidents(
        testConfig({ DATADOG_API_URL: strict.url, DD_API_KEY: 'fake-api-key-123', DD_APP_KEY: 'fake-app-key-123' }),
      );
      const delivered = await incidents.create(request('cp-9'));
      expect(held.incidents).toHaveLength(1);
      expect(delivered.warnings).toEqual([
        expect.stringMatching(/link "Dashboard" not attached: .*HTTP 400: bad link/),
        expect.stringMatching(/link "Logs" not attached/),
      ]);
    } finally {
      await strict.close();
    }
  });

  it('finds an incident by its idempotency key, exactly (a retry after a lost response must not open a second one)', async () => {
    const incidents = createDatadogIncidents(config());
    expect(await incidents.findByKey('cp-7')).toBeUndefined();
    api.setFault({ mode: 'drop-response' });
    await expect(incidents.create(request('cp-7'))).rejects.toMatchObject({ retryable: true, status: undefined });
    api.setFault({ mode: 'none' });
    // The incident was opened although its answer was lost: the lookup finds it.
    const found = await incidents.findByKey('cp-7');
    expect(found?.id).toBe(state.incidents[0]!.id);
    expect(await incidents.findByKey('cp-70')).toBeUndefined();
    expect(await incidents.findByKey('cp')).toBeUndefined();
  });

  it('updates severity, state and fields of an open incident', async () => {
    const incidents = createDatadogIncidents(config());
    const { id } = await incidents.create(request('cp-2'));
    await incidents.update(id, { severity: 'SEV-1', fields: { alert_count: '2' } });
    await incidents.update(id, { state: 'resolved' });
    const [incident] = state.incidents;
    expect(state.fieldValue(incident!, 'severity')).toBe('SEV-1');
    expect(state.fieldValue(incident!, 'cp_alert_count')).toBe('2');
    expect(state.fieldValue(incident!, 'state')).toBe('resolved');
  });

  it('sets the note after the change, and attaches the links; a note Datadog refuses leaves the change made', async () => {
    const incidents = createDatadogIncidents(config());
    const { id } = await incidents.create(request('cp-8'));
    const link = { title: 'Continued in', url: 'http://127.0.0.1:9/incidents/2' };
    const result = await incidents.update(id, { state: 'resolved', note: 'superseded by IR-2', links: [link] });
    expect(result).toEqual({});
    const [incident] = state.incidents;
    expect(state.fieldValue(incident!, 'state')).toBe('resolved');
    expect(state.fieldValue(incident!, 'cp_note')).toBe('superseded by IR-2');
    expect(incident!.attachments).toContainEqual({ title: 'Continued in', documentUrl: link.url });
    // An org that has not run npm run datadog:apply since cp_note was added: the resolution still goes through.
    const { id: other } = await incidents.create(request('cp-9'));
    state.unknownFields.add('cp_note');
    const refused = await incidents.update(other, { state: 'resolved', note: 'superseded by IR-3' });
    expect(refused.warnings).toEqual([expect.stringMatching(/^note not set: .*HTTP 400.*cp_note/)]);
    expect(state.fieldValue(state.incidents[1]!, 'state')).toBe('resolved');
    expect(state.fieldValue(state.incidents[1]!, 'cp_note')).toBeUndefined();
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [403, true],
    [400, false],
    [404, false],
  ])('Datadog answering %i is a DatadogApiError with that status, retryable=%s', async (status, retryable) => {
    const incidents = createDatadogIncidents(config());
    api.setFault({ mode: 'status', status });
    const error = await incidents.create(request('cp-3')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatadogApiError);
    expect(error).toMatchObject({ status, retryable });
    expect((error as Error).message).not.toContain('fake-api-key-123');
    // The SDK did not retry on its own: the outbox owns retries.
    expect(api.received('POST', '/api/v2/incidents')).toHaveLength(1);
  });

  it('a refused connection is a retryable error without a status', async () => {
    const incidents = createDatadogIncidents(config());
    await api.down();
    await expect(incidents.create(request('cp-4'))).rejects.toMatchObject({ retryable: true, status: undefined });
    await api.up();
    await expect(incidents.create(request('cp-4'))).resolves.toMatchObject({ publicId: 1 });
  });

  it('without keys the unconfigured default refuses every call, retryably, naming the variables', async () => {
    const incidents = createDatadogIncidents(testConfig({ DATADOG_API_URL: api.url }));
    expect(incidents.name).toBe('unconfigured');
    const error = (await incidents.create(request('cp-5')).catch((e: unknown) => e)) as DatadogApiError;
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/DD_API_KEY and DD_APP_KEY/);
    expect(api.requests).toHaveLength(0);
  });
});

describe('incident fields the adapter writes', () => {
  it('are each provisioned by npm run datadog:apply (datadog/incident-fields/), as textbox fields', () => {
    const dir = join(__dirname, '../../../../datadog/incident-fields');
    const provisioned = readdirSync(dir).map((file) => {
      const body = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        data: { attributes: { name: string; type: number } };
      };
      return body.data.attributes;
    });
    const names = provisioned.map((f) => f.name);
    for (const field of [IDEMPOTENCY_FIELD, ...INCIDENT_CONTEXT_FIELDS.map(contextFieldName)]) {
      expect(names).toContain(field);
    }
    // 3: textbox in the v2 user-defined field API.
    expect(new Set(provisioned.map((f) => f.type))).toEqual(new Set([3]));
  });
});
