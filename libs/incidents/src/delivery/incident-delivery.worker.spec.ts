import { randomUUID } from 'node:crypto';
import { BasicTextRedactor } from '@app/common';
import { DatadogApiError, type IncidentRequest, type IncidentSeverity } from '@app/datadog';
import { InMemoryMetrics, ReadinessRegistry } from '@app/telemetry';
import { testConfig } from '../../../../test/support/app-config';
import { InMemoryIncidentsPort } from '../../../../test/support/incidents-port-fake';
import { IncidentContentBuilder } from '../content/incident-content';
import { INCIDENT_METRICS } from '../incidents.metrics';
import { IncidentsModule } from '../incidents.module';
import { SqliteIncidentOutbox } from '../outbox/sqlite-incident-outbox';
import { UNCONFIGURED_REASON } from './delivery-error';
import { IncidentDeliveryWorker } from './incident-delivery.worker';

const BASE = 1000;
const MAX = 60_000;
const LEASE = 10_000;
const T0 = Date.UTC(2030, 5, 1);

const config = testConfig({
  INCIDENTS_RETRY_BASE_MS: String(BASE),
  INCIDENTS_RETRY_MAX_MS: String(MAX),
  INCIDENTS_LEASE_MS: String(LEASE),
  INCIDENTS_DEDUPE_WINDOW_MS: '60000',
});

/** The worker over a real (in-memory SQLite) outbox and an in-memory Datadog. */
async function setup(port = new InMemoryIncidentsPort(), t0 = T0) {
  const store = new SqliteIncidentOutbox(':memory:');
  await store.init();
  const metrics = new InMemoryMetrics();
  const redactor = new BasicTextRedactor();
  const worker = new IncidentDeliveryWorker(store, port, config, metrics, redactor);
  worker.random = () => 0.5;
  const content = new IncidentContentBuilder(config, redactor);
  const record = async (monitor: string, ms: number, severity: IncidentSeverity = 'SEV-3') => {
    const outboxId = randomUUID();
    const built = content.build(
      { source: 'api', monitorName: monitor, group: '', message: 'm', runbookMarkdown: 'r', severity, tags: [] },
      outboxId,
    );
    const outcome = await store.recordAlert({
      now: t0 + ms,
      dedupeWindowMs: 60_000,
      mode: 'open',
      dedupeKey: built.dedupeKey,
      monitor: built.monitor,
      group: built.group,
      title: built.title,
      severity,
      outboxId,
      request: built.request,
    });
    return { outboxId: outcome.outboxId!, key: `cp-${outboxId}`, action: outcome.action };
  };
  const resolve = async (monitor: string, ms: number) => {
    const { dedupeKey } = content.identity(monitor, undefined, '');
    return store.recordRecovery({ now: t0 + ms, dedupeKey, outboxId: randomUUID() });
  };
  return { store, port, metrics, worker, record, resolve };
}

/** One pending create on a real in-memory outbox, with a 1 s lease, for the tests on the real clock. */
async function oneRow(port: InMemoryIncidentsPort, env: Record<string, string> = {}, now = Date.now() - 10) {
  const oneSecond = testConfig({ INCIDENTS_LEASE_MS: '1000', ...env });
  const store = new SqliteIncidentOutbox(':memory:');
  await store.init();
  const worker = new IncidentDeliveryWorker(store, port, oneSecond, new InMemoryMetrics(), new BasicTextRedactor());
  const content = new IncidentContentBuilder(oneSecond, new BasicTextRedactor());
  const outboxId = randomUUID();
  const built = content.build(
    { source: 'api', monitorName: 'm', group: '', message: 'x', runbookMarkdown: 'r', severity: 'SEV-3', tags: [] },
    outboxId,
  );
  await store.recordAlert({
    now,
    dedupeWindowMs: 0,
    mode: 'open',
    dedupeKey: built.dedupeKey,
    monitor: built.monitor,
    group: built.group,
    title: built.title,
    severity: 'SEV-3',
    outboxId,
    request: built.request,
  });
  return { store, worker, outboxId };
}

