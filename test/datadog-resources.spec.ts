import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  applyResources,
  createDatadogResources,
  loadResourceFiles,
  renderJsonTemplate,
  resourceContextOf,
  type PlanEntry,
  type ResourceContext,
  type ResourceFile,
} from '@app/datadog';
import type { LlmErrorKind } from '@app/llm';
import { checkWithSdk } from '../libs/datadog/src/resources/adapters/sdk-models';
import { loadDatadogSdk } from '../libs/datadog/src/adapters/sdk-configuration';
import { formatPlanLine } from '../scripts/datadog-apply';
import { testConfig } from './support/app-config';
import { FakeDatadogApi } from './support/fake-datadog-api';
import { FakeDatadogResources } from './support/fake-datadog-resources';

const root = resolve(__dirname, '..');
const datadogDir = join(root, 'datadog');
const USERS = 'aaaaaaaa-0000-4000-8000-000000000001,aaaaaaaa-0000-4000-8000-000000000002';
const KEYS = { DD_API_KEY: 'fake-api-key-123', DD_APP_KEY: 'fake-app-key-123' };
const ENV = {
  DD_SERVICE: 'llm-cp',
  DD_ENV: 'staging',
  DATADOG_NOTIFY_HANDLES: '@slack-llm-oncall,@pagerduty-llm',
  DATADOG_RUNBOOK_BASE_URL: 'https://127.0.0.1:8443/runbooks',
  PUBLIC_BASE_URL: 'https://127.0.0.1:8443',
  DATADOG_ONCALL_USER_IDS: USERS,
};

type Json = Record<string, unknown>;
const { files, unreadable } = loadResourceFiles(datadogDir);
const monitors = files.filter((f) => f.kind === 'monitor');
const raw = (file: ResourceFile): Json => JSON.parse(file.text) as Json;

/** Renders a file for the offline checks, references replaced by ids of the right form. */
function render(file: ResourceFile, context: ResourceContext): unknown {
  return renderJsonTemplate(file.text, (name, arg) => {
    switch (name) {
      case 'service':
        return context.service;
      case 'env':
        return context.env;
      case 'notify':
        return context.notifyHandles.join(' ');
      case 'runbook_url':
        return `${context.runbookBaseUrl}/${arg}.md`;
      case 'public_base_url':
        return context.publicBaseUrl;
      case 'oncall_user':
        return context.oncallUserIds[Number(arg) - 1];
      case 'monitor_id':
        return '1234567';
      case 'slo_id':
        return 'abcdef0123456789abcdef0123456789';
      case 'schedule_id':
      case 'incident_type_id':
        return '00000000-0000-4000-8000-000000000001';
      case 'title':
        return `LLM ${file.key}`;
      case 'context':
        return 'context';
      default:
        return undefined;
    }
  });
}

