import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BasicTextRedactor, type DomainError } from '@app/common';
import { testConfig } from '../../../test/support/app-config';
import { IncidentContentBuilder } from './content/incident-content';
import type { DatadogWebhookDto } from './dto/datadog-webhook.dto';
import { IncidentsService } from './incidents.service';
import { SqliteIncidentOutbox } from './outbox/sqlite-incident-outbox';
import { RunbookCatalog } from './runbooks/runbook-catalog';

/**
 * `POST /incidents/webhook` as Datadog's monitor notifications drive it, on the real SQLite outbox, content builder
 * and runbooks: the worker is left out (nothing is delivered), so what is checked is what the outbox records.
 */
const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'incidents-webhook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let store: SqliteIncidentOutbox;
let service: IncidentsService;
let clock = Date.UTC(2030, 0, 1);

beforeEach(async () => {
  store = new SqliteIncidentOutbox(join(dir, `incidents-${Math.random().toString(36).slice(2)}.sqlite`));
  await store.init();
  const config = testConfig({ DD_SERVICE: 'llm-cp', DD_ENV: 'test' });
  const worker = { kick: () => undefined, settled: () => Promise.resolve() };
  const metrics = { increment: () => undefined };
  service = new IncidentsService(
    store,
    worker as never,
    new IncidentContentBuilder(config, new BasicTextRedactor()),
    new RunbookCatalog(resolve(__dirname, '../../../runbooks')),
    { name: 'unconfigured' } as never,
    config,
    metrics as never,
  );
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await store.close();
});

/** A notification as the payload of docs/incidents.md carries it, for the circuit-open monitor. */
function notification(transition: string, scope: string, extra: Partial<DatadogWebhookDto> = {}): DatadogWebhookDto {
  return {
    id: String(Math.floor(Math.random() * 1e15)),
    alert_id: '221164084',
    title: `[P2] [${transition} on {${scope}}] LLM (llm-cp, test): circuit open for a model`,
    transition,
    priority: 'P2',
    scope,
    message: '%%%\nThe circuit breaker is open.\n%%%',
    tags: `env:test,monitor,runbook:llm-circuit-open,service:llm-cp,severity:sev-2,${scope}`,
    link: 'http://127.0.0.1/event/event?id=1', // $LINK is never read (incident links come from DATADOG_APP_URL)
    date: String(clock),
    ...extra,
  };
}

const incidentsOpened = async (): Promise<number> =>
  (await store.list({ limit: 200 })).filter((e) => e.kind === 'create').length;

