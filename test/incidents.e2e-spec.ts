import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { FakeDatadogApi } from './support/fake-datadog-api';
import { type FakeIncident, type FakeIncidents, installIncidentRoutes } from './support/fake-datadog-incidents';
import { post } from './support/http';
import { PostgresTestServer } from './support/postgres-server';
import { ServiceProcess } from './support/service-process';

/**
 * Issue 15, the incident manager, on the built service against a loopback fake of Datadog's v2 Incidents API (the
 * real SDK adapter talks to it): what Datadog receives, dedupe, the outbox through 500s, refused connections,
 * restarts and `kill -9` mid-delivery (never lost, never duplicated: incidents counted per idempotency key), two
 * replicas on one PostgreSQL with the API flapping, and the webhook's authentication.
 */
const SECRET = 'incident-webhook-secret-e2e-0001';
const BASE_ENV = {
  DD_API_KEY: 'dummy-api-key-e2e',
  DD_APP_KEY: 'dummy-app-key-e2e',
  DD_SERVICE: 'llm-cp-e2e',
  DD_ENV: 'e2e',
  DATADOG_APP_URL: 'https://app.datadoghq.test',
  DATADOG_NOTIFY_HANDLES: '@slack-llm-oncall,@pagerduty-llm',
  INCIDENTS_DELIVERY_INTERVAL_MS: '100',
  INCIDENTS_RETRY_BASE_MS: '50',
  INCIDENTS_RETRY_MAX_MS: '300',
  INCIDENTS_LEASE_MS: '1500',
  INCIDENTS_WEBHOOK_SECRET: SECRET,
};

interface Summary {
  outbox_id: string;
  status: 'pending' | 'delivered' | 'failed';
  incident_id?: string;
  url?: string;
  title: string;
  severity: string;
  deduplicated: boolean;
  reason?: string;
}
interface Answer {
  success: boolean;
  incident: Summary;
  message: string;
}
interface StatusBody {
  api_configured: boolean;
  message: string;
  outbox: {
    pending: number;
    delivering: number;
    delivered: number;
    failed: number;
    oldest_pending_age_ms: number | null;
  };
  open_incidents: { count: number; oldest_age_ms: number | null };
  last_errors: { outbox_id: string; reason: string; attempts: number; next_attempt_at: string | null }[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

const alertBody = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  monitor_name: name,
  alert_message: `error ratio 9% on ${name}`,
  runbook: `# Runbook for ${name}\n\n1. Check the provider.`,
  ...extra,
});

async function createIncident(
  service: ServiceProcess,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Answer }> {
  const res = await post(`${service.url}/incidents/create`, body);
  return { status: res.status, body: (await res.json()) as Answer };
}

/**
 * The SDK is imported on the first Datadog call (about 1.3 s on a small machine), longer than the 1.5 s an answer
 * waits for the delivery: a throwaway incident loads it, so what follows sees a warm process.
 */
async function warmUp(service: ServiceProcess, state: FakeIncidents): Promise<void> {
  const { body } = await createIncident(service, alertBody('Warm-up'));
  await until('warm-up delivered', () =>
    state.withKey(`cp-${body.incident.outbox_id}`).length === 1 ? true : undefined,
  );
  await until('warm-up marked', async () => ((await status(service)).outbox.delivered >= 1 ? true : undefined));
  state.incidents.splice(0);
}

