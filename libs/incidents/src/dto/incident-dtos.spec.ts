import { createValidationPipe, RequestValidationError, type FieldProblem } from '@app/common';
import { CreateIncidentDto, CreateIncidentFromInsightDto } from './create-incident.dto';
import { DatadogWebhookDto } from './datadog-webhook.dto';
import { ListIncidentsQueryDto } from './incident-response.dto';

const pipe = createValidationPipe();

async function validate<T>(metatype: new () => T, value: unknown, type: 'body' | 'query' = 'body'): Promise<T> {
  return (await pipe.transform(value, { type, metatype })) as T;
}

async function problems(
  metatype: new () => unknown,
  value: unknown,
  type: 'body' | 'query' = 'body',
): Promise<FieldProblem[]> {
  try {
    await validate(metatype, value, type);
  } catch (error) {
    if (error instanceof RequestValidationError) return error.errors;
    throw error;
  }
  throw new Error('expected a validation error');
}

const valid = { monitor_name: 'LLM errors', alert_message: 'error ratio 9%', runbook: '# Runbook' };

describe('incident DTOs (the global validation pipe)', () => {
  it('takes the origin shape and defaults severity to SEV-2', async () => {
    const dto = await validate(CreateIncidentDto, { ...valid, monitor_id: 42, tags: ['env:prod'] });
    expect(dto).toMatchObject({ ...valid, severity: 'SEV-2', monitor_id: 42, tags: ['env:prod'] });
  });

  it('names each missing field, a bad severity and wrong types', async () => {
    expect(await problems(CreateIncidentDto, {})).toEqual([
      { field: 'monitor_name', reason: 'monitor_name is required' },
      { field: 'alert_message', reason: 'alert_message is required' },
      { field: 'runbook', reason: 'runbook is required' },
    ]);
    expect(await problems(CreateIncidentDto, { ...valid, severity: 'SEV-9' })).toEqual([
      { field: 'severity', reason: 'severity must be one of the following values: SEV-1, SEV-2, SEV-3, SEV-4, SEV-5' },
    ]);
    expect((await problems(CreateIncidentDto, { ...valid, monitor_id: '12' })).map((p) => p.field)).toEqual([
      'monitor_id',
    ]);
    expect((await problems(CreateIncidentDto, { ...valid, monitor_id: 1.5 })).map((p) => p.field)).toEqual([
      'monitor_id',
    ]);
    expect((await problems(CreateIncidentDto, { ...valid, tags: 'a,b' })).map((p) => p.field)).toEqual(['tags']);
  });

  it('bounds lengths and counts', async () => {
    expect((await problems(CreateIncidentDto, { ...valid, monitor_name: 'x'.repeat(201) }))[0]!.reason).toMatch(
      /monitor_name must be shorter than or equal to 200 characters/,
    );
    expect(
      (await problems(CreateIncidentDto, { ...valid, tags: Array.from({ length: 51 }, () => 't') }))[0]!.field,
    ).toBe('tags');
    expect((await problems(CreateIncidentDto, { ...valid, tags: ['x'.repeat(201)] }))[0]!.field).toBe('tags');
    expect((await problems(CreateIncidentDto, { ...valid, runbook: '' }))[0]).toEqual({
      field: 'runbook',
      reason: 'runbook should not be empty',
    });
  });

  it('refuses unknown fields', async () => {
    expect((await problems(CreateIncidentDto, { ...valid, prompt: 'x' }))[0]!.reason).toBe(
      'property prompt should not exist',
    );
  });

  it('insight: required fields, SEV-3 by default, recommendations as strings', async () => {
    const insight = {
      insight_type: 'cost_anomaly',
      title: 'Cost up 40%',
      description: 'why',
      recommendations: ['a', 'b'],
    };
    expect(await validate(CreateIncidentFromInsightDto, insight)).toMatchObject({ ...insight, severity: 'SEV-3' });
    expect((await problems(CreateIncidentFromInsightDto, { ...insight, recommendations: [1] }))[0]!.field).toBe(
      'recommendations',
    );
    expect((await problems(CreateIncidentFromInsightDto, { title: 't' })).map((p) => p.field)).toEqual([
      'insight_type',
      'description',
      'recommendations',
    ]);
    expect((await problems(CreateIncidentFromInsightDto, { ...insight, insight_type: '../x' }))[0]!.field).toBe(
      'insight_type',
    );
  });

  it('webhook: title and transition required, the monitor id digits only', async () => {
    expect(await validate(DatadogWebhookDto, { title: 't', transition: 'Triggered', alert_id: '123' })).toMatchObject({
      alert_id: '123',
    });
    expect(
      (await problems(DatadogWebhookDto, { title: 't', transition: 'Triggered', alert_id: '12a' }))[0]!.field,
    ).toBe('alert_id');
    expect((await problems(DatadogWebhookDto, {})).map((p) => p.field)).toEqual(['title', 'transition']);
  });

  it('webhook: a variable Datadog had no value for ("null" or empty) is a field left out, not a 400', async () => {
    // Datadog substitutes the text null for an unset variable: alert_id "null" was a 400 (the alert lost: Datadog
    // does not retry a 4xx), and priority, scope, tags, message "null" were taken as values (a group "null").
    const dto = await validate(DatadogWebhookDto, {
      title: '[Triggered] Disk',
      transition: 'Triggered',
      id: 'null',
      alert_id: 'null',
      priority: 'null',
      scope: 'NULL',
      message: 'null',
      tags: '',
      link: 'null',
      date: ' null ',
      aggregate_key: 'null',
      alert_cycle_key: 'null',
    });
    for (const field of ['id', 'alert_id', 'priority', 'scope', 'message', 'tags', 'link', 'date', 'aggregate_key'])
      expect(dto[field as keyof DatadogWebhookDto]).toBeUndefined();
    expect(dto.alert_cycle_key).toBeUndefined();
  });

  it('webhook: a long message, tag list or scope is cut, never refused (a tag list after its last whole tag)', async () => {
    const tags = Array.from({ length: 400 }, (_, i) => `host:ip-10-0-${i}`).join(',');
    const dto = await validate(DatadogWebhookDto, {
      title: 't',
      transition: 'Triggered',
      message: 'x'.repeat(50_000),
      tags,
      scope: tags,
    });
    expect(dto.message).toHaveLength(20_000);
    expect(dto.tags!.length).toBeLessThanOrEqual(4000);
    expect(tags.startsWith(`${dto.tags!},`)).toBe(true);
    expect(dto.scope!.length).toBeLessThanOrEqual(2000);
    expect(tags.startsWith(`${dto.scope!},`)).toBe(true);
  });

  it("webhook: takes the other variables of Datadog's payload ($ALERT_CYCLE_KEY, $ORG_ID, ...), still refuses others", async () => {
    const extra = {
      alert_cycle_key: '7a3b',
      alert_status: 'llm.error.count over service:a was > 5',
      alert_query: 'sum(last_5m):sum:llm.error.count{*} > 5',
      alert_type: 'error',
      alert_metric: 'llm.error.count',
      event_title: '[P1] [Triggered] LLM errors',
      event_type: 'query_alert_monitor',
      hostname: 'web-1',
      last_updated: '1759343824000',
      org_id: '352347',
      org_name: 'acme',
    };
    expect(await validate(DatadogWebhookDto, { title: 't', transition: 'Triggered', ...extra })).toMatchObject(extra);
    expect((await problems(DatadogWebhookDto, { title: 't', transition: 'Triggered', bogus: '1' }))[0]!.field).toBe(
      'bogus',
    );
  });

  it('list query: limit 1..200 (default 50) and a known state', async () => {
    expect(await validate(ListIncidentsQueryDto, {}, 'query')).toMatchObject({ limit: 50 });
    expect(await validate(ListIncidentsQueryDto, { limit: '200', state: 'failed' }, 'query')).toMatchObject({
      limit: 200,
      state: 'failed',
    });
    expect((await problems(ListIncidentsQueryDto, { limit: '0' }, 'query'))[0]!.field).toBe('limit');
    expect((await problems(ListIncidentsQueryDto, { limit: '201' }, 'query'))[0]!.field).toBe('limit');
    expect((await problems(ListIncidentsQueryDto, { state: 'open' }, 'query'))[0]!.field).toBe('state');
  });

  it('list query: a field given twice (?state=pending&state=failed) is said to be, not a value it does not take', async () => {
    // Before: "state must be one of the following values: pending, delivering, delivered, failed" about two values
    // that both are, and "limit must be an integer number" about 10 and 20: a script filtering on two states read it
    // as a bad state name.
    expect(await problems(ListIncidentsQueryDto, { state: ['pending', 'failed'] }, 'query')).toEqual([
      { field: 'state', reason: 'state was given 2 times: give it once (one value)' },
    ]);
    expect(
      await problems(ListIncidentsQueryDto, { limit: ['10', '20', '30'], state: 'nope', x: '1' }, 'query'),
    ).toEqual([
      { field: 'x', reason: 'property x should not exist' },
      { field: 'limit', reason: 'limit was given 3 times: give it once (one value)' },
      { field: 'state', reason: 'state must be one of the following values: pending, delivering, delivered, failed' },
    ]);
    expect(await validate(ListIncidentsQueryDto, { limit: '10', state: 'pending' }, 'query')).toMatchObject({
      limit: 10,
      state: 'pending',
    });
  });
});
