import { BasicTextRedactor, DomainError } from '@app/common';
import { InMemoryMetrics } from '@app/telemetry';
import { usageRecord } from '../../../../test/support/ledger-store-contract';
import { BufferedUsageLedger } from '../buffered-usage-ledger';
import { SqliteLedgerStore } from '../store/sqlite-ledger.store';
import { BudgetService, type BudgetPolicy, RESERVED_RETRY_S } from './budget.service';
import { MemoryReservationStore } from './memory-reservation.store';
import { admits } from './reservation-store.port';

const NOON = Date.UTC(2026, 10, 28, 12, 0, 0);
const TTL = 3000;

async function setup(policy: BudgetPolicy, dailyUsd: number | undefined) {
  const clock = { now: NOON };
  const metrics = new InMemoryMetrics();
  const ledger = new BufferedUsageLedger(new SqliteLedgerStore(':memory:'), metrics, new BasicTextRedactor(), {
    flushMs: 60_000,
    retentionDays: 90,
    storePreview: false,
    now: () => clock.now,
  });
  await ledger.start();
  const store = new MemoryReservationStore(() => clock.now);
  const budget = new BudgetService(
    ledger,
    metrics,
    { policy, dailyUsd, reservationTtlMs: TTL, now: () => clock.now },
    store,
  );
  return { clock, metrics, ledger, store, budget };
}

function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('admits (the admission rule)', () => {
  it('admits while spend + reservations + the call fit, never once spend reached the budget', () => {
    expect(admits(0, 0, 0.2, 1)).toBe(true);
    expect(admits(0.4, 0.4, 0.2, 1)).toBe(true); // exactly the budget
    expect(admits(0.4, 0.41, 0.2, 1)).toBe(false);
    expect(admits(1, 0, 0, 1)).toBe(false); // spent: even a call that reserves nothing
    expect(admits(0.99, 0, 0, 1)).toBe(true);
  });
});

