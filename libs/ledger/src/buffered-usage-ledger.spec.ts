import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Logger } from '@nestjs/common';
import { BasicTextRedactor } from '@app/common';
import { InMemoryMetrics } from '@app/telemetry';
import { legacyInsert, usageRecord } from '../../../test/support/ledger-store-contract';
import { BufferedUsageLedger, LEDGER_FLUSH_WARNING_INTERVAL_MS } from './buffered-usage-ledger';
import { rollUp, type UsageRecord } from './usage-record';
import { SqliteLedgerStore } from './store/sqlite-ledger.store';

/**
 * A real SQLite store whose writes fail while `down` (a disk or database outage, as the ledger sees it), or once it
 * has been asked for `downAfter` writes.
 */
class FailingStore extends SqliteLedgerStore {
  down = false;
  downAfter: number | undefined;
  private appends = 0;
  override append(records: readonly UsageRecord[]): Promise<void> {
    this.appends += 1;
    if (this.down || (this.downAfter !== undefined && this.appends > this.downAfter)) {
      return Promise.reject(new Error('disk I/O error'));
    }
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

  it('stopped while its store fails: says the records it could not write are lost, never "kept for retry"', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const metrics = new InMemoryMetrics();
    const stopping = new BufferedUsageLedger(store, metrics, new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: false,
      now: () => clock.now,
    });
    await stopping.start();
    store.down = true;
    // An outage already said (the flush warning then waits a minute): before, the stop's failure said nothing at all.
    const at = Date.UTC(2026, 11, 7, 12, 0, 0);
    stopping.record(usageRecord({ ts: at, promptId: 'p-1', costUsd: 0.25 }));
    await stopping.flush();
    stopping.record(usageRecord({ ts: at + 500, promptId: 'p-2', costUsd: 0.5 }));
    stopping.record(usageRecord({ ts: at + 900, promptId: null, costUsd: null }));
    const warned = flushWarnings().length;
    try {
      await stopping.stop();
      expect(flushWarnings()).toHaveLength(warned);
      const lines = error.mock.calls.map(([m]) => String(m));
      expect(lines).toEqual([
        'ledger stopped with 3 usage records its store did not take (disk I/O error): they are lost, not written ' +
          'at the next start: $0.75 of spend, calls from 2026-12-07T12:00:00.000Z to 2026-12-07T12:00:00.900Z, ' +
          'prompt ids p-1, p-2 (and 1 without one)',
      ]);
      expect(stopping.status()).toMatchObject({ buffered: 0, dropped: 3 });
      expect(metrics.named('ledger.records.dropped')).toEqual([
        expect.objectContaining({ value: 3, tags: expect.arrayContaining(['reason:stopped']) as unknown }),
      ]);
    } finally {
      error.mockRestore();
    }
  });
});

/**
 * A real SQLite ledger file with a trigger that refuses, for good, every record of the model `poison` (SQLite's
 * RAISE(ABORT): SQLITE_CONSTRAINT, as a CHECK constraint would).
 */
