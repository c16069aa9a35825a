import type { ExecutionContext } from '@nestjs/common';
import { DomainError } from '@app/common';
import { testConfig } from '../../../../test/support/app-config';
import { growthRatio } from '../../../../test/support/growth';
import {
  EVENT_TIME_MAX_AHEAD_MS,
  eventTimeOf,
  groupOf,
  messageOf,
  monitorNameOf,
  parseTags,
  severityOf,
  tagValue,
  transitionOf,
} from './datadog-webhook';
import { secretsEqual, WebhookSecretGuard } from './webhook-secret.guard';

const SECRET = 'a-webhook-secret-0123456789';
const contextWith = (headers: Record<string, string>): ExecutionContext =>
  ({ switchToHttp: () => ({ getRequest: () => ({ headers }) }) }) as unknown as ExecutionContext;

function refusal(guard: WebhookSecretGuard, headers: Record<string, string>): { status: number; code: string } {
  try {
    guard.canActivate(contextWith(headers));
  } catch (error) {
    if (error instanceof DomainError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('Datadog webhook payload', () => {
  it('maps transitions to actions and bounded tags', () => {
    expect(transitionOf('Triggered')).toEqual({ tag: 'triggered', action: 'open' });
    expect(transitionOf('Re-Triggered')).toEqual({ tag: 're_triggered', action: 'continue' });
    expect(transitionOf('Renotify')).toEqual({ tag: 'renotify', action: 'continue' });
    expect(transitionOf('Re-No Data')).toEqual({ tag: 're_no_data', action: 'continue' });
    expect(transitionOf('No Data')).toEqual({ tag: 'no_data', action: 'open' });
    expect(transitionOf('Warn')).toEqual({ tag: 'warn', action: 'update-only' });
    expect(transitionOf('Recovered')).toEqual({ tag: 'recovered', action: 'resolve' });
    expect(transitionOf('Something <script>')).toEqual({ tag: 'other', action: 'ignore' });
  });

  it('takes the severity from the priority, else a severity tag, else SEV-3', () => {
    expect(severityOf('P1', [])).toBe('SEV-1');
    expect(severityOf('p5', ['severity:sev-1'])).toBe('SEV-5');
    expect(severityOf('', ['severity:sev-2'])).toBe('SEV-2');
    expect(severityOf(undefined, ['severity:SEV4'])).toBe('SEV-4');
    expect(severityOf('P9', ['severity:high'])).toBe('SEV-3');
  });

  it('reads the monitor name, tags, runbook key, group and message', () => {
    expect(monitorNameOf('[P1] [Triggered on {service:a,env:b}] LLM error ratio above 5%')).toBe(
      'LLM error ratio above 5%',
    );
    expect(monitorNameOf('[Recovered] Plain')).toBe('Plain');
    const tags = parseTags('monitor, service:a, runbook:llm-error-rate ,severity:sev-1');
    expect(tags).toEqual(['monitor', 'service:a', 'runbook:llm-error-rate', 'severity:sev-1']);
    expect(tagValue(tags, 'runbook')).toBe('llm-error-rate');
    expect(groupOf('service:a, env:b')).toBe('env:b,service:a');
    expect(groupOf('*')).toBe('');
    expect(groupOf('')).toBe('');
    expect(messageOf('%%%\nerror ratio high\n%%%')).toBe('error ratio high');
    expect(messageOf('  %%% \n error %%% ratio \n %%%  ')).toBe('error %%% ratio');
    expect(messageOf('%%%')).toBe('');
  });

  it('reads $DATE as epoch ms (seconds when it has 10 digits), else no time', () => {
    const now = 1_759_343_900_000;
    expect(eventTimeOf('1759343824000', now)).toBe(1_759_343_824_000);
    expect(eventTimeOf(' 1759343824 ', now)).toBe(1_759_343_824_000);
    for (const bad of [undefined, '', 'null', '2026-01-01T00:00:00Z', '-5', '1e12'])
      expect(eventTimeOf(bad, now)).toBeUndefined();
  });

  it('takes no time from a $DATE no notification can have: more than a day ahead of our clock, or before 2001', () => {
    const now = 1_759_343_900_000;
    // Ahead by less than a day: another clock, or ours stepped back; taken.
    expect(eventTimeOf(String(now + EVENT_TIME_MAX_AHEAD_MS), now)).toBe(now + EVENT_TIME_MAX_AHEAD_MS);
    expect(eventTimeOf(String(now + EVENT_TIME_MAX_AHEAD_MS + 1), now)).toBeUndefined();
    expect(eventTimeOf('1759343824000000', now)).toBeUndefined(); // microseconds
    expect(eventTimeOf('99999999999', now)).toBeUndefined(); // 11 digits of "seconds": the year 5138
    for (const old of ['0', '1', '123456789', '999999999']) expect(eventTimeOf(old, now)).toBeUndefined();
  });

  it('takes the fences off in linear time (was quadratic on a run of spaces: 20,000, 0.35 s)', () => {
    const texts = new Map([2500, 20_000].map((n) => [n, `a${' '.repeat(n)}b`]));
    // 8 times the text: about 8 times the time when linear, 64 times when quadratic.
    expect(growthRatio((n) => messageOf(texts.get(n)), 2500, 20_000)).toBeLessThan(24);
  });
});

describe('WebhookSecretGuard', () => {
  it('lets the right secret through; a missing or wrong one is a 401', () => {
    const guard = new WebhookSecretGuard(testConfig({ INCIDENTS_WEBHOOK_SECRET: SECRET }));
    expect(guard.canActivate(contextWith({ 'x-webhook-secret': SECRET }))).toBe(true);
    expect(refusal(guard, {})).toEqual({ status: 401, code: 'WEBHOOK_UNAUTHORIZED' });
    expect(refusal(guard, { 'x-webhook-secret': `${SECRET}x` })).toEqual({ status: 401, code: 'WEBHOOK_UNAUTHORIZED' });
    expect(refusal(guard, { 'x-webhook-secret': 'short' })).toEqual({ status: 401, code: 'WEBHOOK_UNAUTHORIZED' });
  });

  it('refuses every webhook with 503 while no secret is configured', () => {
    const guard = new WebhookSecretGuard(testConfig({}));
    expect(refusal(guard, { 'x-webhook-secret': SECRET })).toEqual({ status: 503, code: 'WEBHOOK_NOT_CONFIGURED' });
  });

  it('compares in constant time whatever the lengths', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});