describe('BudgetService reservations (in memory, fake clock)', () => {
  it('enforce: admits 5 calls of a budget that fits 5, refuses the 6th with the figures, frees on release', async () => {
    const { budget, store, metrics, ledger } = await setup('enforce', 1);
    for (let i = 0; i < 5; i++) expect(budget.reserve(`call-${i}`, 0.2)).toBeUndefined(); // synchronous
    expect(store.size).toBe(5);
    const problem = refusal(() => budget.reserve('call-5', 0.2));
    expect(problem.status).toBe(429);
    expect(problem.code).toBe('BUDGET_EXCEEDED');
    expect(problem.extensions).toMatchObject({
      dailyBudgetUsd: 1,
      spentTodayUsd: 0,
      reservedUsd: 1,
      callWorstCaseUsd: 0.2,
      resetAt: '2026-11-29T00:00:00.000Z',
    });
    // It fits what is left of the budget once the calls in flight end: come back in seconds, not at midnight.
    expect(problem.headers).toEqual({ 'retry-after': String(RESERVED_RETRY_S) });
    expect(problem.detail).toContain(
      'it fits the $1.00 left of the daily budget of $1.00 ($0 spent), but not beside the $1.00 reserved',
    );
    expect(metrics.named('llm.budget.rejected')).toHaveLength(1);

    budget.release('call-0');
    expect(() => budget.reserve('call-5', 0.2)).not.toThrow();
    expect(budget.status().reservedUsd).toBeCloseTo(1, 9);
    await ledger.stop();
  });

  it('extend: a call in flight grows its reservation beside the others, never against its own; refused, it keeps it', async () => {
    const { budget, store, metrics, ledger } = await setup('enforce', 1);
    expect(budget.reserve('a', 0.3)).toBeUndefined();
    expect(budget.reserve('b', 0.3)).toBeUndefined();
    // 'a' was billed 0.3 for a failed attempt and asks for another 0.3: 0.6 beside b's 0.3 fits (its own 0.3 is not
    // counted twice).
    expect(budget.extend('a', 0.6)).toBe(true);
    expect(budget.status().reservedUsd).toBeCloseTo(0.9, 9);
    expect(store.size).toBe(2);
    // Once more: 0.9 beside 0.3 does not fit; 'a' keeps its 0.6, and nothing throws or counts as a 429.
    expect(budget.extend('a', 0.9)).toBe(false);
    expect(budget.status().reservedUsd).toBeCloseTo(0.9, 9);
    expect(metrics.named('llm.budget.rejected')).toHaveLength(0);
    // Under alert it is always taken.
    const alert = await setup('alert', 1);
    expect(alert.budget.reserve('a', 0.9)).toBeUndefined();
    expect(alert.budget.extend('a', 1.8)).toBe(true);
    expect(alert.budget.status().reservedUsd).toBeCloseTo(1.8, 9);
    await alert.ledger.stop();
    await ledger.stop();
  });

  it('a call whose worst case is more than is left, even with nothing in flight, waits for the reset; small sums read as such', async () => {
    const { budget, ledger } = await setup('enforce', 0.0075);
    ledger.record(usageRecord({ ts: Date.UTC(2026, 10, 28, 11), costUsd: 0.000526 }));
    const problem = refusal(() => budget.reserve('big', 0.0081));
    expect(problem.headers).toEqual({ 'retry-after': String(12 * 3600) });
    expect(problem.detail).toBe(
      "This call could cost up to $0.0081 (its max output tokens at the model's price), more than the $0.00697 left " +
        'of the daily budget of $0.0075 ($0.000526 spent); a lower max_tokens may fit; the budget resets at ' +
        '2026-11-29T00:00:00.000Z.',
    );
    await ledger.stop();
  });

  it('settle: the spend counts instead of the reservation, with no moment when neither does', async () => {
    const { budget, ledger } = await setup('enforce', 1);
    expect(budget.reserve('a', 0.5)).toBeUndefined();
    expect(budget.reserve('b', 0.5)).toBeUndefined();
    expect(() => budget.reserve('c', 0.1)).toThrow(DomainError);
    // The call's record (its real cost, 0.3) is made, then it settles: 0.3 spent + 0.5 reserved.
    ledger.record(usageRecord({ ts: NOON, costUsd: 0.3 }));
    budget.settle('a');
    expect(budget.status()).toMatchObject({ spentTodayUsd: 0.3, reservedUsd: 0.5, utilizationPct: 80 });
    expect(() => budget.reserve('c', 0.2)).not.toThrow();
    const problem = refusal(() => budget.reserve('d', 0.01));
    expect(problem.extensions).toMatchObject({ spentTodayUsd: 0.3, reservedUsd: 0.7, callWorstCaseUsd: 0.01 });
    // Releasing or settling twice changes nothing.
    budget.release('a');
    budget.settle('a');
    expect(budget.status().reservedUsd).toBeCloseTo(0.7, 9);
    await ledger.stop();
  });

  it('expires reservations after their time to live (a call that never ended: a crash, a lost settle)', async () => {
    const { budget, clock, ledger } = await setup('enforce', 1);
    expect(budget.reserve('stuck-1', 0.6)).toBeUndefined();
    clock.now += 1000;
    expect(budget.reserve('stuck-2', 0.4)).toBeUndefined();
    expect(() => budget.reserve('x', 0.1)).toThrow(DomainError);
    clock.now = NOON + TTL - 1;
    expect(budget.status().reservedUsd).toBeCloseTo(1, 9);
    clock.now = NOON + TTL; // the first expires
    expect(budget.status().reservedUsd).toBeCloseTo(0.4, 9);
    expect(() => budget.reserve('x', 0.5)).not.toThrow();
    clock.now = NOON + 1000 + TTL + 1; // the second too
    expect(budget.status().reservedUsd).toBeCloseTo(0.5, 9);
    await ledger.stop();
  });

  it('keepAlive: a call going on past its time to live (a long stream) keeps its reservation until stopped', async () => {
    const { budget, clock, ledger } = await setup('enforce', 1);
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      expect(budget.reserve('stream', 0.6)).toBeUndefined();
      const stop = budget.keepAlive('stream');
      for (let t = 0; t < 3 * TTL; t += 500) {
        clock.now += 500;
        jest.advanceTimersByTime(500);
      }
      expect(budget.status().reservedUsd).toBeCloseTo(0.6, 9);
      expect(() => budget.reserve('x', 0.5)).toThrow(DomainError);
      // Stopped (a process that died stops too): it expires within its time to live.
      stop();
      clock.now += TTL;
      jest.advanceTimersByTime(TTL);
      expect(budget.status().reservedUsd).toBe(0);
      expect(() => budget.reserve('x', 0.5)).not.toThrow();
      // A settled call's keep-alive renews nothing.
      budget.settle('x');
      const late = budget.keepAlive('x');
      clock.now += TTL;
      jest.advanceTimersByTime(TTL);
      late();
      expect(budget.status().reservedUsd).toBe(0);
    } finally {
      jest.useRealTimers();
      await ledger.stop();
    }
  });

  it('alert: never refuses, but reservations count in utilisation and the gauges', async () => {
    const { budget, metrics, ledger } = await setup('alert', 1);
    for (let i = 0; i < 8; i++) expect(() => budget.reserve(`c${i}`, 0.2)).not.toThrow();
    const status = budget.report();
    expect(status).toMatchObject({ spentTodayUsd: 0, reservedUsd: 1.6, utilizationPct: 160, exceeded: false });
    expect(metrics.named('llm.budget.utilization')[0]).toMatchObject({ value: 160, tags: ['state:warning'] });
    await ledger.stop();
  });

  it('without a budget, reserves nothing and refuses nothing', async () => {
    const { budget, store, ledger } = await setup('enforce', undefined);
    expect(budget.reserving).toBe(false);
    expect(budget.reserve('a', 1000)).toBeUndefined();
    expect(store.size).toBe(0);
    expect(budget.status()).toMatchObject({ reservedUsd: 0, utilizationPct: null });
    await ledger.stop();
  });

  it('a spend that reached the budget refuses with callWorstCaseUsd null (assertCanSpend, before the prompt is counted)', async () => {
    const { budget, ledger } = await setup('enforce', 1);
    ledger.record(usageRecord({ ts: NOON, costUsd: 1 }));
    const problem = refusal(() => budget.assertCanSpend());
    expect(problem.extensions).toMatchObject({ spentTodayUsd: 1, reservedUsd: 0, callWorstCaseUsd: null });
    await ledger.stop();
  });
});

describe('MemoryReservationStore on its default clock, when the wall clock steps (NTP, a VM resumed)', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 11, 7, 12) }));
  afterEach(() => jest.useRealTimers());

  const request = (id: string, amountUsd: number) => ({
    id,
    amountUsd,
    budgetUsd: 1,
    enforce: true,
    dayStart: Date.UTC(2026, 11, 7),
    spentTodayUsd: 0,
    now: Date.now(),
    ttlMs: 122_000,
  });

  it('a wall clock stepped forward an hour does not drop the reservations of the calls in flight', () => {
    const store = new MemoryReservationStore();
    expect(store.reserve(request('in-flight', 0.8)).admitted).toBe(true);
    // setSystemTime steps Date.now alone; the timers and performance.now go on.
    jest.setSystemTime(Date.now() + 3_600_000);
    expect(store.reservedUsd()).toBeCloseTo(0.8, 9);
    // The next call's worst case does not fit beside the one in flight: before, it was admitted on a $1 budget.
    expect(store.reserve(request('next', 0.8)).admitted).toBe(false);
    // ...and the time to live still ends the reservation of a call that never settles.
    jest.advanceTimersByTime(122_000);
    expect(store.reservedUsd()).toBe(0);
  });
});
