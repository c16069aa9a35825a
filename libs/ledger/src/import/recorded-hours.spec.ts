import { HOUR_MS } from '@app/common';
import { usageRecord } from '../../../../test/support/ledger-store-contract';
import { SqliteLedgerStore } from '../store/sqlite-ledger.store';
import { ANY, type HourlyUsage } from '../usage-record';
import { parseUsageFile } from './usage-file.parser';
import { withoutRecordedHours } from './recorded-hours';

const H0 = Date.UTC(2026, 10, 1, 0, 0, 0);

describe('withoutRecordedHours: an import never counts the ledger’s own calls twice', () => {
  it('leaves out the hours the ledger recorded calls in, imports (and replaces) the others', async () => {
    const store = new SqliteLedgerStore(':memory:');
    await store.init();
    // The service recorded two calls in the second hour: $0.5 of spend.
    await store.append([
      usageRecord({ ts: H0 + HOUR_MS + 60_000, costUsd: 0.2 }),
      usageRecord({ ts: H0 + HOUR_MS + 120_000, costUsd: 0.3 }),
    ]);
    // Datadog's series of the same service: the first hour (before the ledger), and the second hour again.
    const pulled: HourlyUsage[] = parseUsageFile(
      `hour,cost_usd,requests,model\n${new Date(H0).toISOString()},1,10,gemini-2.5-flash\n` +
        `${new Date(H0 + HOUR_MS).toISOString()},0.5,2,gemini-2.5-flash\n`,
      'csv',
    );
    expect(pulled.map((r) => [r.endpoint, r.provider])).toEqual([
      [ANY, ANY],
      [ANY, ANY],
    ]);
    const { rows, skippedHours } = await withoutRecordedHours(pulled, (from, to) => store.countRecords(from, to));
    expect(skippedHours).toEqual([H0 + HOUR_MS]);
    expect(rows.map((r) => r.hour)).toEqual([H0]);
    await store.putHourly(rows);
    // Before, the second hour read $1.0: the recorded $0.5 and the imported $0.5 beside it.
    expect(await store.costBetween(H0, H0 + 2 * HOUR_MS)).toBeCloseTo(1.5, 9);
    expect(await store.costBetween(H0 + HOUR_MS, H0 + 2 * HOUR_MS)).toBeCloseTo(0.5, 9);
    // Importing again replaces the imported hour, never doubles it.
    await store.putHourly((await withoutRecordedHours(pulled, (f, t) => store.countRecords(f, t))).rows);
    expect(await store.costBetween(H0, H0 + 2 * HOUR_MS)).toBeCloseTo(1.5, 9);
    await store.close();
  });
});
