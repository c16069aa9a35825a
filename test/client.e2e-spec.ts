import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as cp from '../clients/typescript/src';
import type * as GeneratedSdk from '../clients/typescript/src/generated/sdk.gen';
import * as sdk from '../clients/typescript/src/generated/sdk.gen';
import { SqliteLedgerStore } from '../libs/ledger/src/store/sqlite-ledger.store';
import { type ClientOutcome, type OpenApiDocument, operationsOf, ResponseContract } from './client-contract';
import { TEST_API_KEYS, TEST_AUTH_ENV } from './support/api-keys';
import { FakeDatadogApi } from './support/fake-datadog-api';
import { type FakeIncidents, installIncidentRoutes } from './support/fake-datadog-incidents';
import { type FakeIntegrations, registerIntegrationRoutes } from './support/fake-datadog-integrations';
import { usageRecord } from './support/ledger-store-contract';
import { ServiceProcess } from './support/service-process';

/**
 * Issue 16, the generated client: every operation of the document the client was generated from
 * (clients/typescript/src/generated/openapi.json, a copy of openapi/control-plane.json), called through the
 * generated client only, against the built service: one happy path and one error each, and, for every operation the
 * document secures with an API key, the refusal of a client without one. Each answer is held to the document
 * (`ResponseContract`): a status it lists, a content type it lists for that status, a body its schema takes. A route
 * added without a case here fails; so does any drift between what the document promises and what the service does.
 *
 * One service: the simulated provider (5 ms answers), the all-scopes test key (auth on), a loopback fake of the
 * Datadog API (incidents, synthetics, notebooks, workflows), a ledger seeded with an hour of priced calls (the
 * baseline that `implement` measures), and `/stress` capped at 30,000 characters so its 422 is reachable.
 */
const DOCUMENT_FILE = resolve(__dirname, '../clients/typescript/src/generated/openapi.json');
const DOCUMENT = JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument;
const OPERATIONS = operationsOf(DOCUMENT);
const contract = new ResponseContract(DOCUMENT);

const WEBHOOK_SECRET = 'client-e2e-webhook-secret-0001';
const WORKFLOW_ID = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';

/** The operation ids the generated SDK has a function for (a compile-time key: a new route needs a case below). */
type OperationId = keyof typeof GeneratedSdk;

interface Env {
  /** The client with the all-scopes key. */
  client: cp.Client;
  /** The same client without a key. */
  keyless: cp.Client;
  /** Clients holding a key of one scope only (`invoke`, `read`). */
  invokeOnly: cp.Client;
  readOnly: cp.Client;
  /** The client with the API key and the webhook's secret (`webhookSecret`). */
  webhookClient: cp.Client;
  integrations: FakeIntegrations;
  incidents: FakeIncidents;
}

type Step = (env: Env) => Promise<ClientOutcome | ClientOutcome[]>;

interface OperationCase {
  happy: Step;
  /**
   * A call the route refuses, with the status the document gives for it; or, for a route that takes no input and
   * is open (`x-open` in the document: the health probes), `none` with why there is nothing a client can get wrong.
   */
  error: Step | { none: string };
}

/** A value the generated types forbid, sent on purpose to reach the route's validation. */
const unchecked = <T>(value: unknown): T => value as T;

interface Problem {
  status?: number;
  code?: string;
  detail?: string;
  errors?: { field: string; reason: string }[];
  [member: string]: unknown;
}

