import { Logger } from '@nestjs/common';
import { BasicTextRedactor } from '@app/common';
import { InMemoryMetrics } from '@app/telemetry';
import { usageRecord } from '../../../test/support/ledger-store-contract';
import { BufferedUsageLedger, LEDGER_FLUSH_WARNING_INTERVAL_MS } from './buffered-usage-ledger';
import type { UsageRecord } from './usage-record';
import { SqliteLedgerStore } from './store/sqlite-ledger.store';

/** A real SQLite store whose writes fail while `down` (a disk or database outage, as the ledger sees it). */
class FailingStore extends SqliteLedgerStore {
  down = false;
  override append(records: readonly UsageRecord[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('disk I/O error'));
    return super.append(records);
  }
}

describe('BufferedUsageLedger while its store fails', () => {
  const clock = { now: Date.UTC(2026, 11, 7, 12, 0, 0) };
  let store: FailingStore;
  let ledger: BufferedUsageLedger;
  let warn: jest.SpiedFunction<Logger['warn']>;
  let log: jest.SpiedFunction<Logger['log']>;

  beforeEach(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    store = new FailingStore(':memory:');
    ledger = new BufferedUsageLedger(store, new InMemoryMetrics(), new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: false,
      now: () => clock.now,
    });
    await ledger.start();
  });

  afterEach(async () => {
    store.down = false;
    await ledger.stop();
    warn.mockRestore();
    log.mockRestore();
  });

  const flushWarnings = () => warn.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('ledger flush failed'));

  it('warns once a minute, not on every flush tick, and says when it writes again; no record is lost', async () => {
    store.down = true;
    for (let tick = 0; tick < 30; tick++) {
      ledger.record(usageRecord({ ts: clock.now }));
      await ledger.flush();
      clock.now += 1000; // one flush a second, as LEDGER_FLUSH_MS's default
    }
    // 30 failed flushes in 30 s: one line, naming what is kept.
    expect(flushWarnings()).toHaveLength(1);
    expect(flushWarnings()[0]).toContain('1 records kept for retry');

    clock.now += LEDGER_FLUSH_WARNING_INTERVAL_MS;
    ledger.record(usageRecord({ ts: clock.now }));
    await ledger.flush();
    expect(flushWarnings()).toHaveLength(2);
    expect(flushWarnings()[1]).toContain('31 records kept for retry');
    expect(flushWarnings()[1]).toContain('(29 more since the last line)');

    store.down = false;
    await ledger.flush();
    const recovered = log.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('ledger flush recovered'));
    expect(recovered).toEqual(['ledger flush recovered after 31 failed: 31 records written']);
    expect(await store.countRecords(0, clock.now + 1)).toBe(31);

    // A new outage warns at once again.
    store.down = true;
    ledger.record(usageRecord({ ts: clock.now }));
    await ledger.flush();
    expect(flushWarnings()).toHaveLength(3);
  });

  it('counts today’s spend across UTC midnight while the store fails (budgets read it), and once it writes again', async () => {
    ledger.record(usageRecord({ ts: clock.now, costUsd: 0.5 }));
    await ledger.flush();
    expect(ledger.spendToday()).toBeCloseTo(0.5, 9);
    store.down = true;
    clock.now = Date.UTC(2026, 11, 7, 23, 59, 59);
    ledger.record(usageRecord({ ts: clock.now, costUsd: 0.25 })); // yesterday's, as of midnight
    await ledger.flush();
    clock.now = Date.UTC(2026, 11, 8, 0, 0, 1);
    expect(ledger.spendToday()).toBe(0);
    for (let i = 0; i < 4; i++) {
      ledger.record(usageRecord({ ts: clock.now, costUsd: 0.1 }));
      await ledger.flush();
      clock.now += 1000;
    }
    // Before, $0: the figure stayed on 7 December until a flush wrote.
    expect(ledger.spendToday()).toBeCloseTo(0.4, 9);
    // Midnight passing with nothing recorded since: the day starts from what is still buffered.
    clock.now = Date.UTC(2026, 11, 9, 0, 0, 1);
    ledger.record(usageRecord({ ts: clock.now, costUsd: 0.2 }));
    expect(ledger.spendToday()).toBeCloseTo(0.2, 9);
    store.down = false;
    await ledger.flush();
    expect(ledger.spendToday()).toBeCloseTo(0.2, 9);
    expect(ledger.spendToday(Date.UTC(2026, 11, 8, 12))).toBe(0); // a past day is not today's figure
  });
});