describe('IncidentDeliveryWorker (delivery state machine)', () => {
  it('loads the Datadog SDK while the service starts (before it listens), never later among live requests', async () => {
    let release!: () => void;
    const port = new (class extends InMemoryIncidentsPort {
      warmUps = 0;
      override warmUp(): Promise<void> {
        this.warmUps += 1;
        return new Promise<void>((resolve) => (release = resolve));
      }
    })();
    const { worker } = await setup(port);
    let booted = false;
    const boot = worker.onApplicationBootstrap().then(() => (booted = true));
    await new Promise((r) => setImmediate(r));
    // Nest awaits this hook before app.listen: the start waits for the SDK, so no request ever waits behind it.
    expect(port.warmUps).toBe(1);
    expect(booted).toBe(false);
    release();
    await boot;
    expect(booted).toBe(true);
    await worker.beforeApplicationShutdown();
  });

  it('readiness says incidents are degraded while Datadog refuses the deliveries (keys named on a 401), until one succeeds', async () => {
    const port = new InMemoryIncidentsPort().failNext(
      'findByKey',
      { kind: 'error', error: new DatadogApiError('incident search', 'HTTP 401: Unauthorized', { status: 401 }) },
      { kind: 'error', error: new DatadogApiError('incident search', 'HTTP 503: unavailable', { status: 503 }) },
    );
    const { store, worker, record } = await setup(port);
    const readiness = new ReadinessRegistry();
    await new IncidentsModule(store, port, readiness, worker).onModuleInit();
    const incidents = async () => (await readiness.run()).incidents!;
    const { outboxId } = await record('m1', 0);
    expect(await incidents()).toMatchObject({ status: 'ok' });
    await worker.deliverDue(T0);
    expect(await incidents()).toEqual({
      status: 'degraded',
      detail: expect.stringMatching(
        /^sqlite outbox: 1 waiting, 0 failed, 0 delivered; Datadog refuses our keys \(HTTP 401, .*\): check DD_API_KEY, DD_APP_KEY/,
      ) as unknown,
    });
    let row = (await store.get(outboxId))!;
    await worker.deliverDue(row.nextAttemptAt);
    expect((await incidents()).detail).toMatch(
      /; the last delivery failed \(server, .*\): Datadog incident search: HTTP 503/,
    );
    row = (await store.get(outboxId))!;
    await worker.deliverDue(row.nextAttemptAt);
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivered' });
    expect(await incidents()).toEqual({ status: 'ok', detail: 'sqlite outbox: 0 waiting, 0 failed, 1 delivered' });
  });

  it('does not load the Datadog SDK without API keys', async () => {
    const port = new InMemoryIncidentsPort('unconfigured');
    const warmUp = jest.spyOn(port, 'warmUp');
    const { worker } = await setup(port);
    await worker.onApplicationBootstrap();
    expect(warmUp).not.toHaveBeenCalled();
    await worker.beforeApplicationShutdown();
  });

  it("retention: purges a resolved incident's delivered rows once older than LEDGER_RETENTION_DAYS, never before", async () => {
    const { store, worker, record, resolve } = await setup();
    const { outboxId } = await record('m-old', 0);
    await worker.deliverDue(T0);
    await resolve('m-old', 1000);
    await worker.deliverDue(T0 + 2000);
    const day = 86_400_000;
    const retention = config.ledger.retentionDays * day;
    expect(await worker.purge(T0 + retention - day)).toEqual({ rows: 0, incidents: 0 });
    expect(await store.get(outboxId)).toBeDefined();
    expect(await worker.purge(T0 + retention + day)).toEqual({ rows: 2, incidents: 1 });
    expect(await store.get(outboxId)).toBeUndefined();
  });

  it('delivers a create: looks the key up first, creates once, marks delivered with the id and link', async () => {
    const { store, port, metrics, worker, record } = await setup();
    const { outboxId, key } = await record('m1', 0);
    await worker.deliverDue(T0);
    expect(port.calls).toEqual([
      { operation: 'findByKey', arg: key },
      { operation: 'create', arg: key },
    ]);
    expect(await store.get(outboxId)).toMatchObject({
      state: 'delivered',
      incidentId: 'dd-1',
      incidentUrl: 'https://app.datadoghq.test/incidents/dd-1',
      attempts: 0,
    });
    expect(metrics.named(INCIDENT_METRICS.delivered.name).map((m) => m.tags)).toEqual([['kind:create']]);
    expect(metrics.named(INCIDENT_METRICS.outboxPending.name).at(-1)?.value).toBe(0);
    // Delivered, and still open (no recovery yet): one incident open, opened at T0 (the store's clock is the poll's).
    expect(metrics.named(INCIDENT_METRICS.open.name).at(-1)?.value).toBe(1);
    expect(metrics.named(INCIDENT_METRICS.openOldestAge.name).at(-1)?.value).toBeGreaterThanOrEqual(0);
  });

  it('a lost answer is retried and the incident found by its key: never created twice', async () => {
    const port = new InMemoryIncidentsPort().failNext('create', { kind: 'lost-answer' });
    const { store, worker, record } = await setup(port);
    const { outboxId, key } = await record('m1', 0);
    await worker.deliverDue(T0);
    const pending = await store.get(outboxId);
    expect(pending).toMatchObject({ state: 'pending', attempts: 1, incidentId: null });
    expect(pending!.lastError).toContain('socket hang up');
    await worker.deliverDue(pending!.nextAttemptAt);
    expect(port.byKey(key)).toHaveLength(1);
    expect(port.calls.map((c) => c.operation)).toEqual(['findByKey', 'create', 'findByKey']);
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivered', incidentId: 'dd-1' });
  });

  it('retryable errors back off exponentially with jitter, within INCIDENTS_RETRY_BASE_MS..MAX; the reason is kept', async () => {
    const failures = Array.from({ length: 9 }, () => ({
      kind: 'error' as const,
      error: new DatadogApiError('incident search', 'HTTP 503: unavailable', { status: 503 }),
    }));
    const port = new InMemoryIncidentsPort().failNext('findByKey', ...failures);
    const { store, metrics, worker, record } = await setup(port);
    const { outboxId } = await record('m1', 0);
    const delays: number[] = [];
    let now = T0;
    for (let attempt = 1; attempt <= 9; attempt++) {
      worker.random = () => (attempt % 2 ? 0 : 0.999);
      await worker.deliverDue(now);
      const row = (await store.get(outboxId))!;
      expect(row).toMatchObject({
        state: 'pending',
        attempts: attempt,
        lastError: 'Datadog incident search: HTTP 503: unavailable',
      });
      delays.push(row.nextAttemptAt - now);
      // Not due a millisecond before its time.
      await worker.deliverDue(row.nextAttemptAt - 1);
      expect((await store.get(outboxId))!.attempts).toBe(attempt);
      now = row.nextAttemptAt;
    }
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(BASE);
      expect(delay).toBeLessThanOrEqual(MAX);
    }
    expect(delays.slice(0, 4)).toEqual([1000, 1999, 2000, 7996]);
    expect(delays.at(-1)).toBeGreaterThanOrEqual(MAX / 2);
    expect(metrics.named(INCIDENT_METRICS.deliveryErrors.name).every((m) => m.tags[0] === 'reason:server')).toBe(true);
    await worker.deliverDue(now);
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivered', attempts: 9, lastError: null });
  });

  it('a permanent refusal (400) fails the row with its reason and never retries it', async () => {
    const port = new InMemoryIncidentsPort().failNext('create', {
      kind: 'error',
      error: new DatadogApiError('incident create', 'HTTP 400: title too long', { status: 400 }),
    });
    const { store, metrics, worker, record } = await setup(port);
    const { outboxId } = await record('m1', 0);
    await worker.deliverDue(T0);
    expect(await store.get(outboxId)).toMatchObject({
      state: 'failed',
      lastError: 'Datadog incident create: HTTP 400: title too long',
      incidentId: null,
    });
    await worker.deliverDue(T0 + 365 * 86_400_000);
    expect(port.calls.filter((c) => c.operation === 'create')).toHaveLength(1);
    expect(metrics.named(INCIDENT_METRICS.deliveryErrors.name).map((m) => m.tags)).toEqual([['reason:rejected']]);
  });

  it('an update Datadog answers 404 (the incident was deleted there) closes it: the next alert opens a new one', async () => {
    const { store, port, worker, record } = await setup();
    const first = await record('m-gone', 0);
    await worker.deliverDue(T0);
    port.failNext('update', {
      kind: 'error',
      error: new DatadogApiError('incident update', 'HTTP 404: Not found', { status: 404 }),
    });
    const update = await record('m-gone', 1000);
    expect(update.action).toBe('updated');
    const waiting = await record('m-gone', 1500);
    await worker.deliverDue(T0 + 2000);
    expect(await store.get(update.outboxId)).toMatchObject({ state: 'failed', incidentState: 'failed' });
    // The update queued behind it would meet the same 404: it fails with the reason instead of being sent.
    const after = await store.get(waiting.outboxId);
    expect(after).toMatchObject({ state: 'failed' });
    expect(after!.lastError).toContain('its incident is gone from Datadog');
    expect(port.calls.filter((c) => c.operation === 'update')).toHaveLength(1);

    // Still firing, within the dedupe window: a new incident, not another update of the deleted one.
    const next = await record('m-gone', 3000);
    expect(next.action).toBe('opened');
    await worker.deliverDue(T0 + 4000);
    expect(await store.get(next.outboxId)).toMatchObject({ state: 'delivered', incidentState: 'open' });
    expect(port.incidents.map((i) => i.request.idempotencyKey)).toEqual([first.key, next.key]);
  });

  it('an update refused otherwise (400) fails alone: its incident stays open and the next alert updates it', async () => {
    const { store, port, worker, record } = await setup();
    await record('m-bad-update', 0);
    await worker.deliverDue(T0);
    port.failNext('update', {
      kind: 'error',
      error: new DatadogApiError('incident update', 'HTTP 400: Field "cp_last_alert" does not exist', { status: 400 }),
    });
    const update = await record('m-bad-update', 1000);
    await worker.deliverDue(T0 + 2000);
    expect(await store.get(update.outboxId)).toMatchObject({ state: 'failed', incidentState: 'open' });
    expect((await record('m-bad-update', 3000)).action).toBe('updated');
  });

  it('errors that do not say they are permanent are retried; 429 and no answer are counted by reason', async () => {
    const port = new InMemoryIncidentsPort().failNext(
      'findByKey',
      { kind: 'error', error: new Error('adapter bug') },
      { kind: 'error', error: new DatadogApiError('incident search', 'HTTP 429', { status: 429 }) },
      { kind: 'error', error: new DatadogApiError('incident search', 'connect ECONNREFUSED') },
    );
    const { store, metrics, worker, record } = await setup(port);
    const { outboxId } = await record('m1', 0);
    let now = T0;
    for (let i = 0; i < 4; i++) {
      await worker.deliverDue(now);
      now = (await store.get(outboxId))!.nextAttemptAt;
    }
    expect((await store.get(outboxId))!.state).toBe('delivered');
    expect(metrics.named(INCIDENT_METRICS.deliveryErrors.name).map((m) => m.tags[0])).toEqual([
      'reason:internal',
      'reason:rate_limited',
      'reason:unreachable',
    ]);
  });

  it('redacts and bounds the reason it keeps', async () => {
    const secret = 'sk-abcdefghijklmnopqrstuvwxyz012345';
    const port = new InMemoryIncidentsPort().failNext('findByKey', {
      kind: 'error',
      error: new DatadogApiError(
        'incident search',
        `HTTP 500: echo ${secret} for jane.doe@example.com ${'x'.repeat(2000)}`,
        {
          status: 500,
        },
      ),
    });
    const { store, worker, record } = await setup(port);
    const { outboxId } = await record('m1', 0);
    await worker.deliverDue(T0);
    const reason = (await store.get(outboxId))!.lastError!;
    expect(reason).not.toContain(secret);
    expect(reason).not.toContain('jane.doe@example.com');
    expect(reason).toContain('[REDACTED:');
    expect(reason.length).toBeLessThan(400);
  });

  it('without API keys nothing is sent: rows stay pending with the reason and are retried with backoff', async () => {
    const port = new InMemoryIncidentsPort('unconfigured');
    const { store, metrics, worker, record } = await setup(port);
    const { outboxId } = await record('m1', 0);
    await worker.deliverDue(T0);
    const row = (await store.get(outboxId))!;
    expect(row).toMatchObject({ state: 'pending', attempts: 1, lastError: UNCONFIGURED_REASON, incidentId: null });
    expect(row.lastError).toMatch(/^Datadog API keys not configured/);
    expect(row.nextAttemptAt - T0).toBeGreaterThanOrEqual(BASE);
    expect(port.calls).toEqual([]);
    expect(metrics.named(INCIDENT_METRICS.deliveryErrors.name).map((m) => m.tags)).toEqual([['reason:unconfigured']]);
  });

  it('resumes a delivery whose holder died once its lease expires, finding what the dead one created', async () => {
    const { store, port, worker, record } = await setup();
    const { outboxId, key } = await record('m1', 0);
    // Another replica claimed the row, created the incident in Datadog and died before marking it.
    const [claimed] = await store.claimDue('dead-replica', T0, LEASE, 10);
    await port.create(claimed!.payload as Parameters<InMemoryIncidentsPort['create']>[0]);
    await worker.deliverDue(T0 + LEASE - 1);
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivering', claimedBy: 'dead-replica' });
    await worker.deliverDue(T0 + LEASE);
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivered', incidentId: 'dd-1' });
    expect(port.byKey(key)).toHaveLength(1);
    expect(port.calls.filter((c) => c.operation === 'create')).toHaveLength(1);
  });

  it('an update waits while its create is pending, then goes to the incident Datadog created, in order', async () => {
    const port = new InMemoryIncidentsPort().failNext('create', {
      kind: 'error',
      error: new DatadogApiError('incident create', 'HTTP 502', { status: 502 }),
    });
    const { store, worker, record, resolve } = await setup(port);
    const create = await record('m1', 0, 'SEV-3');
    const realert = await record('m1', 1000, 'SEV-1');
    expect(realert.action).toBe('updated');
    const recovery = await resolve('m1', 2000);
    await worker.deliverDue(T0 + 3000);
    expect(port.calls.map((c) => c.operation)).toEqual(['findByKey', 'create']);
    expect(await store.get(realert.outboxId)).toMatchObject({ state: 'pending', attempts: 0, incidentId: null });
    const due = (await store.get(create.outboxId))!.nextAttemptAt;
    await worker.deliverDue(due);
    expect((await store.get(realert.outboxId))!.state).toBe('delivered');
    expect((await store.get(recovery.outboxId!))!.state).toBe('delivered');
    expect(port.calls.map((c) => `${c.operation}:${c.arg}`).slice(2)).toEqual([
      `findByKey:${create.key}`,
      `create:${create.key}`,
      'update:dd-1',
      'update:dd-1',
    ]);
    expect(port.incidents[0]!.updates).toEqual([
      { severity: 'SEV-1', fields: { alert_count: '2', last_alert: new Date(T0 + 1000).toISOString() } },
      { state: 'resolved', fields: { resolved_at: new Date(T0 + 2000).toISOString() } },
    ]);
  });

  it('resolves the incident a new one supersedes in Datadog, with a note and a link to the new one', async () => {
    // Past the dedupe window a new incident opened and the old one was closed locally only: it stayed active in
    // Datadog for good, as nothing (no recovery, no alert) reaches it any more.
    const { store, port, worker, record } = await setup();
    await record('m1', 0);
    await worker.deliverDue(T0 + 1);
    const next = await record('m1', 61_000);
    expect(next.action).toBe('opened');
    await worker.deliverDue(T0 + 61_001);
    expect(port.calls.map((c) => `${c.operation}:${c.arg}`).slice(2)).toEqual([
      `findByKey:${next.key}`,
      `create:${next.key}`,
      'update:dd-1',
    ]);
    const [update] = port.incidents[0]!.updates;
    expect(update).toEqual({
      state: 'resolved',
      fields: { resolved_at: new Date(T0 + 61_000).toISOString() },
      note: expect.stringMatching(
        /^Resolved by the control plane, superseded by https:\/\/app\.datadoghq\.test\/incidents\/dd-2\. A new alert .* opened it; .* Recovered was lost \(or .*\)\.$/,
      ) as unknown,
      links: [{ title: 'Continued in', url: 'https://app.datadoghq.test/incidents/dd-2' }],
    });
    expect(update!.note!.length).toBeLessThan(500);
    expect(port.incidents[1]!.updates).toEqual([]);
    expect(await store.get(`${next.outboxId}-supersedes`)).toMatchObject({ state: 'delivered', incidentId: 'dd-1' });
  });

  it('the superseded incident is resolved even while Datadog has not taken the new one (named by its title)', async () => {
    const { store, port, worker, record } = await setup();
    await record('m1', 0);
    await worker.deliverDue(T0 + 1);
    port.failNext('create', {
      kind: 'error',
      error: new DatadogApiError('incident create', 'HTTP 503', { status: 503 }),
    });
    const next = await record('m1', 61_000);
    await worker.deliverDue(T0 + 61_001);
    expect(await store.get(next.outboxId)).toMatchObject({ state: 'pending', attempts: 1 });
    const [update] = port.incidents[0]!.updates;
    expect(update).toMatchObject({ state: 'resolved' });
    expect(update!.note).toMatch(
      /^Resolved by the control plane, superseded by the incident "m1 - m" \(not in Datadog yet/,
    );
    expect(update!.links).toBeUndefined();
  });

  it('a delivery slower than the lease keeps its row (heartbeat): no other replica takes it over meanwhile', async () => {
    const port = new InMemoryIncidentsPort();
    port.latencyMs = 900;
    const { store, worker, outboxId } = await oneRow(port);
    // findByKey + create: 1.8 s, past the 1 s lease.
    const delivery = worker.deliverDue();
    const stolen: string[] = [];
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 200));
      stolen.push(...(await store.claimDue('other-replica', Date.now(), 1000, 10)).map((e) => e.id));
    }
    await delivery;
    expect(stolen).toEqual([]);
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivered' });
    expect(port.incidents).toHaveLength(1);
  });

  it('sends no create when the row was taken over between the key lookup and the create (lease fence)', async () => {
    const { store, port, metrics, worker, record } = await setup();
    const { outboxId, key } = await record('m1', 0);
    // This worker's lookup is slow; meanwhile its lease ends and another replica claims the row.
    const lookup = port.findByKey.bind(port);
    port.findByKey = async (k: string) => {
      const found = await lookup(k);
      expect(await store.claimDue('other-replica', T0 + LEASE + 1, LEASE, 10)).toHaveLength(1);
      return found;
    };
    await worker.deliverDue(T0);
    expect(port.calls.map((c) => c.operation)).toEqual(['findByKey']);
    expect(port.byKey(key)).toHaveLength(0);
    // Left to its new holder as it is: not put back, not counted as a delivery error.
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivering', claimedBy: 'other-replica', attempts: 0 });
    expect(metrics.named(INCIDENT_METRICS.deliveryErrors.name)).toEqual([]);
  });

  describe('a create runs only while the lease it relies on lasts', () => {
    it('aborted before the lease ends when it can no longer be renewed (the store unreachable)', async () => {
      const port = new InMemoryIncidentsPort().failNext('create', { kind: 'hang' });
      const { store, worker, outboxId } = await oneRow(port, { INCIDENTS_RETRY_BASE_MS: '10' });
      const renew = store.renewLease.bind(store);
      let renewals = 0;
      // The fence's renewal succeeds; every heartbeat after it fails.
      store.renewLease = (...args) => (++renewals === 1 ? renew(...args) : Promise.reject(new Error('store down')));
      const started = Date.now();
      await worker.deliverDue();
      const took = Date.now() - started;
      // Given up at the lease's end less its margin (900 ms after the fence), not at the 120 s safety timeout. (The
      // upper bound leaves room for a loaded machine's late timers; on an idle one it took 900-910 ms.)
      expect(took).toBeGreaterThanOrEqual(850);
      expect(took).toBeLessThan(3000);
      expect(renewals).toBeGreaterThan(1);
      const row = (await store.get(outboxId))!;
      expect(row).toMatchObject({ state: 'pending', attempts: 1 });
      expect(row.lastError).toContain('Datadog create: no answer within');
    });

    it('aborted at the lease end even when the wall clock is set back meanwhile (timed on the monotonic clock)', async () => {
      // The lease end and the call deadline were wall-clock times: the clock set back an hour while a create hung made
      // this process believe its lease lasted an hour longer (PostgreSQL's lease, on the database's clock, had
      // expired: another replica claimed the row and created the incident too) and the safety timeout an hour later.
      const port = new InMemoryIncidentsPort().failNext('create', { kind: 'hang' });
      const { store, worker, outboxId } = await oneRow(port, { INCIDENTS_RETRY_BASE_MS: '10' });
      const renew = store.renewLease.bind(store);
      let renewals = 0;
      store.renewLease = (...args) => (++renewals === 1 ? renew(...args) : Promise.reject(new Error('store down')));
      const create = port.create.bind(port);
      const realNow = Date.now.bind(Date);
      port.create = (...args: Parameters<typeof port.create>) => {
        jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_600_000);
        return create(...args);
      };
      let guard: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((r) => (guard = setTimeout(() => r('hung'), 20_000)));
      try {
        expect(await Promise.race([worker.deliverDue().then(() => 'done' as const), hung])).toBe('done');
      } finally {
        clearTimeout(guard);
        jest.restoreAllMocks();
      }
      const row = (await store.get(outboxId))!;
      expect(row).toMatchObject({ state: 'pending', attempts: 1 });
      expect(row.lastError).toContain('Datadog create: no answer within');
    }, 30_000);

    it('kept going past the lease while the heartbeat renews it (a slow Datadog)', async () => {
      const port = new InMemoryIncidentsPort();
      const { store, worker, outboxId } = await oneRow(port);
      const create = port.create.bind(port);
      port.create = async (request: IncidentRequest) => {
        await new Promise((r) => setTimeout(r, 1300));
        return create(request);
      };
      await worker.deliverDue();
      expect(await store.get(outboxId)).toMatchObject({ state: 'delivered' });
      expect(port.incidents).toHaveLength(1);
    });
  });

  it('a call that never answers is given up after the safety timeout and retried', async () => {
    const port = new InMemoryIncidentsPort().failNext('findByKey', { kind: 'hang' });
    const { store, worker, outboxId } = await oneRow(port, { INCIDENTS_RETRY_BASE_MS: '10' }, T0);
    worker.callTimeoutMs = 300;
    const started = Date.now();
    await worker.deliverDue(T0);
    expect(Date.now() - started).toBeLessThan(10_000); // a hang guard: without the timeout it never returns
    const row = (await store.get(outboxId))!;
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    expect(row.lastError).toContain('no answer within');
  });

  it('shutdown gives back a delivery Datadog still holds after its wait, before the store closes', async () => {
    // A Datadog that accepts and never answers. Before, the delivery ran on past the wait: the row stayed claimed
    // (the next process waited INCIDENTS_LEASE_MS for it), its retry met a closed store ("incident outbox
    // unavailable ... polling on" at the stop) and its request held the process until the forced exit.
    const port = new InMemoryIncidentsPort().failNext('findByKey', { kind: 'hang' });
    const { store, worker, record } = await setup(port, Date.now() - 1000);
    worker.shutdownWaitMs = 50;
    const { outboxId } = await record('m1', 0);
    const poll = worker.deliverDue();
    for (let i = 0; i < 400 && (await store.get(outboxId))!.state !== 'delivering'; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(await store.get(outboxId)).toMatchObject({ state: 'delivering' });
    await worker.beforeApplicationShutdown();
    // Where IncidentsModule closes the store: the row is back, unclaimed, no attempt counted, due now.
    expect(await store.get(outboxId)).toMatchObject({ state: 'pending', attempts: 0, claimedBy: null });
    await poll;
  });

  it('settled() resolves once the row was tried; shutdown gives back rows it had not started', async () => {
    // On the real clock: settled() kicks a poll that reads it.
    const { store, port, worker, record } = await setup(undefined, Date.now() - 1000);
    const a = await record('m1', 0);
    await worker.settled(a.outboxId, 2000);
    expect((await store.get(a.outboxId))!.state).toBe('delivered');

    port.latencyMs = 100;
    const rows = [await record('m2', 0), await record('m3', 0), await record('m4', 0)];
    const poll = worker.deliverDue();
    await new Promise((r) => setTimeout(r, 20));
    await worker.beforeApplicationShutdown();
    await poll;
    const states = await Promise.all(rows.map(async (r) => (await store.get(r.outboxId))!));
    // The delivery under way finished; the others went back to pending, untried.
    expect(states[0]).toMatchObject({ state: 'delivered' });
    expect(states.slice(1).map((s) => [s.state, s.attempts, s.claimedBy])).toEqual([
      ['pending', 0, null],
      ['pending', 0, null],
    ]);
  });
});