/** The outcome is a problem+json of `status` and `code`; with `field`, a 400 naming it in `errors[]`. */
function expectProblem(outcome: ClientOutcome, status: number, code: string, field?: string): Problem {
  expect(outcome.response?.status).toBe(status);
  expect(outcome.response?.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = outcome.error as Problem;
  expect(problem).toMatchObject({ status, code });
  if (field !== undefined) expect((problem.errors ?? []).map((e) => e.field)).toContain(field);
  return problem;
}

/** A keyless call of a route that needs a key: 401 (the client sends the key; without it the route refuses). */
function expectUnauthenticated(outcome: ClientOutcome): void {
  expect(outcome.response?.status).toBe(401);
}

/** A call with a key that lacks the route's scope (`x-required-scope`): 403. */
function expectForbidden(outcome: ClientOutcome): void {
  expect(outcome.response?.status).toBe(403);
}

/** The OpenAI-compatible API's error object (`/v1`). */
function expectOpenAiError(outcome: ClientOutcome, status: number): { message: string; code?: string | null } {
  expect(outcome.response?.status).toBe(status);
  const body = outcome.error as { error?: { message: string; code?: string | null } };
  expect(body.error?.message).toEqual(expect.any(String));
  return body.error!;
}

function expectStream(outcome: ClientOutcome): string {
  expect(outcome.response?.status).toBe(200);
  expect(outcome.response?.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(typeof outcome.data).toBe('string');
  return outcome.data as string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const recommendation = (title: string): cp.CreateRecommendationDto => ({
  title,
  category: 'caching',
  description: 'Cache answers to repeated questions.',
  estimated_savings_per_request: 0.0001,
  estimated_savings_percentage: 20,
});

/** An answer of another operation than the case's own (a setup call), held to the document too. */
function conform<T extends ClientOutcome>(id: OperationId, outcome: T): T {
  expect(contract.check(id, outcome)).toEqual([]);
  return outcome;
}

async function createRecommendation(client: cp.Client, title: string): Promise<string> {
  const { data, error } = conform(
    'createRecommendation',
    await cp.createRecommendation({ client, body: recommendation(title) }),
  );
  if (!data) throw new Error(`createRecommendation failed: ${JSON.stringify(error)}`);
  return data.id;
}

const CASES: Record<OperationId, OperationCase> = {
  // --- /datadog/*: the real SDK against the loopback fake.
  products: {
    happy: async ({ client }) => {
      const outcome = await cp.products({ client });
      const names = outcome.data?.products.map((p) => p.product) ?? [];
      expect(names).toEqual(expect.arrayContaining(['incidents', 'synthetics', 'notebooks', 'workflow_automation']));
      expect(outcome.data?.products.find((p) => p.product === 'synthetics')).toMatchObject({
        configured: true,
        reachable: true,
      });
      return outcome;
    },
    error: async ({ invokeOnly }) => {
      const outcome = await cp.products({ client: invokeOnly });
      expectForbidden(outcome);
      return outcome;
    },
  },
  createSyntheticTest: {
    happy: async ({ client, integrations }) => {
      const before = integrations.syntheticTests.length;
      const outcome = await cp.createSyntheticTest({ client, body: { kind: 'health', tick_every: 300 } });
      expect(outcome.response?.status).toBe(201);
      expect(outcome.data).toMatchObject({ target_url: 'https://127.0.0.1:8443/health', tick_every: 300 });
      expect(integrations.syntheticTests).toHaveLength(before + 1);
      return outcome;
    },
    error: async ({ client, integrations }) => {
      integrations.fail('synthetics', { status: 403, body: { errors: ['Forbidden'] } });
      try {
        const outcome = await cp.createSyntheticTest({ client, body: { kind: 'qa' } });
        const problem = expectProblem(outcome, 403, 'DATADOG_FORBIDDEN');
        expect(problem.datadogStatus).toBe(403);
        return outcome;
      } finally {
        integrations.clear('synthetics');
      }
    },
  },
  createNotebook: {
    happy: async ({ client, integrations }) => {
      const before = integrations.notebooks.length;
      const outcome = await cp.createNotebook({ client, body: { template: 'cost', time_range_hours: 24 } });
      expect(outcome.response?.status).toBe(201);
      expect(integrations.notebooks).toHaveLength(before + 1);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.createNotebook({ client, body: { template: 'root-cause', time_range_hours: 0 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'time_range_hours');
      return outcome;
    },
  },
  triggerWorkflow: {
    happy: async ({ client, integrations }) => {
      const outcome = await cp.triggerWorkflow({ client, body: { workflow_id: WORKFLOW_ID, inputs: { a: 1 } } });
      expect(outcome.response?.status).toBe(201);
      expect(outcome.data?.workflow_id).toBe(WORKFLOW_ID);
      expect(integrations.workflowInstances.map((w) => w.instanceId)).toContain(outcome.data?.instance_id);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.triggerWorkflow({ client, body: { workflow_id: 'not-a-uuid' } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'workflow_id');
      return outcome;
    },
  },

  // --- forecast, insights, health score.
  costForecast: {
    happy: async ({ client }) => {
      const outcome = await cp.costForecast({ client, query: { hours: 3 } });
      expect(outcome.response?.status).toBe(200);
      expect(outcome.data?.hourly.length).toBeLessThanOrEqual(3);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.costForecast({ client, query: { hours: 25 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'hours');
      return outcome;
    },
  },
  insightsReport: {
    happy: async ({ client }) => {
      const outcome = await cp.insightsReport({ client, body: {} });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.insightsReport({ client, body: { error_rate: 2 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'error_rate');
      return outcome;
    },
  },
  spendReport: {
    happy: async ({ client }) => {
      const outcome = await cp.spendReport({ client, query: { hours: 24, group_by: 'principal,model' } });
      expect(outcome.response?.status).toBe(200);
      expect(outcome.data?.group_by).toBe('principal,model');
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.spendReport({ client, query: { hours: 745 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'hours');
      return outcome;
    },
  },
  healthScore: {
    happy: async ({ client }) => {
      const outcome = await cp.healthScore({ client, query: { window: '1h' } });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.healthScore({ client, query: { window: unchecked<'5m'>('10m') } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'window');
      return outcome;
    },
  },

  // --- health probes: open.
  liveness: {
    happy: async ({ keyless }) => {
      const outcome = await cp.liveness({ client: keyless });
      expect(outcome.data).toEqual({ status: 'ok' });
      return outcome;
    },
    error: { none: 'the liveness probe is open and takes no input: no request a client can send fails it' },
  },
  readiness: {
    happy: async ({ keyless }) => {
      const outcome = await cp.readiness({ client: keyless });
      expect(outcome.response?.status).toBe(200);
      expect(outcome.data?.dependencies).toHaveProperty('datadogApi');
      return outcome;
    },
    error: {
      none: 'the readiness probe is open and takes no input; it answers 200 with `degraded` dependencies, never an error',
    },
  },

  // --- incidents: the outbox delivers to the fake.
  createIncident: {
    happy: async ({ client, incidents }) => {
      const outcome = await cp.createIncident({
        client,
        body: {
          monitor_name: 'Client e2e: error ratio',
          alert_message: 'error ratio 9%',
          runbook: '# Runbook\n\n1. Check the provider.',
        },
      });
      // 201 once Datadog has it; 202 while it waits in the outbox (the first call also loads the Datadog SDK).
      expect([201, 202]).toContain(outcome.response?.status);
      expect(outcome.data?.success).toBe(true);
      await until('incident delivered', () => (incidents.incidents.length > 0 ? true : undefined));
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.createIncident({
        client,
        body: { monitor_name: 'm'.repeat(201), alert_message: 'a', runbook: 'r' },
      });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'monitor_name');
      return outcome;
    },
  },
  createIncidentFromInsight: {
    happy: async ({ client }) => {
      const outcome = await cp.createIncidentFromInsight({
        client,
        body: {
          insight_type: 'cost_anomaly',
          title: 'Cost doubled in an hour',
          description: 'A prompt template grew.',
          recommendations: ['Revert the template', 'Cap the prompt size'],
        },
      });
      expect([200, 201, 202]).toContain(outcome.response?.status);
      expect(outcome.data?.incident.title).toContain('cost_anomaly');
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.createIncidentFromInsight({
        client,
        body: { insight_type: 'cost_anomaly', title: 't'.repeat(301), description: 'd', recommendations: [] },
      });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'title');
      return outcome;
    },
  },
  startFaultDrill: {
    happy: async ({ client }) => {
      const outcome = await cp.startFaultDrill({ client, body: { slow_rate: 0.01, duration_s: 1 } });
      expect(outcome.data).toMatchObject({ active: true, provider: 'simulated', slow_rate: 0.01 });
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.startFaultDrill({ client, body: { error_rate: 2 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'error_rate');
      return outcome;
    },
  },
  faultDrillStatus: {
    happy: async ({ client }) => {
      const outcome = await cp.faultDrillStatus({ client });
      expect(outcome.data?.provider).toBe('simulated');
      return outcome;
    },
    error: async ({ invokeOnly }) => {
      const outcome = await cp.faultDrillStatus({ client: invokeOnly });
      expectForbidden(outcome);
      return outcome;
    },
  },
  stopFaultDrill: {
    happy: async ({ client }) => {
      const outcome = await cp.stopFaultDrill({ client });
      expect(outcome.data?.active).toBe(false);
      return outcome;
    },
    error: async ({ readOnly }) => {
      const outcome = await cp.stopFaultDrill({ client: readOnly });
      expectForbidden(outcome);
      return outcome;
    },
  },
  routerStatus: {
    happy: async ({ client }) => {
      const outcome = await cp.routerStatus({ client });
      expect(outcome.response?.status).toBe(200);
      expect(outcome.data?.decisions.windowS).toBe(3600);
      return outcome;
    },
    error: async ({ invokeOnly }) => {
      const outcome = await cp.routerStatus({ client: invokeOnly });
      expectForbidden(outcome);
      return outcome;
    },
  },
  incidentsStatus: {
    happy: async ({ client }) => {
      const outcome = await cp.incidentsStatus({ client });
      expect(outcome.data?.api_configured).toBe(true);
      return outcome;
    },
    error: async ({ invokeOnly }) => {
      const outcome = await cp.incidentsStatus({ client: invokeOnly });
      expectForbidden(outcome);
      return outcome;
    },
  },
  listIncidents: {
    happy: async ({ client }) => {
      const outcome = await cp.listIncidents({ client, query: { limit: 5 } });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.listIncidents({ client, query: { limit: 0 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'limit');
      return outcome;
    },
  },
  incidentWebhook: {
    happy: async ({ webhookClient }) => {
      // The secret is the operation's security scheme (no header parameter): the client sends it as X-Webhook-Secret.
      const outcome = await cp.incidentWebhook({
        client: webhookClient,
        body: {
          title: '[P2] [Triggered on {service:client-e2e}] Client e2e: latency',
          transition: 'Triggered',
          alert_id: '4242',
          scope: 'service:client-e2e',
          message: 'p95 latency over 2 s',
        },
      });
      expect(outcome.response?.status).toBe(200);
      expect(['opened', 'updated']).toContain(outcome.data?.action);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.incidentWebhook({
        client,
        headers: { 'X-Webhook-Secret': 'not-the-secret' },
        body: { title: '[P2] Client e2e', transition: 'Triggered' },
      });
      expectProblem(outcome, 401, 'WEBHOOK_UNAUTHORIZED');
      return outcome;
    },
  },

  // --- anomaly attribution.
  attributeAnomalyByQuery: {
    happy: async ({ client }) => {
      const outcome = await cp.attributeAnomalyByQuery({ client, query: { metric_name: 'cost' } });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      // Keys are set and the fake serves no metrics query: Datadog's 404 is the documented 502.
      const outcome = await cp.attributeAnomalyByQuery({ client, query: { metric_name: 'cost', source: 'datadog' } });
      expectProblem(outcome, 502, 'ATTRIBUTION_SOURCE_FAILED');
      return outcome;
    },
  },
  attributeAnomaly: {
    happy: async ({ client }) => {
      const outcome = await cp.attributeAnomaly({ client, body: { metric: 'latency' } });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.attributeAnomaly({ client, body: { metric: 'cost', analysisWindowHours: 0 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'analysisWindowHours');
      return outcome;
    },
  },

  // --- optimisation recommendations and ROI.
  createRecommendation: {
    happy: async ({ client }) => {
      const outcome = await cp.createRecommendation({ client, body: recommendation('Cache repeated questions') });
      expect(outcome.response?.status).toBe(201);
      expect(outcome.data?.status).toBe('pending');
      return outcome;
    },
    error: async ({ client }) => {
      const body = { ...recommendation('Too good'), estimated_savings_percentage: 101 };
      const outcome = await cp.createRecommendation({ client, body });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'estimated_savings_percentage');
      return outcome;
    },
  },
  listRecommendations: {
    happy: async ({ client }) => {
      const id = await createRecommendation(client, 'Listed');
      const outcome = await cp.listRecommendations({ client });
      expect(outcome.data?.map((r) => r.id)).toContain(id);
      return outcome;
    },
    error: async ({ invokeOnly }) => {
      const outcome = await cp.listRecommendations({ client: invokeOnly });
      expectForbidden(outcome);
      return outcome;
    },
  },
  getRecommendation: {
    happy: async ({ client }) => {
      const id = await createRecommendation(client, 'Fetched');
      const outcome = await cp.getRecommendation({ client, path: { id } });
      expect(outcome.data).toMatchObject({ id, status: 'pending' });
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.getRecommendation({ client, path: { id: 'no-such-recommendation' } });
      expectProblem(outcome, 404, 'RECOMMENDATION_NOT_FOUND');
      return outcome;
    },
  },
  implementRecommendation: {
    happy: async ({ client }) => {
      const id = await createRecommendation(client, 'Implemented');
      const outcome = await cp.implementRecommendation({ client, path: { id }, body: {} });
      expect(outcome.response?.status).toBe(200);
      expect(outcome.data?.baseline.priced_requests).toBeGreaterThanOrEqual(60);
      return outcome;
    },
    error: async ({ client }) => {
      const id = await createRecommendation(client, 'Implemented twice');
      const first = await cp.implementRecommendation({ client, path: { id }, body: {} });
      expect(first.response?.status).toBe(200);
      const outcome = await cp.implementRecommendation({ client, path: { id }, body: {} });
      expectProblem(outcome, 409, 'RECOMMENDATION_ALREADY_IMPLEMENTED');
      return outcome;
    },
  },
  recordResult: {
    happy: async ({ client }) => {
      const id = await createRecommendation(client, 'Measured');
      const implemented = conform(
        'implementRecommendation',
        await cp.implementRecommendation({ client, path: { id }, body: {} }),
      );
      expect(implemented.response?.status).toBe(200);
      // A priced call after the implementation: the window the result is measured on (the ledger flushes in 100 ms).
      const call = conform('qa', await cp.qa({ client, body: { question: 'What does caching save?' } }));
      expect(call.response?.status).toBe(200);
      const outcome = await until('a result once the call is in the ledger', async () => {
        const attempt = await cp.recordResult({ client, path: { id }, body: { period_days: 1 } });
        return attempt.response?.status === 409 ? undefined : attempt;
      });
      expect(outcome.response?.status).toBe(200);
      expect(outcome.data?.recommendation_id).toBe(id);
      return outcome;
    },
    error: async ({ client }) => {
      const id = await createRecommendation(client, 'Not implemented yet');
      const outcome = await cp.recordResult({ client, path: { id }, body: {} });
      expectProblem(outcome, 409, 'RECOMMENDATION_NOT_IMPLEMENTED');
      return outcome;
    },
  },
  roiReport: {
    happy: async ({ client }) => {
      const outcome = await cp.roiReport({ client, query: { days: 7, category: 'caching' } });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.roiReport({ client, query: { days: 0 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'days');
      return outcome;
    },
  },
  roiReportByBody: {
    happy: async ({ client }) => {
      const outcome = await cp.roiReportByBody({ client, body: { days: 30 } });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.roiReportByBody({ client, body: { days: 3651 } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'days');
      return outcome;
    },
  },

  // --- the LLM routes: JSON, and the documented stream.
  qa: {
    happy: async ({ client }) => {
      const body = { question: 'What colour is the sky on Mars?', document: 'The sky on Mars is butterscotch.' };
      const json = await cp.qa({ client, body });
      expect(json.data?.metadata).toMatchObject({ provider: 'simulated' });
      expect(json.data?.answer).toEqual(expect.any(String));
      const stream = await cp.qa({ client, body, headers: { accept: 'text/event-stream' }, parseAs: 'text' });
      expect(expectStream(stream)).toContain('data:');
      return [json, stream];
    },
    error: async ({ client }) => {
      const outcome = await cp.qa({ client, body: { question: '' } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'question');
      return outcome;
    },
  },
  reason: {
    happy: async ({ client }) => {
      const json = await cp.reason({ client, body: { prompt: 'Why do leaves change colour?' } });
      expect(json.data?.answer).toEqual(expect.any(String));
      const stream = await cp.reason({
        client,
        body: { prompt: 'Why do leaves change colour?' },
        headers: { accept: 'text/event-stream' },
        parseAs: 'text',
      });
      expect(expectStream(stream)).toContain('data:');
      return [json, stream];
    },
    error: async ({ client }) => {
      const outcome = await cp.reason({ client, body: { prompt: '' } });
      expectProblem(outcome, 400, 'VALIDATION_FAILED', 'prompt');
      return outcome;
    },
  },
  stress: {
    happy: async ({ client }) => {
      const outcome = await cp.stress({ client, body: { prompt: 'hi', repetitions: 2 } });
      expect(outcome.response?.status).toBe(200);
      return outcome;
    },
    error: async ({ client }) => {
      // STRESS_MAX_INPUT_CHARS=30000: ten copies of 1000 characters and the 24k of long context /stress adds are over.
      const outcome = await cp.stress({ client, body: { prompt: 'x'.repeat(1000), repetitions: 10 } });
      expectProblem(outcome, 422, 'INPUT_TOO_LARGE');
      return outcome;
    },
  },
  chatCompletions: {
    happy: async ({ client }) => {
      const messages = [{ role: 'user', content: 'Hi' }];
      const json = await cp.chatCompletions({ client, body: { model: 'gemini-2.5-flash', messages } });
      expect(json.data?.object).toBe('chat.completion');
      expect(json.data?.choices[0]?.message.content).toEqual(expect.any(String));
      const stream = await cp.chatCompletions({
        client,
        body: { model: 'gemini-2.5-flash', messages, stream: true },
        parseAs: 'text',
      });
      expect(expectStream(stream).trimEnd()).toMatch(/data: \[DONE\]$/);
      return [json, stream];
    },
    error: async ({ client }) => {
      const outcome = await cp.chatCompletions({
        client,
        body: { model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }] },
      });
      expect(expectOpenAiError(outcome, 404).code).toBe('model_not_found');
      return outcome;
    },
  },
  models: {
    happy: async ({ client }) => {
      const outcome = await cp.models({ client });
      expect(outcome.data?.data.map((m) => m.id)).toContain('gemini-2.5-flash');
      return outcome;
    },
    error: async ({ readOnly }) => {
      const outcome = await cp.models({ client: readOnly });
      expectForbidden(outcome);
      return outcome;
    },
  },
  retrieveModel: {
    happy: async ({ client }) => {
      const outcome = await cp.retrieveModel({ client, path: { id: 'gemini-2.5-flash' } });
      expect(outcome.response?.status).toBe(200);
      expect(outcome.data).toMatchObject({ id: 'gemini-2.5-flash', object: 'model' });
      return outcome;
    },
    error: async ({ client }) => {
      const outcome = await cp.retrieveModel({ client, path: { id: 'no-such-model' } });
      expectOpenAiError(outcome, 404);
      return outcome;
    },
  },
};

/**
 * Each outcome of the case's own operation conforms to the document: a listed status and content type, a body its
 * schema takes.
 */
function expectDocumented(id: OperationId, outcomes: ClientOutcome | ClientOutcome[]): ClientOutcome[] {
  const list = Array.isArray(outcomes) ? outcomes : [outcomes];
  for (const outcome of list) conform(id, outcome);
  return list;
}

describe('the generated TypeScript client against the built service (every operation of the document)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'client-e2e-'));
  let api: FakeDatadogApi | undefined;
  let service: ServiceProcess | undefined;
  let env: Env;

  beforeAll(async () => {
    ServiceProcess.assertBuilt();
    // An hour of priced calls before the suite: the baseline `implement` measures.
    const store = new SqliteLedgerStore(join(dataDir, 'ledger.sqlite'));
    await store.init();
    const start = Date.now() - 3_600_000;
    await store.append(
      Array.from({ length: 60 }, (_, i) =>
        usageRecord({ ts: start + i * 30_000, costUsd: 0.001, promptHash: `sha256:client-e2e-${i}` }),
      ),
    );
    await store.close();
    api = await new FakeDatadogApi().start();
    const integrations = registerIntegrationRoutes(api);
    const incidents = installIncidentRoutes(api);
    service = await new ServiceProcess({
      ...TEST_AUTH_ENV,
      DATA_DIR: dataDir,
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: '9',
      SIM_LATENCY_MEDIAN_MS: '5',
      LEDGER_FLUSH_MS: '100',
      STRESS_MAX_INPUT_CHARS: '30000',
      DATADOG_API_URL: api.url,
      DD_API_KEY: 'client-e2e-api-key',
      DD_APP_KEY: 'client-e2e-app-key',
      PUBLIC_BASE_URL: 'https://127.0.0.1:8443',
      INCIDENTS_WEBHOOK_SECRET: WEBHOOK_SECRET,
      INCIDENTS_DELIVERY_INTERVAL_MS: '100',
      INCIDENTS_RETRY_BASE_MS: '50',
      INCIDENTS_RETRY_MAX_MS: '300',
    }).start();
    env = {
      client: cp.createControlPlaneClient({ baseUrl: service.url, apiKey: TEST_API_KEYS.all }),
      keyless: cp.createControlPlaneClient({ baseUrl: service.url }),
      webhookClient: cp.createControlPlaneClient({
        baseUrl: service.url,
        apiKey: TEST_API_KEYS.all,
        webhookSecret: WEBHOOK_SECRET,
      }),
      invokeOnly: cp.createControlPlaneClient({ baseUrl: service.url, apiKey: TEST_API_KEYS.invoke }),
      readOnly: cp.createControlPlaneClient({ baseUrl: service.url, apiKey: TEST_API_KEYS.read }),
      integrations,
      incidents,
    };
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await api?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has a case for every operation of the document, and none for an operation it does not have', () => {
    const documented = OPERATIONS.map((o) => o.id).sort();
    expect(Object.keys(CASES).sort()).toEqual(documented);
  });

  it('was generated from that document: one SDK function per operation, named by its operationId', () => {
    const functions = Object.entries(sdk)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name)
      .sort();
    expect(functions).toEqual(OPERATIONS.map((o) => o.id).sort());
  });

  // Every operation the document secures with an API key: the keyless client is refused with a documented 401
  // (the key is checked before the input: whatever the call carries).
  const secured = OPERATIONS.filter((o) => (o.object.security ?? []).some((s) => 'bearer' in s || 'api-key' in s));
  it.each(secured.map((o) => [`${o.method} ${o.path} (${o.id})`, o] as const))(
    '%s: refuses a client without an API key, as documented',
    async (_name, operation) => {
      // The SDK's own function, called generically: every operation takes `{ client, path?, query?, body? }`.
      const call = sdk[operation.id as OperationId] as unknown as (options: {
        client: cp.Client;
        path?: Record<string, string>;
        body?: unknown;
      }) => Promise<ClientOutcome>;
      const outcome = await call({
        client: env.keyless,
        path: { id: 'any' },
        ...(operation.object.requestBody ? { body: {} } : {}),
      });
      expectUnauthenticated(outcome);
      conform(operation.id as OperationId, outcome);
    },
  );

  for (const operation of OPERATIONS) {
    const name = `${operation.method} ${operation.path} (${operation.id})`;
    const testCase = (CASES as Partial<Record<string, OperationCase>>)[operation.id];

    it(`${name}: happy path, as documented`, async () => {
      if (!testCase) throw new Error(`no client test case for ${name}: add one to CASES`);
      const outcomes = expectDocumented(operation.id as OperationId, await testCase.happy(env));
      const last = outcomes[outcomes.length - 1]!;
      expect(last.response!.status).toBeGreaterThanOrEqual(200);
      expect(last.response!.status).toBeLessThan(300);
    });

    it(`${name}: an error, as documented`, async () => {
      if (!testCase) throw new Error(`no client test case for ${name}: add one to CASES`);
      const error = testCase.error;
      if (typeof error !== 'function') {
        // Nothing to get wrong: the document must say the route is open and takes no parameters or body.
        expect(operation.object['x-open']).toBe(true);
        expect(operation.object.parameters ?? []).toEqual([]);
        expect(operation.object.requestBody).toBeUndefined();
        expect(error.none).toEqual(expect.any(String));
        return;
      }
      const outcomes = expectDocumented(operation.id as OperationId, await error(env));
      expect(outcomes[outcomes.length - 1]!.response!.status).toBeGreaterThanOrEqual(400);
    });
  }
});
