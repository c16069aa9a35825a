import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BasicTextRedactor } from '@app/common';
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
    link: 'https://app.datadoghq.com/event/event?id=1',
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

  it('a Renotify with no incident open opens one (its Triggered was missed)', async () => {
    expect((await service.webhook(notification('Renotify', 'provider:openai,model:gpt-4o'))).action).toBe('opened');
  });
});