describe('Datadog resources as code: the files', () => {
  const context = resourceContextOf(testConfig(ENV));

  it('are all readable, one API payload per file, and cover every kind the issue asks for', () => {
    expect(unreadable).toEqual([]);
    const kinds = new Set(files.map((f) => f.kind));
    for (const kind of ['monitor', 'slo', 'dashboard', 'logs-pipeline', 'workflow', 'on-call-schedule'] as const) {
      expect(kinds).toContain(kind);
    }
    for (const file of files) expect(Object.keys(raw(file))).not.toContain('monitors'); // no wrapper objects
    expect(existsSync(join(datadogDir, 'monitors/llm-core.json'))).toBe(false);

    const queries = monitors.map((m) => ({ type: raw(m).type, query: String(raw(m).query) }));
    const threshold = queries.filter((q) => q.type === 'query alert' && !/anomalies\(|forecast\(/.test(q.query));
    expect(threshold.length).toBeGreaterThanOrEqual(5);
    expect(queries.filter((q) => q.query.includes('anomalies(')).length).toBeGreaterThanOrEqual(3);
    expect(queries.filter((q) => /forecast\(sum:llm\.cost\.usd/.test(q.query))).toHaveLength(1);
    expect(queries.filter((q) => q.type === 'composite')).toHaveLength(1);
    // Multi-window burn rates (a long and a short window each), on both SLOs.
    const burns = queries.filter((q) => q.type === 'slo alert');
    for (const slo of ['llm-latency', 'llm-availability']) {
      const onSlo = burns.filter((b) => b.query.includes(`[[slo_id:${slo}]]`));
      expect(onSlo.length).toBeGreaterThanOrEqual(2);
      for (const b of onSlo) expect(b.query).toMatch(/\.long_window\("\w+"\)\.short_window\("\w+"\) > [\d.]+$/);
    }
  });

  it('scope every metric query by [[service]] and [[env]] (dashboards through their template variables)', () => {
    const unscoped: string[] = [];
    for (const file of files) {
      for (const [, scope] of file.text.matchAll(/\b(?:avg|sum|min|max|count|p\d+):[a-z][\w.]*\s*\{([^}]*)\}/g)) {
        const scoped =
          file.kind === 'dashboard'
            ? scope!.includes('$service') && scope!.includes('$env')
            : scope!.includes('service:[[service]]') && scope!.includes('env:[[env]]');
        if (!scoped) unscoped.push(`${file.path}: {${scope}}`);
      }
    }
    expect(unscoped).toEqual([]);
    const dashboard = raw(files.find((f) => f.kind === 'dashboard')!);
    expect(dashboard.template_variables).toEqual([
      { name: 'service', prefix: 'service', defaults: ['[[service]]'] },
      { name: 'env', prefix: 'env', defaults: ['[[env]]'] },
    ]);
  });

  it('a ratio monitor resolves when its calls stop (0/0 is no data), and no monitor mixes both no-data settings', () => {
    // A ratio of counts has no value when no call is made (0/0): with the legacy `notify_no_data: false` the monitor
    // kept its last state, so an error-ratio alert raised before the traffic stopped stayed in Alert (and its
    // incident open, re-notified every renotify_interval) for as long as nothing was called. Datadog's metric
    // monitors take `on_missing_data` instead ("resolve": if data is missing, show OK), never with `notify_no_data`.
    const ratios = monitors.map(raw).filter((m) => m.type === 'query alert' && / \/ sum:/.test(String(m.query)));
    expect(ratios.map((m) => String(m.name))).toEqual(
      expect.arrayContaining([expect.stringContaining('error ratio'), expect.stringContaining('safety blocks')]),
    );
    for (const monitor of ratios) {
      const options = monitor.options as { on_missing_data?: string; notify_no_data?: boolean };
      expect({ name: monitor.name, on_missing_data: options.on_missing_data }).toEqual({
        name: monitor.name,
        on_missing_data: 'resolve',
      });
    }
    const both = monitors.filter((f) => {
      const options = raw(f).options as Json;
      return 'on_missing_data' in options && 'notify_no_data' in options;
    });
    expect(both.map((f) => f.path)).toEqual([]);
  });

  it("docs/incidents.md states the range of the monitors' renotify_interval (re-notifications update the incident)", () => {
    const intervals = monitors
      .map((f) => (raw(f).options as { renotify_interval?: number }).renotify_interval)
      .filter((v): v is number => typeof v === 'number');
    const doc = readFileSync(join(root, 'docs/incidents.md'), 'utf8');
    const stated = /`renotify_interval`, (\d+) to (\d+) min here/.exec(doc);
    expect(stated).not.toBeNull();
    expect([Number(stated![1]), Number(stated![2])]).toEqual([Math.min(...intervals), Math.max(...intervals)]);
  });

  it('every monitor has its runbook (tag runbook:<key>, a link, What failed / Why / Next) and a notification handle', () => {
    const problems: string[] = [];
    for (const file of monitors) {
      const monitor = raw(file);
      const tags = monitor.tags as string[];
      const message = String(monitor.message);
      for (const tag of [`runbook:${file.key}`, 'service:[[service]]', 'env:[[env]]', 'managed-by:llm-control-plane']) {
        if (!tags.includes(tag)) problems.push(`${file.path}: no tag ${tag}`);
      }
      if (!message.includes(`[[runbook_url:${file.key}]]`)) problems.push(`${file.path}: no runbook link`);
      if (!message.includes('[[notify]]')) problems.push(`${file.path}: no [[notify]]`);
      if (!String(monitor.name).includes('[[env]]')) problems.push(`${file.path}: the name does not hold [[env]]`);
      const runbook = join(root, 'runbooks', `${file.key}.md`);
      if (!existsSync(runbook)) {
        problems.push(`runbooks/${file.key}.md is missing`);
        continue;
      }
      const text = readFileSync(runbook, 'utf8');
      for (const section of ['## What failed', '## Why', '## Next']) {
        if (!text.includes(section)) problems.push(`runbooks/${file.key}.md: no "${section}"`);
      }
      if (!text.includes('LLM reliability')) problems.push(`runbooks/${file.key}.md: does not name the dashboard`);
      if (!/`(llm\.call|llm\.generate|web\.request)`/.test(text)) problems.push(`runbooks/${file.key}.md: no span`);
      if (/llm\.gemini\.generate/.test(text)) problems.push(`runbooks/${file.key}.md: a span that does not exist`);
      // The runbook names a metric its monitor queries (for composites and burn rates: the SLO or monitors').
      const metrics = [...file.text.matchAll(/:([a-z][a-z0-9_]*\.[a-z0-9_.]+)\s*\{/g)].map((m) => m[1]!);
      const named =
        metrics.length === 0 ? /`llm\.[a-z_.]+`/.test(text) : metrics.some((m) => text.includes(`\`${m}\``));
      if (!named) problems.push(`runbooks/${file.key}.md: names none of ${metrics.join(', ') || 'the metrics'}`);
    }
    expect(problems).toEqual([]);
  });

  it('the error-rate runbook and docs/telemetry.md explain every error_type the alert can be made of', () => {
    // Every error_type llm.error.count carries (a new LlmErrorKind fails to compile here until it is listed): the
    // refusals that reach no model included, which are most of the errors during an open circuit or a quota hold.
    const types: Record<Exclude<LlmErrorKind, 'aborted'> | 'circuit_open' | 'no_capacity', true> = {
      rate_limit: true,
      timeout: true,
      server: true,
      connection: true,
      auth: true,
      quota_exhausted: true,
      not_found: true,
      bad_request: true,
      invalid_response: true,
      empty_response: true,
      circuit_open: true,
      no_capacity: true,
    };
    const runbook = readFileSync(join(root, 'runbooks/llm-error-rate.md'), 'utf8');
    const why = runbook.slice(runbook.indexOf('## Why'), runbook.indexOf('## Next'));
    const telemetry = readFileSync(join(root, 'docs/telemetry.md'), 'utf8');
    const listed = /`error_type` values of `llm\.error\.count`:([^.]*)\./.exec(telemetry)?.[1] ?? '';
    const missing = Object.keys(types).flatMap((type) => [
      ...(why.includes(`\`${type}\``) ? [] : [`runbooks/llm-error-rate.md: ${type}`]),
      ...(listed.includes(`\`${type}\``) ? [] : [`docs/telemetry.md: ${type}`]),
    ]);
    expect(missing).toEqual([]);
    // Each refusal names where to look next: the shed resource, and the runbook of its cause.
    expect(why).toMatch(
      /`no_capacity`.*`llm\.shed\.count` by `resource`.*`provider_rate_limit`.*`llm-rate-limited\.md`/,
    );
  });

  it('the rate-limit monitor reaches its critical threshold when the provider refuses every call, and stays there', () => {
    // A 429 holds its model for the provider's Retry-After (at most LLM_RATE_LIMIT_MAX_HOLD_MS), then one probe is let
    // through (test/rate-limit.e2e-spec.ts: "about one probe per hold"): a provider refusing every call for the
    // monitor's whole window is seen window / longest hold times after the first wave, whatever the traffic.
    const monitor = raw(monitors.find((m) => m.key === 'llm-rate-limited')!);
    const query = String(monitor.query);
    expect(query).toMatch(
      /^sum\(last_\d+m\):sum:llm\.rate_limit\.count\{[^}]*\} by \{provider,model\}\.as_count\(\) > /,
    );
    const windowMs = Number(/^sum\(last_(\d+)m\)/.exec(query)![1]) * 60_000;
    const seen = Math.floor(windowMs / testConfig().llm.rateLimit.maxHoldMs);
    const { critical, warning } = (monitor.options as { thresholds: { critical: number; warning: number } }).thresholds;
    expect(Number(/> ([\d.]+)$/.exec(query)![1])).toBe(critical);
    // Crossed with a hold or two to spare (a probe's own latency stretches each cycle).
    expect(seen).toBeGreaterThan(critical + 2);
    expect(warning).toBeLessThan(critical);
    // The recovery message states the threshold a recovery means (below the warning).
    expect(String(monitor.message)).toContain(`back under ${warning + 1} in`);
    const runbook = readFileSync(join(root, 'runbooks/llm-rate-limited.md'), 'utf8');
    expect(runbook).toContain(`over 10 minutes above ${critical}, warning at ${warning}`);
  });

  it('the latency monitors read answered calls only, as the latency SLO and the health score do', () => {
    // A call refused at once (an open circuit, a 429 hold: about 0.3 ms) is a latency sample too: with every query
    // over all statuses, an outage that refuses most calls fast pulled the p95 down, and the monitor stayed OK while
    // the calls still answered were slow (found driving a hanging upstream).
    const latency = monitors.map(raw).filter((m) => String(m.query).includes('llm.request.latency_ms{'));
    expect(latency.length).toBeGreaterThanOrEqual(2);
    for (const monitor of latency)
      expect(String(monitor.query)).toMatch(/llm\.request\.latency_ms\{[^}]*\bstatus:ok\b[^}]*\}/);
  });

  it('the latency graphs of the dashboard and the notebooks read answered calls only, as the monitors do', () => {
    // The same fast refusals made the dashboard's p95 fall during an outage (the graph read "faster" while the
    // monitor, reading answered calls, alerted): every percentile of llm.request.latency_ms anywhere is of status:ok.
    const graphs = files
      .filter((f) => f.kind === 'dashboard' || f.kind === 'notebook')
      .flatMap((f) => [...f.text.matchAll(/p\d+:llm\.request\.latency_ms\{[^}]*\}/g)].map((m) => `${f.path}: ${m[0]}`));
    expect(graphs.length).toBeGreaterThanOrEqual(8);
    expect(graphs.filter((g) => !/\bstatus:ok\b/.test(g))).toEqual([]);
  });

  it('a failing usage ledger has a monitor that its failures reach', () => {
    // The ledger store failing blinds the health score (no_data, no gauge), the insights, the spend and the budget,
    // while every LLM metric looks healthy: only ledger.flush.errors says so.
    const monitor = monitors.map(raw).find((m) => String(m.query).includes(':ledger.flush.errors{'));
    expect(monitor).toBeDefined();
    const query = String(monitor!.query);
    expect(query).toMatch(/^sum\(last_\d+m\):sum:ledger\.flush\.errors\{[^}]*\}\.as_count\(\) > \d+$/);
    const windowMs = Number(/^sum\(last_(\d+)m\)/.exec(query)![1]) * 60_000;
    // A failed flush is retried at the next tick; on PostgreSQL it fails after at most twice DATABASE_TIMEOUT_MS.
    const config = testConfig();
    const slowestAttemptMs = config.ledger.flushMs + 2 * config.ledger.databaseTimeoutMs;
    const { critical } = (monitor!.options as { thresholds: { critical: number } }).thresholds;
    expect(Math.floor(windowMs / slowestAttemptMs)).toBeGreaterThan(critical * 2);
  });

  it('composite, burn-rate and dashboard references name files that exist', () => {
    const keys = new Set(files.map((f) => `${f.kind}/${f.key}`));
    const dangling = files.flatMap((f) =>
      f.references.filter((r) => !keys.has(`${r.kind}/${r.key}`)).map((r) => `${f.path} -> ${r.kind}/${r.key}`),
    );
    expect(dangling).toEqual([]);
    const composite = monitors.find((m) => raw(m).type === 'composite')!;
    expect(composite.references.map((r) => r.kind)).toEqual(['monitor', 'monitor', 'monitor']);
    const dashboard = files.find((f) => f.kind === 'dashboard')!;
    expect(
      dashboard.references
        .filter((r) => r.kind === 'slo')
        .map((r) => r.key)
        .sort(),
    ).toEqual(['llm-availability', 'llm-latency']);
  });

  it("deserialise with the SDK's own models (ObjectSerializer), without unknown fields or unparsed values", async () => {
    const sdk = await loadDatadogSdk();
    const problems = files.flatMap((f) => checkWithSdk(sdk, f.kind, render(f, context)).map((p) => `${f.path}: ${p}`));
    expect(problems).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it('the SDK check fails on an unknown field, an unknown enum value and a missing required field', async () => {
    const sdk = await loadDatadogSdk();
    const monitor = render(monitors[0]!, context) as Json;
    expect(checkWithSdk(sdk, 'monitor', { ...monitor, incident_config: { sev: 1 } })).toEqual([
      '(root): unknown fields incident_config',
    ]);
    expect(checkWithSdk(sdk, 'monitor', { ...monitor, options: { ...(monitor.options as Json), bogus: 1 } })).toEqual([
      'options: unknown fields bogus',
    ]);
    expect(checkWithSdk(sdk, 'monitor', { ...monitor, type: 'forecast alert' })).toEqual([
      'type: not a value the SDK knows',
    ]);
    const { query: _query, ...noQuery } = monitor;
    expect(checkWithSdk(sdk, 'monitor', noQuery)[0]).toMatch(/missing required property 'query'/);
  });
});

