import {
  BasicTextRedactor,
  createValidationPipe,
  type FieldProblem,
  HOUR_MS,
  RequestValidationError,
} from '@app/common';
import { InMemoryMetrics } from '@app/telemetry';
import { usageRecord } from '../../../../test/support/ledger-store-contract';
import { BufferedUsageLedger } from '../buffered-usage-ledger';
import { SqliteLedgerStore } from '../store/sqlite-ledger.store';
import { NO_KEY_NOTE, SpendReportService } from './spend-report.service';
import { SpendQueryDto } from './spend.dto';

/** 14:25 UTC: a 24-hour window starts at 15:00 the day before. */
const NOW = Date.UTC(2026, 10, 28, 14, 25, 0);
const HOUR = Date.UTC(2026, 10, 28, 14, 0, 0);

async function setup(now = NOW) {
  const store = new SqliteLedgerStore(':memory:', { now: () => now });
  const ledger = new BufferedUsageLedger(store, new InMemoryMetrics(), new BasicTextRedactor(), {
    flushMs: 60_000,
    retentionDays: 90,
    storePreview: false,
    now: () => now,
  });
  await ledger.start();
  return { ledger, store, spend: new SpendReportService(ledger, () => now) };
}

const pipe = createValidationPipe();

async function problems(value: unknown): Promise<FieldProblem[]> {
  try {
    await pipe.transform(value, { type: 'query', metatype: SpendQueryDto });
  } catch (error) {
    if (error instanceof RequestValidationError) return error.errors;
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('SpendReportService (GET /usage/spend)', () => {
  it('attributes spend to each API key, the most expensive first, with its share of the total', async () => {
    const { ledger, spend } = await setup();
    ledger.record(
      usageRecord({ ts: HOUR + 1, principal: 'team-a', costUsd: 0.25, inputTokens: 100, outputTokens: 10 }),
    );
    ledger.record(usageRecord({ ts: HOUR + 2, principal: 'team-a', costUsd: 0.5, status: 'error', errorType: 'x' }));
    ledger.record(usageRecord({ ts: HOUR - 5 * HOUR_MS, principal: 'team-b', costUsd: 1, model: 'pro' }));
    ledger.record(usageRecord({ ts: HOUR + 3, principal: 'team-c', costUsd: null, model: 'unpriced' }));
    ledger.record(usageRecord({ ts: HOUR - 24 * HOUR_MS, principal: 'team-a', costUsd: 100 })); // before the window
    await ledger.flush();

    const report = await spend.report(24, 'principal');
    expect(report).toMatchObject({
      hours: 24,
      from: '2026-11-27T15:00:00.000Z',
      to: '2026-11-28T14:25:00.000Z',
      group_by: 'principal',
      complete_from: '2026-11-27T14:00:00.000Z',
      notes: [],
    });
    expect(
      report.groups.map((g) => [g.principal, g.calls, g.errors, g.cost_usd, g.cost_share, g.unpriced_calls]),
    ).toEqual([
      ['team-b', 1, 0, 1, 0.5714, 0],
      ['team-a', 2, 1, 0.75, 0.4286, 0],
      ['team-c', 1, 0, 0, 0, 1],
    ]);
    expect(report.groups[0]).not.toHaveProperty('model');
    expect(report.groups[0]).not.toHaveProperty('endpoint');
    expect(report.total).toMatchObject({ calls: 4, errors: 1, cost_usd: 1.75, unpriced_calls: 1 });
    expect(report.total.input_tokens).toBe(100 + 3 * 1000);
    // The shares of a window add up to 1 (to their rounding).
    expect(report.groups.reduce((sum, g) => sum + (g.cost_share ?? 0), 0)).toBeCloseTo(1, 3);
  });

  it('groups by key and model or key and endpoint; calls without a key are `null`, with a note', async () => {
    const { ledger, spend } = await setup();
    ledger.record(usageRecord({ ts: HOUR, principal: 'team-a', endpoint: 'qa', model: 'flash', costUsd: 0.1 }));
    ledger.record(usageRecord({ ts: HOUR, principal: 'team-a', endpoint: 'chat', model: 'pro', costUsd: 0.3 }));
    ledger.record(usageRecord({ ts: HOUR, principal: null, endpoint: 'qa', model: 'flash', costUsd: 0.2 }));
    await ledger.flush();

    const byModel = await spend.report(1, 'principal,model');
    expect(byModel.from).toBe('2026-11-28T14:00:00.000Z');
    expect(byModel.groups.map((g) => [g.principal, g.model, g.cost_usd])).toEqual([
      ['team-a', 'pro', 0.3],
      [null, 'flash', 0.2],
      ['team-a', 'flash', 0.1],
    ]);
    expect(byModel.groups[0]).not.toHaveProperty('endpoint');
    expect(byModel.notes).toEqual([NO_KEY_NOTE]);
    const byEndpoint = await spend.report(1, 'principal,endpoint');
    expect(byEndpoint.groups.map((g) => [g.principal, g.endpoint, g.calls])).toEqual([
      ['team-a', 'chat', 1],
      [null, 'qa', 1],
      ['team-a', 'qa', 1],
    ]);
    const all = await spend.report(1, 'principal,endpoint,model');
    expect(all.groups.map((g) => [g.principal, g.endpoint, g.model])).toEqual([
      ['team-a', 'chat', 'pro'],
      [null, 'qa', 'flash'],
      ['team-a', 'qa', 'flash'],
    ]);
  });

  it('answers an empty window with zeros and no share, and says when the window begins before the rollup', async () => {
    const { spend } = await setup();
    const empty = await spend.report(24, 'principal');
    expect(empty.groups).toEqual([]);
    expect(empty.total).toMatchObject({ calls: 0, cost_usd: 0 });
    expect(empty.notes).toEqual([]);
    // A week back: the rollup by key starts 24 hours before this ledger's first start.
    const week = await spend.report(168, 'principal');
    expect(week.notes).toEqual([expect.stringContaining('complete from 2026-11-27T14:00:00.000Z')]);
  });

  it('validates the query: hours 1..744 (integer), group_by one of the groupings, each refusal naming its field', async () => {
    const ok = (await pipe.transform(
      { hours: '744', group_by: 'principal,model' },
      { type: 'query', metatype: SpendQueryDto },
    )) as SpendQueryDto;
    expect(ok).toMatchObject({ hours: 744, group_by: 'principal,model' });
    const defaults = (await pipe.transform({}, { type: 'query', metatype: SpendQueryDto })) as SpendQueryDto;
    expect(defaults).toMatchObject({ hours: 24, group_by: 'principal' });
    for (const hours of ['0', '745', '1.5', 'abc', '0x10', '']) {
      expect((await problems({ hours })).map((p) => p.field)).toEqual(['hours']);
    }
    for (const group_by of ['model', 'principal,provider', 'endpoint,principal', '']) {
      const found = await problems({ group_by });
      expect(found).toEqual([{ field: 'group_by', reason: expect.stringContaining('group_by must be one of') }]);
    }
    expect(await problems({ hours: '24', window: '1h' })).toEqual([
      { field: 'window', reason: 'property window should not exist' },
    ]);
  });
});
