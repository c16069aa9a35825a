import { BasicTextRedactor } from '@app/common';
import { testConfig } from '../../../../test/support/app-config';
import { growthRatio } from '../../../../test/support/growth';
import { CONTENT_LIMITS, IncidentContentBuilder, stripNotificationHandles } from './incident-content';

const config = testConfig({
  DD_SERVICE: 'llm-cp',
  DD_ENV: 'prod',
  DATADOG_APP_URL: 'https://app.datadoghq.eu',
  DATADOG_NOTIFY_HANDLES: '@slack-llm-oncall,@pagerduty-llm',
});
const builder = new IncidentContentBuilder(config, new BasicTextRedactor());
const alert = {
  source: 'api' as const,
  monitorName: 'LLM error ratio',
  group: '',
  message: 'Error ratio 9% — user jane.doe@example.com sent key sk-abcdefghijklmnopqrstuvwx123 ' + 'y'.repeat(200),
  runbookMarkdown: '# LLM error rate\n\n1. Check the provider status.',
  severity: 'SEV-2' as const,
  tags: ['team:llm'],
};

describe('IncidentContentBuilder', () => {
  it('builds the title, severity, customer impact, fields, runbook cell, links and handles', () => {
    const { request, title } = builder.build({ ...alert, monitorId: 1234 }, 'row-1');
    expect(request.idempotencyKey).toBe('cp-row-1');
    expect(title.startsWith('LLM error ratio - Error ratio 9%')).toBe(true);
    expect(title.length).toBeLessThanOrEqual('LLM error ratio - '.length + 100);
    expect(request.title).toBe(title);
    expect(request.severity).toBe('SEV-2');
    expect(request.customerImpacted).toBe(true);
    expect(request.customerImpactScope).toContain('llm-cp (prod)');
    expect(request.fields).toMatchObject({
      service: 'llm-cp',
      env: 'prod',
      monitor: 'LLM error ratio',
      group: '*',
      source: 'api',
    });
    expect(request.runbookMarkdown.startsWith('# LLM error rate\n\n1. Check the provider status.')).toBe(true);
    expect(request.links).toEqual([
      { title: 'Dashboard', url: 'https://app.datadoghq.eu/dashboard/lists?q=LLM%20reliability%20(llm-cp%2C%20prod)' },
      { title: 'Logs', url: 'https://app.datadoghq.eu/logs?query=service%3Allm-cp%20env%3Aprod' },
      { title: 'Traces', url: 'https://app.datadoghq.eu/apm/traces?query=service%3Allm-cp%20env%3Aprod' },
      { title: 'Monitor', url: 'https://app.datadoghq.eu/monitors/1234' },
    ]);
    expect(request.notificationHandles).toEqual(['@slack-llm-oncall', '@pagerduty-llm']);
  });

  it('never lets PII or keys from the alert into the incident', () => {
    const text = JSON.stringify(builder.build(alert, 'row-2').request);
    expect(text).not.toContain('jane.doe@example.com');
    expect(text).not.toContain('sk-abcdefghijklmnopqrstuvwx123');
    expect(text).toContain('[REDACTED:EMAIL]');
  });

  it('SEV-3..5 are not customer impacting; the dashboard id is used when configured', () => {
    const withId = new IncidentContentBuilder(
      testConfig({ DATADOG_DASHBOARD_ID: 'abc-def-ghi' }),
      new BasicTextRedactor(),
    );
    const { request } = withId.build({ ...alert, severity: 'SEV-4' }, 'r');
    expect(request.customerImpacted).toBe(false);
    expect(request.customerImpactScope).toBeUndefined();
    expect(request.links[0]!.url).toMatch(/\/dashboard\/abc-def-ghi$/);
  });

  it('dedupes by monitor id, else by name, and by group', () => {
    expect(builder.identity('A', 7, '').dedupeKey).toBe(builder.identity('B', 7, '').dedupeKey);
    expect(builder.identity('A', undefined, '').dedupeKey).toBe(builder.identity('a', undefined, '').dedupeKey);
    expect(builder.identity('A', undefined, 'env:prod').dedupeKey).not.toBe(
      builder.identity('A', undefined, '').dedupeKey,
    );
  });

  it('keeps groups apart that redaction or the bound make alike, without the original in the key', () => {
    // Both e-mails show as [REDACTED:EMAIL]: keyed on what is shown, they were one incident, and the first group's
    // recovery resolved it while the other still fired.
    const a = builder.identity('M', 7, 'user:jane.doe@example.com');
    const b = builder.identity('M', 7, 'user:john.roe@example.com');
    expect(a.group).toBe(b.group);
    expect(a.group).toBe('user:[REDACTED:EMAIL]');
    expect(a.dedupeKey).not.toBe(b.dedupeKey);
    expect(a.dedupeKey).toBe(builder.identity('M', 7, 'user:jane.doe@example.com').dedupeKey);
    expect(`${a.dedupeKey} ${b.dedupeKey}`).not.toContain('example.com');
    const long = (end: string) => builder.identity('M', 7, `k:${'v'.repeat(600)}${end}`).dedupeKey;
    expect(long('1')).not.toBe(long('2'));
    // By name without an id, the same.
    expect(builder.identity('Disk of a@b.io', undefined, '').dedupeKey).not.toBe(
      builder.identity('Disk of c@d.io', undefined, '').dedupeKey,
    );
    // A value redaction leaves as it is keeps the key it always had (open incidents still match after an upgrade).
    expect(builder.identity('M', 7, 'env:prod').dedupeKey).toBe('id:7|group:env:prod');
  });

  it('names the group in the title: the incidents of a multi-alert monitor are told apart in a list', () => {
    // The title was `<monitor> - <message>` for every group: an on-call scanning the incident list saw the same line
    // for model:gemini-2.5-pro and model:gemini-2.5-flash; the group was only in the cp_group field.
    const of = (group: string) =>
      builder.build({ ...alert, monitorId: 7, group, message: 'Circuit breaker open' }, 'r').title;
    expect(of('model:gemini-2.5-pro,provider:gemini')).toBe(
      'LLM error ratio {model:gemini-2.5-pro,provider:gemini} - Circuit breaker open',
    );
    expect(of('model:gemini-2.5-flash,provider:gemini')).toBe(
      'LLM error ratio {model:gemini-2.5-flash,provider:gemini} - Circuit breaker open',
    );
    // No group (an API alert, a monitor not grouped): as before.
    expect(of('')).toBe('LLM error ratio - Circuit breaker open');
    // The group as shown: redacted, bounded; the monitor and the group fit before the message does.
    expect(of('user:jane.doe@example.com')).toBe('LLM error ratio {user:[REDACTED:EMAIL]} - Circuit breaker open');
    const long = builder.build(
      { ...alert, monitorName: 'M'.repeat(400), group: `k:${'v'.repeat(600)}`, message: 'x'.repeat(400) },
      'r',
    ).title;
    expect(long.length).toBeLessThanOrEqual(CONTENT_LIMITS.title);
    expect(long).toMatch(/^M+… \{k:v+…\}/);
    const longMessage = builder.build({ ...alert, group: 'model:a', message: 'y'.repeat(400) }, 'r').title;
    expect(longMessage).toBe(`LLM error ratio {model:a} - ${'y'.repeat(CONTENT_LIMITS.titleMessage - 1)}…`);
  });

  it('takes Datadog notification handles out of the title and the timeline cell, not an @ in code or words', () => {
    // $EVENT_MSG carries the monitor's handles: they reached the title and the first timeline cell, where Datadog
    // may notify them again.
    const message = [
      '@webhook-llm-control-plane-incidents @slack-oncall Error ratio 9% on model:gemini-2.5-pro.',
      'Escalate to [@pagerduty-llm] or @user@example.com; cc (@team-llm-platform)',
      'Reported by jane@example.com, see `@Injectable()`, @types/node and a@b.',
      '```',
      '@slack-in-code stays',
      '```',
      'Price @ 5 USD, notify @slack-oncall.',
    ].join('\n');
    const { request, title } = builder.build({ ...alert, message }, 'r');
    expect(title).toBe(
      'LLM error ratio - Error ratio 9% on model:gemini-2.5-pro. Escalate to or ; cc Reported by [REDACTED:EMAIL], see `@Inj…',
    );
    const cell = request.runbookMarkdown;
    for (const handle of ['@webhook-', '@slack-oncall', '@pagerduty-llm', '@user', '@team-llm']) {
      expect(cell).not.toContain(handle);
    }
    // The brackets that held only handles go with them.
    expect(cell).toContain('Escalate to  or ; cc \n');
    expect(cell).not.toContain('example.com');
    expect(cell).toContain('see `@Injectable()`, @types/node and a@b.');
    expect(cell).toContain('```\n@slack-in-code stays\n```');
    expect(cell).toContain('Price @ 5 USD, notify .');
  });

  it('strips handles in linear time (long runs of name characters, many handles, brackets left open)', () => {
    const inputs: ((n: number) => string)[] = [
      (n) => `@${'a.'.repeat(n)}/`,
      (n) => `[${'@a '.repeat(n)}`,
      (n) => `\`\`\`x\`\`\`${'@a '.repeat(n)}`,
      (n) => `@${'a'.repeat(n)}@${'b.'.repeat(n)}/`,
      (n) => `${'@a'.repeat(n)}`,
    ];
    for (const input of inputs) {
      // 8x the text: linear stays well under 24 (quadratic is 64).
      expect(growthRatio((n) => stripNotificationHandles(input(n)), 1000, 8000)).toBeLessThan(24);
    }
  });
});