async function status(service: ServiceProcess): Promise<StatusBody> {
  const res = await fetch(`${service.url}/incidents/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusBody;
}

/** Each key the fake holds exactly once, and exactly the keys expected. */
function expectExactlyOnce(state: FakeIncidents, keys: string[]): void {
  const counts = state.countsByKey();
  expect([...counts.keys()].sort()).toEqual([...keys].sort());
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
}

const cell = (incident: FakeIncident): string => {
  const cells = incident.attributes.initial_cells as { cell_type: string; content: { content: string } }[];
  return cells[0]!.content.content;
};

describe('incidents (built service, fake Datadog Incidents API)', () => {
  const dirs: string[] = [];
  const running: ServiceProcess[] = [];
  let api: FakeDatadogApi;
  let state: FakeIncidents;

  const start = async (env: Record<string, string> = {}, dir?: string): Promise<ServiceProcess> => {
    const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'incidents-e2e-'));
    if (!dir) dirs.push(dataDir);
    const service = new ServiceProcess({ ...BASE_ENV, DATADOG_API_URL: api.url, DATA_DIR: dataDir, ...env });
    running.push(service);
    return service.start();
  };
  const newDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'incidents-e2e-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(() => ServiceProcess.assertBuilt());
  beforeEach(async () => {
    api = await new FakeDatadogApi().start();
    state = installIncidentRoutes(api);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
    await api?.close();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('opens the incident Datadog receives (title, severity, impact, runbook cell, handles) and answers 201 with its id', async () => {
    const service = await start();
    await warmUp(service, state);
    const { status: code, body } = await createIncident(
      service,
      alertBody('LLM errors', { severity: 'SEV-1', monitor_id: 4242, tags: ['team:llm'] }),
    );
    expect(code).toBe(201);
    expect(body.success).toBe(true);
    expect(body.incident).toMatchObject({ status: 'delivered', severity: 'SEV-1', deduplicated: false });
    expect(state.incidents).toHaveLength(1);
    const incident = state.incidents[0]!;
    expect(body.incident.incident_id).toBe(incident.id);
    expect(body.incident.url).toBe(`https://app.datadoghq.test/incidents/${incident.publicId}`);
    expect(body.message).toContain('created in Datadog');
    expect(incident.key).toBe(`cp-${body.incident.outbox_id}`);
    expect(incident.attributes.title).toBe('LLM errors - error ratio 9% on LLM errors');
    expect(state.fieldValue(incident, 'severity')).toBe('SEV-1');
    expect(incident.attributes.customer_impacted).toBe(true);
    expect(incident.attributes.customer_impact_scope).toContain('llm-cp-e2e (e2e)');
    expect(state.fieldValue(incident, 'cp_service')).toBe('llm-cp-e2e');
    expect(state.fieldValue(incident, 'cp_env')).toBe('e2e');
    expect(state.fieldValue(incident, 'cp_monitor')).toBe('LLM errors');
    expect(cell(incident).startsWith('# Runbook for LLM errors\n\n1. Check the provider.')).toBe(true);
    expect(cell(incident)).toContain('https://app.datadoghq.test/monitors/4242');
    expect(cell(incident)).toContain('https://app.datadoghq.test/logs?query=service%3Allm-cp-e2e%20env%3Ae2e');
    const handles = (incident.attributes.notification_handles as { handle: string }[]).map((h) => h.handle);
    expect(handles).toEqual(['@slack-llm-oncall', '@pagerduty-llm']);

    // A bad severity is a 400 naming the field; nothing reaches Datadog.
    const bad = await post(`${service.url}/incidents/create`, alertBody('x', { severity: 'SEV-7' }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(await bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'severity' }] });
    expect(state.incidents).toHaveLength(1);
  }, 60_000);

  it('dedupes: the same monitor within the window updates the open incident (200), another group opens one', async () => {
    const service = await start();
    await warmUp(service, state);
    const first = await createIncident(service, alertBody('Latency p95', { monitor_id: 7, severity: 'SEV-3' }));
    expect(first.status).toBe(201);
    const second = await createIncident(
      service,
      alertBody('Latency p95 (renamed)', { monitor_id: 7, severity: 'SEV-2' }),
    );
    expect(second.status).toBe(200);
    expect(second.body.incident).toMatchObject({
      status: 'delivered',
      deduplicated: true,
      incident_id: first.body.incident.incident_id,
      severity: 'SEV-2',
    });
    expect(state.incidents).toHaveLength(1);
    expect(state.fieldValue(state.incidents[0]!, 'cp_alert_count')).toBe('2');
    expect(state.fieldValue(state.incidents[0]!, 'severity')).toBe('SEV-2');
    const insight = await post(`${service.url}/incidents/create-from-insight`, {
      insight_type: 'cost_anomaly',
      title: 'Spend up 40% in an hour',
      description: 'gpt-4o calls doubled',
      recommendations: ['Route short prompts to the small model', 'Cap max output tokens'],
      metric: 'llm.request.cost_usd',
    });
    expect(insight.status).toBe(201);
    expect(state.incidents).toHaveLength(2);
    const created = state.incidents[1]!;
    // The metric is the insight's group: the title names it.
    expect(created.attributes.title).toBe('ML Insight: cost_anomaly {llm.request.cost_usd} - Spend up 40% in an hour');
    expect(state.fieldValue(created, 'severity')).toBe('SEV-3');
    expect(created.attributes.customer_impacted).toBe(false);
    expect(cell(created)).toMatch(
      /## What failed[\s\S]*## Why[\s\S]*## Next\n\n1\. Route short prompts[\s\S]*2\. Cap max/,
    );
  }, 60_000);

  it('a retry with the same Idempotency-Key answers the first incident: one incident in Datadog, never two', async () => {
    // The client's request timed out after the commit and it retried: the retry recorded the alert again (with the
    // dedupe window off or past it, a second incident paging again; within it, one more alert on the first).
    const service = await start({ INCIDENTS_DEDUPE_WINDOW_MS: '0' });
    api.setFault({ mode: 'status', status: 500 });
    const body = alertBody('Idempotent', { severity: 'SEV-2', tags: ['team:llm', 'b:2'] });
    const headers = { 'idempotency-key': 'e2e-7f1c2a9e' };
    const first = await post(`${service.url}/incidents/create`, body, headers);
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = (await first.json()) as Answer & { replayed?: boolean };
    expect(firstBody.replayed).toBeUndefined();
    // The same body, its fields in another order: a replay, nothing recorded.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const retry = await post(`${service.url}/incidents/create`, reordered, headers);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const retryBody = (await retry.json()) as Answer & { replayed?: boolean };
    expect(retryBody).toMatchObject({ replayed: true, incident: { outbox_id: firstBody.incident.outbox_id } });
    expect(retryBody.message).toContain('Idempotency-Key');
    // Another body under the same key: 422 naming the header; nothing recorded.
    const reused = await post(`${service.url}/incidents/create`, alertBody('Something else'), headers);
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');
    expect(await reused.json()).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      errors: [{ field: 'Idempotency-Key' }],
    });
    const bad = await post(`${service.url}/incidents/create`, body, { 'idempotency-key': 'has a space' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'Idempotency-Key' }] });
    // The document says what the service takes: a client that checks the header against it refuses the same keys.
    const document = (await (await fetch(`${service.url}/docs-json`)).json()) as {
      paths: Record<string, { post: { parameters: { name: string; schema: { pattern?: string } }[] } }>;
    };
    for (const path of ['/incidents/create', '/incidents/create-from-insight']) {
      const declared = document.paths[path]!.post.parameters.find((p) => p.name === 'Idempotency-Key')!.schema;
      const pattern = new RegExp(declared.pattern ?? '');
      expect([pattern.test('has a space'), pattern.test('naïve'), pattern.test(headers['idempotency-key'])]).toEqual([
        false,
        false,
        true,
      ]);
    }

    api.setFault({ mode: 'none' });
    await until('delivered', async () => ((await status(service)).outbox.delivered === 1 ? true : undefined));
    expectExactlyOnce(state, [`cp-${firstBody.incident.outbox_id}`]);
    const list = (await (await fetch(`${service.url}/incidents?limit=10`)).json()) as { count: number };
    expect(list.count).toBe(1);
    // Once delivered, a retry answers 201 with Datadog's id, still without recording anything.
    const late = await post(`${service.url}/incidents/create`, body, headers);
    expect(late.status).toBe(201);
    expect(late.headers.get('idempotent-replayed')).toBe('true');
    expect(((await late.json()) as Answer).incident.incident_id).toBe(state.incidents[0]!.id);
    // The key is per route: the insight route opens its own incident with it.
    const insight = await post(
      `${service.url}/incidents/create-from-insight`,
      { insight_type: 'cost_anomaly', title: 't', description: 'd', recommendations: [] },
      headers,
    );
    expect(insight.status).toBe(201);
    expect(insight.headers.get('idempotent-replayed')).toBeNull();
    expect(state.incidents).toHaveLength(2);
  }, 60_000);

  it('keeps requests in the outbox while Datadog answers 500 or refuses connections, and delivers them once it is back', async () => {
    const service = await start();
    api.setFault({ mode: 'status', status: 500 });
    const during500 = await createIncident(service, alertBody('Outbox A'));
    expect(during500.status).toBe(202);
    expect(during500.body.incident.status).toBe('pending');
    expect(during500.body.incident.incident_id).toBeUndefined();
    expect(during500.body.incident.url).toBeUndefined();
    expect(during500.body.message).not.toMatch(/^Incident created in Datadog/);
    expect(during500.body.message).toContain('not created in Datadog yet');
    const waiting = await status(service);
    expect(waiting.api_configured).toBe(true);
    // The destination actually called (DATADOG_API_URL), not the default site.
    expect(waiting.message).toContain(`Incidents go to Datadog (${new URL(api.url).host}) through the outbox`);
    expect(waiting.message).not.toContain('datadoghq.com');
    expect(waiting.outbox.pending + waiting.outbox.delivering).toBe(1);
    expect(waiting.last_errors[0]).toMatchObject({ outbox_id: during500.body.incident.outbox_id });
    expect(waiting.last_errors[0]!.reason).toContain('500');

    await api.down();
    const duringDown = await createIncident(service, alertBody('Outbox B'));
    expect(duringDown.status).toBe(202);
    expect(duringDown.body.incident.status).toBe('pending');
    expect(state.incidents).toHaveLength(0);

    api.setFault({ mode: 'none' });
    await api.up();
    await until('both delivered', async () => {
      const s = await status(service);
      return s.outbox.delivered === 2 && s.outbox.pending === 0 ? s : undefined;
    });
    expectExactlyOnce(state, [`cp-${during500.body.incident.outbox_id}`, `cp-${duringDown.body.incident.outbox_id}`]);
    const list = (await (await fetch(`${service.url}/incidents?limit=5&state=delivered`)).json()) as {
      entries: { outbox_id: string; incident_id: string | null }[];
    };
    expect(list.entries.map((e) => e.outbox_id)).toEqual([
      duringDown.body.incident.outbox_id,
      during500.body.incident.outbox_id,
    ]);
    expect(list.entries.every((e) => e.incident_id !== null)).toBe(true);
  }, 60_000);

  it('a Datadog outage is one structured warning a minute, not a line per attempt, and no SDK stack trace on stderr', async () => {
    // The SDK logged every refused connection itself: a 13-line stack trace on stderr (not JSON: each line a log
    // event of its own in Datadog), and the worker a warning per row and attempt: with 700 incidents pending, about
    // 50 lines a second for as long as the outage lasted.
    const service = await start();
    await warmUp(service, state);
    await api.down();
    const outage = await Promise.all(['Outage A', 'Outage B'].map((name) => createIncident(service, alertBody(name))));
    expect(outage.map(({ body }) => body.incident.status)).toEqual(['pending', 'pending']);
    const attempts = await until('each row refused three times', async () => {
      const { last_errors: errors } = await status(service);
      return errors.length === 2 && errors.every((e) => e.attempts >= 3 && e.reason.includes('ECONNREFUSED'))
        ? errors.reduce((sum, e) => sum + e.attempts, 0)
        : undefined;
    });
    expect(attempts).toBeGreaterThanOrEqual(6);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // log lines are written at least every 250 ms
    const refused = service
      .logs()
      .filter(
        (l) => l.context === 'IncidentDelivery' && /not delivered, attempt \d+.*ECONNREFUSED/.test(String(l.message)),
      );
    expect(refused).toHaveLength(1);
    expect(refused[0]!.level).toBe('warn');
    await api.up();
    await until('delivered once Datadog is back', async () =>
      (await status(service)).outbox.pending === 0 ? true : undefined,
    );
    expect(service.stderr.join('')).not.toContain('An error occurred during the HTTP request');
    expect(service.stderr.join('')).not.toContain('ECONNREFUSED');
  }, 60_000);

  it('GET /incidents pages back with next_cursor: every row once, in order, while new incidents arrive; bad cursors are 400', async () => {
    const service = await start();
    interface Page {
      count: number;
      entries: { outbox_id: string; state: string }[];
      next_cursor: string | null;
    }
    const page = async (query: string): Promise<Page> => {
      const res = await fetch(`${service.url}/incidents?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as Page;
    };
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push((await createIncident(service, alertBody(`Paging ${i}`))).body.incident.outbox_id);
    const newestFirst = [...ids].reverse();

    const first = await page('limit=2');
    expect(first.entries.map((e) => e.outbox_id)).toEqual(newestFirst.slice(0, 2));
    expect(first.next_cursor).toEqual(expect.any(String));
    // An incident recorded between two pages shifts nothing: the next page goes on from the last row seen.
    const newer = (await createIncident(service, alertBody('Paging new'))).body.incident.outbox_id;
    const second = await page(`limit=2&cursor=${first.next_cursor}`);
    expect(second.entries.map((e) => e.outbox_id)).toEqual(newestFirst.slice(2, 4));
    const third = await page(`limit=2&cursor=${second.next_cursor}`);
    expect(third.entries.map((e) => e.outbox_id)).toEqual(newestFirst.slice(4));
    expect(third.next_cursor).toBeNull();
    expect([first, second, third].flatMap((p) => p.entries.map((e) => e.outbox_id))).not.toContain(newer);
    // With the state filter, and with a limit larger than what is left.
    await until('all delivered', async () => ((await status(service)).outbox.delivered === 6 ? true : undefined));
    const delivered = await page(`state=delivered&limit=200&cursor=${first.next_cursor}`);
    expect(delivered.entries.map((e) => e.outbox_id)).toEqual(newestFirst.slice(2));
    expect(delivered.next_cursor).toBeNull();
    expect((await page('state=failed&limit=1')).next_cursor).toBeNull();

    const forged = Buffer.from('o1:abc').toString('base64url');
    for (const cursor of ['not-a-cursor!', '', forged, '123', 'x'.repeat(500)]) {
      const res = await fetch(`${service.url}/incidents?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'cursor', reason: expect.stringContaining('next_cursor') }],
      });
    }
  }, 60_000);

  it('nothing lost or duplicated across a restart, a kill -9 while a call hangs, and a kill -9 after a lost answer', async () => {
    // This test's fake answers a search normally and then, once armed, loses the answers from there on: the next
    // request (the create that follows the search) runs in "Datadog" but its answer never arrives.
    await api?.close();
    api = await new FakeDatadogApi().start();
    let armed = false;
    api.route('GET', '/api/v2/incidents/search', (request) => {
      if (armed) {
        armed = false;
        api.setFault({ mode: 'drop-response' });
      }
      const match = /^([\w.]+):"([^"]*)"$/.exec(request.query.get('query') ?? '');
      const hits = match ? state.incidents.filter((i) => state.fieldValue(i, match[1]!) === match[2]) : [];
      const incidents = hits.map((i) => ({
        data: { id: i.id, type: 'incidents', attributes: { ...i.attributes, public_id: i.publicId } },
      }));
      return {
        status: 200,
        body: { data: { type: 'incidents_search_results', attributes: { facets: {}, incidents, total: hits.length } } },
      };
    });
    state = installIncidentRoutes(api);
    const dir = newDir();
    // Datadog refuses connections: three requests wait in the outbox; the service stops cleanly.
    await api.down();
    let service = await start({}, dir);
    const queued = [];
    for (const name of ['Restart A', 'Restart B', 'Restart C'])
      queued.push((await createIncident(service, alertBody(name))).body);
    expect(queued.every((a) => a.incident.status === 'pending')).toBe(true);
    expect(await service.stop()).not.toBeNull();
    await api.up();
    service = await start({}, dir);
    await until('restart: delivered', () => (state.incidents.length === 3 ? true : undefined));

    // Every call hangs: a delivery is under way when the process is killed; the next one resumes it.
    api.setFault({ mode: 'hang' });
    const hung = (await createIncident(service, alertBody('Hang'))).body;
    expect(hung.incident.status).toBe('pending');
    await service.kill();
    api.setFault({ mode: 'none' });
    service = await start({}, dir);
    await until('hang: delivered', () => (state.incidents.length === 4 ? true : undefined));

    // The incident is created but the answer is lost; the process dies before it could retry.
    armed = true;
    const lost = (await createIncident(service, alertBody('Lost answer'))).body;
    expect(lost.incident.status).toBe('pending');
    await until('lost answer: created in Datadog', () => (state.incidents.length === 5 ? true : undefined));
    await service.kill();
    api.setFault({ mode: 'none' });
    service = await start({}, dir);
    await until('lost answer: marked delivered', async () => {
      const s = await status(service);
      return s.outbox.delivered === 5 && s.outbox.pending + s.outbox.delivering === 0 ? true : undefined;
    });
    await sleep(500);
    expectExactlyOnce(
      state,
      [...queued, hung, lost].map((a) => `cp-${a.incident.outbox_id}`),
    );
  }, 60_000);

  it('authenticates the webhook (401 without or with a wrong secret), opens, dedupes and resolves by monitor and group', async () => {
    const service = await start();
    const payload = {
      id: '777',
      alert_id: '9001',
      title: '[P2] [Triggered on {service:llm-cp-e2e,env:e2e}] LLM (llm-cp-e2e, e2e): error ratio above 5%',
      transition: 'Triggered',
      priority: 'P2',
      scope: 'service:llm-cp-e2e,env:e2e',
      message:
        '%%%\n@slack-llm-oncall Error ratio 8% for jane.doe@example.com\n\n@webhook-llm-control-plane-incidents\n%%%',
      tags: 'monitor, service:llm-cp-e2e, runbook:llm-error-rate, severity:sev-1',
      link: 'https://app.datadoghq.test/event/event?id=777',
      date: '1767225600000',
      aggregate_key: 'abc',
    };
    const hook = (body: unknown, secret?: string): Promise<Response> =>
      post(`${service.url}/incidents/webhook`, body, secret === undefined ? {} : { 'x-webhook-secret': secret });

    const missing = await hook(payload);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(await missing.json()).toMatchObject({ code: 'WEBHOOK_UNAUTHORIZED' });
    const wrong = await hook(payload, 'incident-webhook-secret-e2e-0002');
    expect(wrong.status).toBe(401);
    // Unauthenticated: the body is not even validated.
    expect((await hook({ nonsense: true }, 'wrong')).status).toBe(401);
    expect(state.incidents).toHaveLength(0);

    const opened = await hook(payload, SECRET);
    expect(opened.status).toBe(200);
    expect(await opened.json()).toMatchObject({
      action: 'opened',
      incident: { severity: 'SEV-2', deduplicated: false },
    });
    await until('webhook incident delivered', () => (state.incidents.length === 1 ? true : undefined));
    const incident = state.incidents[0]!;
    // The incidents open now (what the incidents.open gauges report): this one, opened a moment ago.
    const openNow = (await status(service)).open_incidents;
    expect(openNow.count).toBe(1);
    expect(openNow.oldest_age_ms).toEqual(expect.any(Number));
    // The group in the title; the monitor's notification handles neither there nor in the timeline cell.
    expect(incident.attributes.title).toBe(
      'LLM (llm-cp-e2e, e2e): error ratio above 5% {env:e2e,service:llm-cp-e2e} - Error ratio 8% for [REDACTED:EMAIL]',
    );
    expect(JSON.stringify(incident.attributes)).not.toContain('jane.doe@example.com');
    expect(`${incident.attributes.title} ${cell(incident)}`).not.toMatch(/@slack-llm-oncall|@webhook-llm/);
    expect(cell(incident)).toContain('Error ratio 8% for [REDACTED:EMAIL]');
    const runbookFile = resolve(__dirname, '../runbooks/llm-error-rate.md');
    if (existsSync(runbookFile)) {
      const firstLine = readFileSync(runbookFile, 'utf8').split('\n')[0]!;
      expect(cell(incident).startsWith(firstLine)).toBe(true);
    }
    expect(state.fieldValue(incident, 'cp_group')).toBe('env:e2e,service:llm-cp-e2e');

    // Each notification is its own Datadog event: its own $ID and $DATE (a repeated $ID is a retry, taken once).
    const again = await hook(
      { ...payload, id: '778', date: '1767225660000', transition: 'Re-Triggered', priority: 'P1' },
      SECRET,
    );
    expect(await again.json()).toMatchObject({
      action: 'updated',
      incident: { deduplicated: true, severity: 'SEV-1' },
    });
    const recovered = await hook({ ...payload, id: '779', date: '1767225720000', transition: 'Recovered' }, SECRET);
    expect(await recovered.json()).toMatchObject({ action: 'resolved' });
    await until('resolved in Datadog', () => (state.fieldValue(incident, 'state') === 'resolved' ? true : undefined));
    // Resolved: none open (the gauges read 0).
    expect((await status(service)).open_incidents).toEqual({ count: 0, oldest_age_ms: null });
    expect(state.fieldValue(incident, 'severity')).toBe('SEV-1');
    expect(state.incidents).toHaveLength(1);
    const twice = await hook({ ...payload, id: '780', date: '1767225780000', transition: 'Recovered' }, SECRET);
    expect(twice.status).toBe(200);
    expect(await twice.json()).toMatchObject({ action: 'ignored' });
    // An unknown runbook key gives the generic runbook.
    await hook({ ...payload, alert_id: '9002', tags: 'runbook:no-such-runbook' }, SECRET);
    await until('generic runbook', () => (state.incidents.length === 2 ? true : undefined));
    expect(cell(state.incidents[1]!)).toContain('No runbook exists for the monitor');
    // The secret never reaches the logs.
    await service.stop();
    expect(service.stdout.join('\n')).not.toContain(SECRET);
    expect(service.stderr.join('')).not.toContain(SECRET);
  }, 60_000);

  it('a Triggered past the dedupe window with an incident still open resolves that one in Datadog, naming the new one', async () => {
    // Datadog sends Triggered again only after a Recovered: an incident still open then lost its Recovered. It was
    // superseded locally and stayed active in Datadog for good. (A window of 0: every new alert is past it.)
    const service = await start({ INCIDENTS_DEDUPE_WINDOW_MS: '0' });
    await warmUp(service, state);
    const payload = {
      id: '901',
      alert_id: '9100',
      title: '[P3] [Triggered on {model:gemini-2.5-pro}] LLM (llm-cp-e2e, e2e): circuit open for a model',
      transition: 'Triggered',
      scope: 'model:gemini-2.5-pro',
      message: '%%%\nCircuit open @slack-llm-oncall\n%%%',
      tags: 'runbook:llm-circuit-open, severity:sev-3',
      date: '1767225600000',
    };
    const hook = async (body: Record<string, unknown>): Promise<{ action: string }> => {
      const res = await post(`${service.url}/incidents/webhook`, body, { 'x-webhook-secret': SECRET });
      expect(res.status).toBe(200);
      return (await res.json()) as { action: string };
    };
    expect((await hook(payload)).action).toBe('opened');
    await until('first incident delivered', () => (state.incidents.length === 1 ? true : undefined));
    const old = state.incidents[0]!;
    expect(old.attributes.title).toBe(
      'LLM (llm-cp-e2e, e2e): circuit open for a model {model:gemini-2.5-pro} - Circuit open',
    );
    // Its Recovered never came; the monitor fires again.
    expect((await hook({ ...payload, id: '903', date: '1767229200000' })).action).toBe('opened');
    // Resolved, then its "Continued in" attachment: two requests to Datadog, the second after the first's answer.
    await until('old incident resolved, naming the new one', () =>
      state.fieldValue(old, 'state') === 'resolved' && old.attachments.some((a) => a.title === 'Continued in')
        ? true
        : undefined,
    );
    expect(state.incidents).toHaveLength(2);
    const next = state.incidents[1]!;
    expect(state.fieldValue(next, 'state')).toBe('active');
    const nextUrl = `https://app.datadoghq.test/incidents/${next.publicId}`;
    expect(state.fieldValue(old, 'cp_note')).toEqual(
      expect.stringMatching(
        new RegExp(`^Resolved by the control plane, superseded by ${nextUrl}\\. .*Recovered was lost`),
      ),
    );
    expect(old.attachments).toContainEqual({ title: 'Continued in', documentUrl: nextUrl });
    // The new incident takes the recovery.
    expect((await hook({ ...payload, id: '904', date: '1767229260000', transition: 'Recovered' })).action).toBe(
      'resolved',
    );
    await until('new incident resolved', () => (state.fieldValue(next, 'state') === 'resolved' ? true : undefined));
    const listed = (await (await fetch(`${service.url}/incidents?limit=10`)).json()) as {
      entries: { outbox_id: string; kind: string; incident_state: string; state: string }[];
    };
    expect(listed.entries.filter((e) => e.incident_state === 'superseded').every((e) => e.state === 'delivered')).toBe(
      true,
    );
  }, 60_000);

  it("an alert storm past the anonymous rate limit: Datadog's notifications are all taken, a wrong secret is still 429", async () => {
    // The webhook has no API key, so it was limited per client IP (RATE_LIMIT_ANONYMOUS_PER_MINUTE, 120 by default):
    // 3,000 notifications from one address got 134 answers 200 and 2,866 answers 429, and Datadog retries a webhook
    // only on a 5xx: every alert past the bucket was lost.
    const service = await start({ AUTH_DISABLED: 'false', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '5' });
    const hook = (i: number, secret: string): Promise<Response> =>
      post(
        `${service.url}/incidents/webhook`,
        {
          id: String(5000 + i),
          alert_id: '77',
          title: `[P2] [Triggered on {model:m${i}}] LLM storm`,
          transition: 'Triggered',
          scope: `model:m${i}`,
          date: '1767225600000',
        },
        { 'x-webhook-secret': secret },
      );
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push((await hook(i, SECRET)).status);
    expect(codes.filter((c) => c === 200)).toHaveLength(25);
    // Guessing the secret is still bounded by the anonymous bucket (empty now).
    const wrong = await hook(100, 'not-the-secret-0000000000');
    expect(wrong.status).toBe(429);
    expect(wrong.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await wrong.json()).toMatchObject({ code: 'RATE_LIMITED' });
    const missing = await post(`${service.url}/incidents/webhook`, { title: 't', transition: 'Triggered' });
    expect(missing.status).toBe(429);
  }, 60_000);

  it('refuses every webhook with 503 while INCIDENTS_WEBHOOK_SECRET is not set', async () => {
    const service = await start({ INCIDENTS_WEBHOOK_SECRET: '' });
    const res = await post(
      `${service.url}/incidents/webhook`,
      { title: 't', transition: 'Triggered' },
      {
        'x-webhook-secret': SECRET,
      },
    );
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe('WEBHOOK_NOT_CONFIGURED');
    expect(body.detail).toContain('INCIDENTS_WEBHOOK_SECRET');
  }, 60_000);

  describe('two replicas on one PostgreSQL', () => {
    const pg = new PostgresTestServer();
    beforeAll(() => pg.start(), 60_000);
    afterAll(() => pg.stop(), 60_000);

    it('deliver every incident exactly once while the API flaps, and report the same outbox', async () => {
      const client = new Client({ connectionString: pg.url });
      await client.connect();
      await client.query('CREATE DATABASE incidents_e2e');
      await client.end();
      const url = pg.url.replace(/\/postgres$/, '/incidents_e2e');
      const a = await start({ DATABASE_URL: url });
      const b = await start({ DATABASE_URL: url });

      let flapping = true;
      const faults = [
        { mode: 'status', status: 500 },
        { mode: 'drop-response' },
        { mode: 'none' },
        { mode: 'status', status: 503 },
        { mode: 'none' },
      ] as const;
      const flapper = (async () => {
        for (let i = 0; flapping; i++) {
          api.setFault(faults[i % faults.length]!);
          await sleep(120);
        }
        api.setFault({ mode: 'none' });
      })();
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) => createIncident(i % 2 ? b : a, alertBody(`Flapping ${i}`))),
      );
      const refused = answers.filter((r) => r.status !== 201 && r.status !== 202);
      const errors = [a, b].flatMap((s) => s.logs().filter((l) => l.level === 'error'));
      expect([...refused.map((r) => JSON.stringify(r.body)), ...errors.map((l) => JSON.stringify(l))]).toEqual([]);
      // A same-monitor alert to each replica at once: one incident, one update.
      const same = await Promise.all(
        [a, b].map((s) => createIncident(s, alertBody('Same monitor', { monitor_id: 55 }))),
      );
      expect(same.filter((r) => r.body.incident.deduplicated)).toHaveLength(1);
      await sleep(1500);
      flapping = false;
      await flapper;
      const keys = [...answers, ...same.filter((r) => !r.body.incident.deduplicated)].map(
        (r) => `cp-${r.body.incident.outbox_id}`,
      );
      await until(
        'every incident delivered',
        async () => {
          const s = await status(a);
          return s.outbox.pending + s.outbox.delivering === 0 ? s : undefined;
        },
        15_000,
      );
      expectExactlyOnce(state, keys);
      const [sa, sb] = await Promise.all([status(a), status(b)]);
      expect(sa.outbox).toEqual(sb.outbox);
      expect(sa.outbox).toMatchObject({ delivered: 18, failed: 0 });
    }, 60_000);
  });
});