describe('npm run datadog:apply against a stand-in for the Datadog API', () => {
  let api: FakeDatadogApi;
  let fake: FakeDatadogResources;
  let work: string | undefined;

  beforeEach(async () => {
    api = await new FakeDatadogApi().start();
    fake = new FakeDatadogResources(api);
  });
  afterEach(async () => {
    await api.close();
    if (work) rmSync(work, { recursive: true, force: true });
    work = undefined;
  });

  const configFor = (extra: Record<string, string> = {}) =>
    testConfig({ ...ENV, ...KEYS, DATADOG_API_URL: api.url, ...extra });

  async function apply(
    dryRun: boolean,
    from = files,
    config = configFor(),
    callTimeoutMs?: number,
  ): Promise<PlanEntry[]> {
    return applyResources(from, resourceContextOf(config), {
      dryRun,
      port: createDatadogResources(config, { callTimeoutMs }),
    });
  }

  const entryOf = (entries: PlanEntry[], path: string): PlanEntry => entries.find((e) => e.path === path)!;

  it('creates everything in dependency order and resolves the references to the created ids', async () => {
    const entries = await apply(false);
    expect(entries.filter((e) => e.action !== 'create')).toEqual([]);
    expect(entries).toHaveLength(files.length);

    const idOf = (key: string): string => entries.find((e) => e.key === key)!.id!;
    const byName = (name: string): Json => [...fake.monitors.values()].find((m) => String(m.name).includes(name))!;
    const composite = fake.monitors.get(idOf('llm-critical-degradation'))!;
    expect(composite.query).toBe(
      `${idOf('llm-health-score')} && (${idOf('llm-error-rate')} || ${idOf('llm-latency-p95')})`,
    );
    const fastBurn = fake.monitors.get(idOf('slo-availability-fast-burn'))!;
    expect(fastBurn.query).toBe(
      `burn_rate("${idOf('llm-availability')}").over("30d").long_window("1h").short_window("5m") > 14.4`,
    );
    expect(fake.slos.has(idOf('llm-availability'))).toBe(true);
    // Placeholders are filled from config: service, env, handles, runbook link.
    const errors = byName('error ratio');
    expect(errors.query).toContain('service:llm-cp,env:staging');
    expect(errors.message).toContain('https://127.0.0.1:8443/runbooks/llm-error-rate.md');
    expect(errors.message).toContain('@slack-llm-oncall @pagerduty-llm');
    expect(errors.tags).toEqual(expect.arrayContaining(['env:staging', 'runbook:llm-error-rate']));
    // The dashboard holds the SLO ids; the escalation policy targets the created schedule.
    const dashboard = [...fake.dashboards.values()][0]!;
    expect(JSON.stringify(dashboard)).toContain(`"slo_id":"${idOf('llm-latency')}"`);
    const policy = [...fake.policies.values()][0]!;
    expect(JSON.stringify(policy)).toContain(idOf('llm-primary'));
    const field = [...fake.incidentFields.values()][0]!;
    expect((field.attributes as Json).name).toBe('control_plane_key');
    expect(JSON.stringify(field.relationships)).toContain(fake.incidentTypeId);
    // SLOs come before the monitors and dashboard that use them; plain monitors before the composite.
    const order = fake.writes().map((r) => r.path);
    const first = (p: RegExp): number => order.findIndex((path) => p.test(path));
    expect(first(/^\/api\/v1\/slo$/)).toBeLessThan(first(/^\/api\/v1\/monitor$/));
    expect(first(/^\/api\/v1\/slo$/)).toBeLessThan(first(/^\/api\/v1\/dashboard$/));
    const monitorPosts = fake.writes().filter((r) => r.path === '/api/v1/monitor');
    expect((monitorPosts.at(-1)!.body as Json).type).not.toBe('composite'); // burn rates after it, by key
    const compositeAt = monitorPosts.findIndex((r) => (r.body as Json).type === 'composite');
    const healthAt = monitorPosts.findIndex((r) => String((r.body as Json).name).includes('health score below'));
    expect(healthAt).toBeLessThan(compositeAt);
  });

  it('a second apply finds everything unchanged and sends no write request', async () => {
    await apply(false);
    const writesBefore = fake.writes().length;
    const second = await apply(false);
    expect(second.filter((e) => e.action !== 'unchanged').map((e) => `${e.path}: ${e.action} ${e.detail}`)).toEqual([]);
    expect(fake.writes()).toHaveLength(writesBefore);
  });

  it('finds what is past the first page of a listing (dashboards, incident fields, monitors, SLOs, notebooks): no duplicate on a rerun', async () => {
    await apply(false);
    // The org holds more of each kind than one page, listed before the ones the files made.
    const crowd = (map: Map<string, Json>, n: number, clone: (original: Json, i: number) => [string, Json]): void => {
      const originals = [...map];
      map.clear();
      const model = originals[0]![1];
      for (let i = 0; i < n; i++) map.set(...clone(model, i));
      for (const [id, value] of originals) map.set(id, value);
    };
    crowd(fake.dashboards, 150, (d, i) => {
      const id = `zzz-${String(i).padStart(3, '0')}-zzz`;
      return [id, { ...d, id, title: `Another team's dashboard ${i}` }];
    });
    crowd(fake.incidentFields, 250, (f, i) => {
      const id = `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
      return [id, { ...f, id, attributes: { ...(f.attributes as Json), name: `another_field_${i}` } }];
    });
    // Names that contain a file's name: the API's name filter is a substring match.
    const monitor = [...fake.monitors.values()].find((m) => m.type !== 'composite')!;
    crowd(fake.monitors, 120, (_m, i) => [
      String(900_000 + i),
      { ...monitor, id: 900_000 + i, name: `${String(monitor.name)} copy ${i}` },
    ]);
    const slo = [...fake.slos.values()][0]!;
    crowd(fake.slos, 1_100, (_s, i) => {
      const id = `${i.toString(16)}ffffeeeeddddcccc`;
      return [id, { ...slo, id, name: `${String(slo.name)} copy ${i}` }];
    });
    const notebook = [...fake.notebooks.values()][0]!;
    crowd(fake.notebooks, 120, (_n, i) => {
      const id = String(800_000 + i);
      const attributes = {
        ...(notebook.attributes as Json),
        name: `${String((notebook.attributes as Json).name)} copy ${i}`,
      };
      return [id, { ...notebook, id: 800_000 + i, attributes }];
    });
    const writesBefore = fake.writes().length;

    const second = await apply(false);
    expect(second.filter((e) => e.action !== 'unchanged').map((e) => `${e.path}: ${e.action} ${e.detail}`)).toEqual([]);
    expect(fake.writes()).toHaveLength(writesBefore);
    expect(fake.dashboards.size).toBe(151);
  }, 60_000);

  it('a changed file is one update of that resource, and only that one', async () => {
    await apply(false);
    work = mkdtempSync(join(tmpdir(), 'datadog-apply-'));
    cpSync(datadogDir, work, { recursive: true });
    const path = join(work, 'monitors/llm-error-rate.json');
    const monitor = JSON.parse(readFileSync(path, 'utf8')) as { options: { thresholds: { critical: number } } };
    monitor.options.thresholds.critical = 0.07;
    writeFileSync(path, JSON.stringify(monitor, null, 2));
    const changed = loadResourceFiles(work).files;
    const writesBefore = fake.writes().length;

    const entries = await apply(false, changed);
    const updates = entries.filter((e) => e.action === 'update');
    expect(updates.map((e) => [e.path, e.detail])).toEqual([
      ['datadog/monitors/llm-error-rate.json', 'differs at options.thresholds.critical'],
    ]);
    const writes = fake.writes().slice(writesBefore);
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual([`PUT /api/v1/monitor/${updates[0]!.id}`]);
    expect(((fake.monitors.get(updates[0]!.id!)!.options as Json).thresholds as Json).critical).toBe(0.07);
  });

  it('a dry run reads, writes nothing, and prints one line per file', async () => {
    const entries = await apply(true);
    expect(fake.writes()).toEqual([]);
    expect(api.requests.length).toBeGreaterThan(0); // it looked things up
    expect(entries.map((e) => e.path).sort()).toEqual(files.map((f) => f.path).sort());
    const lines = entries.map(formatPlanLine);
    expect(lines.every((l) => /^(create|update|unchanged|skip|error) /.test(l))).toBe(true);
    const composite = lines.find((l) => l.includes('llm-critical-degradation.json'))!;
    expect(composite).toMatch(/^create .*references pending: monitor_id:llm-health-score/);

    await apply(false);
    const after = await apply(true);
    expect(after.every((e) => e.action === 'unchanged')).toBe(true);
    expect(fake.writes().filter((w) => w.method !== 'POST')).toEqual([]);
  });

  it('without keys: a dry run still plans every file as create; a real apply is refused naming the keys', async () => {
    const config = testConfig({ ...ENV, DATADOG_API_URL: api.url });
    expect(createDatadogResources(config)).toBeUndefined();
    const entries = await applyResources(files, resourceContextOf(config), { dryRun: true });
    expect(entries.map((e) => e.action)).toEqual(files.map(() => 'create'));
    expect(api.requests).toEqual([]);
    await expect(applyResources(files, resourceContextOf(config), { dryRun: false })).rejects.toThrow(
      /DD_API_KEY and DD_APP_KEY/,
    );
  });

  it('skips what a missing setting blocks (and what depends on it), and says which setting', async () => {
    const config = configFor({ PUBLIC_BASE_URL: '', DATADOG_ONCALL_USER_IDS: '' });
    const entries = await apply(false, files, config);
    const skipped = entries.filter((e) => e.action === 'skip').map((e) => [e.kind, e.detail]);
    expect(skipped).toEqual(
      expect.arrayContaining([
        ['synthetic', expect.stringMatching(/PUBLIC_BASE_URL/)],
        ['on-call-schedule', expect.stringMatching(/DATADOG_ONCALL_USER_IDS/)],
        ['on-call-escalation-policy', expect.stringMatching(/needs on-call-schedule\/llm-primary/)],
      ]),
    );
    expect(entries.filter((e) => e.action === 'error')).toEqual([]);
  });

  it('an API error fails that file and what depends on it, not the others', async () => {
    fake.refuse('POST', '/api/v1/slo', { status: 400, body: { errors: ['bad numerator'] } });
    const entries = await apply(false);
    const slo = entryOf(entries, 'datadog/slos/llm-latency.json');
    expect(slo.action).toBe('error');
    expect(slo.detail).toMatch(/slo create/);
    expect(slo.detail).not.toContain(KEYS.DD_API_KEY);
    expect(entryOf(entries, 'datadog/monitors/slo-latency-fast-burn.json').action).toBe('skip');
    expect(entryOf(entries, 'datadog/dashboards/llm-reliability.json').action).toBe('skip');
    expect(entryOf(entries, 'datadog/monitors/llm-error-rate.json').action).toBe('create');
    expect(fake.monitors.size).toBeGreaterThan(10);
  });

  it('a create Datadog answered 5xx after making it is not sent again: the file fails, the rerun finds it', async () => {
    const only = files.filter((f) => f.key === 'llm-error-rate' && f.kind === 'monitor');
    fake.failAfterRunning('POST', '/api/v1/monitor', { status: 503, body: { errors: ['Service Unavailable'] } });
    const [first] = await apply(false, only);
    expect(first!.action).toBe('error');
    expect(first!.detail).toBe('Datadog monitor create: HTTP 503: Service Unavailable');
    // One POST: the SDK's own retry of a 5xx would have made a second monitor of the same name.
    expect(fake.writes().map((w) => `${w.method} ${w.path}`)).toEqual(['POST /api/v1/monitor']);
    expect(fake.monitors.size).toBe(1);

    const [rerun] = await apply(false, only);
    expect(rerun!.action).toBe('unchanged');
    expect(fake.monitors.size).toBe(1);
  });

  it('a create refused with 429 is sent again once the rate limit resets', async () => {
    const only = files.filter((f) => f.key === 'llm-error-rate' && f.kind === 'monitor');
    const headers = { 'x-ratelimit-limit': '100', 'x-ratelimit-period': '10', 'x-ratelimit-remaining': '0' };
    fake.refuse(
      'POST',
      '/api/v1/monitor',
      { status: 429, body: { errors: ['Rate limit exceeded'] }, headers: { ...headers, 'x-ratelimit-reset': '0' } },
      1,
    );
    const [entry] = await apply(false, only);
    expect(entry!.action).toBe('create');
    expect(fake.writes().map((w) => `${w.method} ${w.path}`)).toEqual(['POST /api/v1/monitor', 'POST /api/v1/monitor']);
    expect(fake.monitors.size).toBe(1);
  });

  it('a Datadog that does not answer fails each file after the call timeout instead of hanging the apply', async () => {
    const only = files.filter((f) => f.kind === 'slo');
    api.setFault({ mode: 'hang' });
    const entries = await apply(false, only, configFor(), 300);
    expect(entries.map((e) => [e.action, e.detail])).toEqual(
      only.map(() => ['error', 'Datadog slo lookup: no answer in time (the call was aborted)']),
    );
  }, 30_000);

  it('a refused key: one line per file naming the keys to check, never the key', async () => {
    const only = files.filter((f) => f.kind === 'slo');
    api.setFault({ mode: 'status', status: 403 });
    const entries = await apply(false, only);
    for (const entry of entries) {
      expect(entry.action).toBe('error');
      expect(entry.detail).toBe(
        "Datadog slo lookup: HTTP 403: fake Datadog API: injected 403 (check DD_API_KEY, DD_APP_KEY and the application key's permissions for this resource)",
      );
      expect(formatPlanLine(entry)).not.toContain('\n');
      expect(formatPlanLine(entry)).not.toContain(KEYS.DD_API_KEY);
    }
  });
});