describe('BufferedUsageLedger when its store refuses a record for good', () => {
  const clock = { now: Date.UTC(2026, 11, 7, 12, 0, 0) };
  let dir: string;
  let store: FailingStore;
  let metrics: InMemoryMetrics;
  let ledger: BufferedUsageLedger;
  let error: jest.SpiedFunction<Logger['error']>;
  let warn: jest.SpiedFunction<Logger['warn']>;

  beforeEach(async () => {
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    dir = mkdtempSync(join(tmpdir(), 'ledger-refuse-'));
    const file = join(dir, 'ledger.sqlite');
    store = new FailingStore(file);
    metrics = new InMemoryMetrics();
    ledger = new BufferedUsageLedger(store, metrics, new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: true,
      now: () => clock.now,
    });
    await ledger.start();
    const db = new DatabaseSync(file);
    db.exec(
      `CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_records WHEN NEW.model = 'poison'
       BEGIN SELECT RAISE(ABORT, 'poison refused'); END`,
    );
    db.close();
  });

  afterEach(async () => {
    store.down = false;
    store.downAfter = undefined;
    await ledger.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    error.mockRestore();
    warn.mockRestore();
  });

  const count = () => store.countRecords(0, clock.now + 1);
  const dropped = () =>
    metrics.named('ledger.records.dropped').map((m) => ({ value: m.value, tags: m.tags.slice().sort() }));
  const refusedLines = () =>
    error.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('refused by the store for good'));

  it('writes every good record of the batch, drops and counts the bad ones, and the next flush goes on', async () => {
    // 250 records: three writes of 100, 100 and 50; bad ones inside the first and the third, one of them the first.
    for (let i = 0; i < 250; i++) {
      const bad = i === 0 || i === 57 || i === 230;
      ledger.record(
        usageRecord({
          ts: clock.now,
          model: bad ? 'poison' : 'gemini-2.5-flash',
          promptId: `p-${i}`,
          preview: `secret ${i}`,
        }),
      );
    }
    await ledger.flush();
    // Before: the first write was refused, the 250 kept for retry, refused again at every tick; nothing written.
    expect(await count()).toBe(247);
    expect(ledger.status()).toMatchObject({ buffered: 0, written: 247, refused: 3, dropped: 0, lastError: null });
    expect(ledger.status().lastRefusal).toMatch(/poison refused \(SQLITE_CONSTRAINT\)/);
    expect(metrics.named('ledger.flush.errors')).toHaveLength(0);
    expect(dropped()).toEqual(
      Array.from({ length: 3 }, () => ({ value: 1, tags: ['reason:constraint', 'store:sqlite'] })),
    );
    // One line per dropped record, naming its prompt id and the store's words, never the prompt's text.
    const lines = refusedLines();
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => /prompt id (\S+),/.exec(l)?.[1])).toEqual(['p-0', 'p-57', 'p-230']);
    for (const line of lines) {
      expect(line).toContain('poison refused');
      expect(line).not.toContain('secret');
    }
    // The rollups hold the written records only: the hour's calls match the records.
    const [hour] = await store.hourly({ from: 0, to: clock.now + 1 });
    expect(hour?.requests).toBe(247);

    // The next flush: nothing of the bad ones is tried again.
    ledger.record(usageRecord({ ts: clock.now, promptId: 'next' }));
    await ledger.flush();
    expect(await count()).toBe(248);
    expect(ledger.status()).toMatchObject({ buffered: 0, written: 248, refused: 3 });
  });

  it('an outage in the middle of writing around a bad record loses nothing: the rest is kept and written later', async () => {
    for (let i = 0; i < 40; i++) {
      ledger.record(
        usageRecord({ ts: clock.now, model: i === 25 ? 'poison' : 'gemini-2.5-flash', promptId: `p-${i}` }),
      );
    }
    // The whole batch (refused), its first half (written), then the store goes down.
    store.downAfter = 2;
    await ledger.flush();
    expect(await count()).toBe(20);
    expect(ledger.status()).toMatchObject({ buffered: 20, written: 20, refused: 0, lastError: 'disk I/O error' });
    expect(metrics.named('ledger.flush.errors')).toHaveLength(1);

    store.downAfter = undefined;
    await ledger.flush();
    expect(await count()).toBe(39);
    expect(ledger.status()).toMatchObject({ buffered: 0, written: 39, refused: 1, lastError: null });
    const rows = await store.records(0, clock.now + 1, 100);
    expect(rows.map((r) => r.promptId)).toEqual(
      Array.from({ length: 40 }, (_, i) => `p-${i}`).filter((id) => id !== 'p-25'),
    );
  });
});

describe('BufferedUsageLedger on a ledger a replica of an earlier version wrote into', () => {
  it('rebuilds the rollups of the hours holding its calls as it starts, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-repair-'));
    const file = join(dir, 'ledger.sqlite');
    const now = Date.UTC(2026, 11, 7, 12, 20, 0);
    const hour = Date.UTC(2026, 11, 7, 11, 0, 0);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      // This version's replica wrote 3 calls, the earlier version's 2 (records and hourly rows, no other rollup).
      const first = new SqliteLedgerStore(file, { now: () => now });
      await first.init();
      const ours = [0, 1, 2].map((i) => usageRecord({ ts: hour + i * 60_000, principal: 'team-a', costUsd: 0.1 }));
      await first.append(ours);
      const theirs = [3, 4].map((i) => usageRecord({ ts: hour + i * 60_000, principal: null, costUsd: 0.2 }));
      const db = new DatabaseSync(file);
      for (const r of theirs) db.exec(legacyInsert(r));
      db.close();
      await first.putHourly(rollUp([...ours, ...theirs]));
      const [before] = await first.window({ from: hour, to: hour + 3_600_000 });
      expect(before!.requests).toBe(3);
      await first.close();

      const store = new SqliteLedgerStore(file, { now: () => now });
      const ledger = new BufferedUsageLedger(store, new InMemoryMetrics(), new BasicTextRedactor(), {
        flushMs: 60_000,
        retentionDays: 90,
        storePreview: false,
        now: () => now,
      });
      await ledger.start();
      const [after] = await ledger.window({ from: hour, to: hour + 3_600_000 });
      expect(after!.requests).toBe(5);
      const spend = await ledger.principalUsage({ from: hour, to: hour + 3_600_000 });
      expect(spend.rows.map((r) => [r.principal, r.requests])).toEqual([
        [null, 2],
        ['team-a', 3],
      ]);
      const told = warn.mock.calls.map(([m]) => String(m)).filter((m) => m.startsWith('rollups:'));
      expect(told).toEqual([
        'rollups: rebuilt 1 hour(s) from their records: calls recorded without their 10-second or by-key rollups ' +
          '(a replica of an earlier version, during a rolling upgrade or a rollback)',
      ]);
      await ledger.stop();
    } finally {
      warn.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