describe('POST /incidents/webhook, driven as Datadog sends it', () => {
  it('a Renotify or Re-Triggered hours after the trigger updates the open incident: no second incident', async () => {
    // The monitors under datadog/ re-notify every 60 to 1440 minutes, past the 1 h dedupe window: each re-notification
    // opened another incident for the same firing alert and left the previous one active in Datadog.
    const opened = await service.webhook(notification('Triggered', 'provider:openai,model:gpt-4o'));
    expect(opened.action).toBe('opened');
    clock += 2 * HOUR;
    expect((await service.webhook(notification('Renotify', 'provider:openai,model:gpt-4o'))).action).toBe('updated');
    clock += 4 * HOUR;
    expect((await service.webhook(notification('Re-Triggered', 'provider:openai,model:gpt-4o'))).action).toBe(
      'updated',
    );
    clock += 24 * HOUR;
    expect((await service.webhook(notification('Warn', 'provider:openai,model:gpt-4o'))).action).toBe('updated');
    expect(await incidentsOpened()).toBe(1);
    const resolved = await service.webhook(notification('Recovered', 'provider:openai,model:gpt-4o'));
    expect(resolved).toMatchObject({ action: 'resolved', incident: { outbox_id: expect.any(String) } });
    expect((await store.list({ limit: 200 })).every((e) => e.incidentState === 'resolved')).toBe(true);
  });

  it('a flapping monitor (trigger, recover, trigger within INCIDENTS_REOPEN_WINDOW_MS) reopens its incident: one page', async () => {
    // Each firing after a recovery opened a new incident, paging the on-call again every flap.
    const scope = 'provider:openai,model:flappy';
    expect((await service.webhook(notification('Triggered', scope))).action).toBe('opened');
    for (const firing of [2, 3]) {
      clock += 5 * 60_000;
      expect((await service.webhook(notification('Recovered', scope))).action).toBe('resolved');
      clock += 5 * 60_000;
      expect(await service.webhook(notification('Triggered', scope))).toMatchObject({
        action: 'reopened',
        firings: firing,
        incident: { deduplicated: true, status: 'pending' },
      });
    }
    expect(await incidentsOpened()).toBe(1);
    // Recovered for longer than the window (30 min by default): the next firing is a new incident.
    clock += 60_000;
    await service.webhook(notification('Recovered', scope));
    clock += 31 * 60_000;
    expect((await service.webhook(notification('Triggered', scope))).action).toBe('opened');
    expect(await incidentsOpened()).toBe(2);
  });

  it('a Renotify with no incident open opens one (its Triggered was missed)', async () => {
    expect((await service.webhook(notification('Renotify', 'provider:openai,model:gpt-4o'))).action).toBe('opened');
  });

  it('a Recovered delivered before its Triggered: the late Triggered opens nothing', async () => {
    // Datadog does not promise the order of its webhooks (a retried one comes late): the Recovered was ignored (none
    // open), then the Triggered opened an incident that stayed open for good.
    const triggeredAt = clock;
    clock += 5 * 60_000;
    const recovered = await service.webhook(notification('Recovered', 'model:a', { date: String(clock) }));
    expect(recovered.action).toBe('ignored');
    clock += 1000;
    const late = await service.webhook(notification('Triggered', 'model:a', { date: String(triggeredAt) }));
    expect(late).toMatchObject({ action: 'ignored', reason: expect.stringContaining('out of order') });
    expect(await incidentsOpened()).toBe(0);
    // The next real trigger (a later $DATE) opens one.
    clock += 60_000;
    expect((await service.webhook(notification('Triggered', 'model:a', { date: String(clock) }))).action).toBe(
      'opened',
    );
  });

  it('a Recovered older than the alert taken after it does not resolve the incident', async () => {
    const t1 = clock;
    await service.webhook(notification('Triggered', 'model:b', { date: String(t1) }));
    clock += 10 * 60_000;
    const t3 = clock;
    // The trigger of the next cycle comes before the recovery of the first (delayed by a retry).
    expect((await service.webhook(notification('Triggered', 'model:b', { date: String(t3) }))).action).toBe('updated');
    const stale = await service.webhook(notification('Recovered', 'model:b', { date: String(t1 + 60_000) }));
    expect(stale.action).toBe('ignored');
    expect((await store.list({ limit: 200 })).every((e) => e.incidentState === 'open')).toBe(true);
    clock += 60_000;
    expect((await service.webhook(notification('Recovered', 'model:b', { date: String(clock) }))).action).toBe(
      'resolved',
    );
  });

  it('a retried webhook (same $ID) is taken once', async () => {
    const first = notification('Triggered', 'model:c');
    expect((await service.webhook(first)).action).toBe('opened');
    expect(await service.webhook(first)).toMatchObject({ action: 'ignored', reason: expect.stringContaining('$ID') });
    const recovery = notification('Recovered', 'model:c');
    expect((await service.webhook(recovery)).action).toBe('resolved');
    expect((await service.webhook(recovery)).action).toBe('ignored');
    expect((await store.list({ limit: 200 })).map((e) => e.kind)).toEqual(['update', 'create']);
  });

  it('a Recovered whose $DATE is far ahead (microseconds) does not silence the later alerts of its monitor', async () => {
    // Taken as a time, 1000 times too late, it made every later Triggered "older than the newest recovery": ignored.
    expect((await service.webhook(notification('Triggered', 'model:e'))).action).toBe('opened');
    clock += 60_000;
    const micro = await service.webhook(notification('Recovered', 'model:e', { date: `${clock}000` }));
    expect(micro.action).toBe('resolved');
    clock += 60_000;
    // Taken (within INCIDENTS_REOPEN_WINDOW_MS of the recovery: the incident is reopened), not ignored.
    expect((await service.webhook(notification('Triggered', 'model:e'))).action).toBe('reopened');
    expect(await incidentsOpened()).toBe(1);
  });

  it('without $ID or $DATE nothing is judged a repeat or out of order', async () => {
    const bare = { id: undefined, date: undefined };
    expect((await service.webhook(notification('Recovered', 'model:e', bare))).action).toBe('ignored');
    expect((await service.webhook(notification('Triggered', 'model:e', bare))).action).toBe('opened');
    expect((await service.webhook(notification('Triggered', 'model:e', bare))).action).toBe('updated');
  });
});

describe('POST /incidents/webhook under a storm: the outbox backlog is bounded', () => {
  it('past INCIDENTS_BACKLOG_MAX rows not delivered, refuses with 503 and Retry-After, keeping every row taken', async () => {
    // Nothing bounded the backlog: 3,000 webhooks with Datadog unconfigured were all taken (3,000 rows waiting, the
    // process grown from 217 to 380 MB), and a storm during a long outage grew the outbox without end.
    const config = testConfig({ DD_SERVICE: 'llm-cp', DD_ENV: 'test', INCIDENTS_BACKLOG_MAX: '3' });
    const counted: string[] = [];
    const capped = new IncidentsService(
      store,
      { kick: () => undefined, settled: () => Promise.resolve() } as never,
      new IncidentContentBuilder(config, new BasicTextRedactor()),
      new RunbookCatalog(resolve(__dirname, '../../../runbooks')),
      { name: 'unconfigured' } as never,
      config,
      { increment: (name: string, _n: number, tags: string[]) => counted.push(`${name} ${tags.join(',')}`) } as never,
    );
    for (const model of ['a', 'b', 'c']) {
      expect((await capped.webhook(notification('Triggered', `model:${model}`))).action).toBe('opened');
    }
    for (const transition of ['Triggered', 'Recovered']) {
      const refused = await capped.webhook(notification(transition, 'model:a')).then(
        () => undefined,
        (e: unknown) => e as DomainError,
      );
      expect(refused).toMatchObject({
        status: 503,
        code: 'INCIDENTS_BACKLOG_FULL',
        headers: { 'retry-after': '60' },
        extensions: { backlog: 3, backlog_max: 3 },
      });
    }
    expect(counted.filter((c) => c.startsWith('incidents.backlog.refused source:webhook'))).toHaveLength(2);
    const rows = await store.list({ limit: 200 });
    expect(rows).toHaveLength(3);
    expect(rows.every((e) => e.incidentState === 'open')).toBe(true);
    // The API's alerts too (the client retries; with an Idempotency-Key the retry is safe).
    await expect(capped.create({ monitor_name: 'm', alert_message: 'x', runbook: '# r' })).rejects.toMatchObject({
      status: 503,
      code: 'INCIDENTS_BACKLOG_FULL',
    });
    // An ignored transition is answered as before.
    expect((await capped.webhook(notification('Null', 'model:a'))).action).toBe('ignored');
  });
});
