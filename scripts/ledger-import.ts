/**
 * Imports hourly usage into the ledger (SQLite under DATA_DIR, or PostgreSQL when DATABASE_URL is set).
 *
 *   npm run ledger:import -- FILE                 CSV or JSONL of hourly usage (see docs/ledger.md)
 *   npm run ledger:import -- --datadog [--days N]  pull hourly llm.cost.usd / llm.request.count / token series
 *                                                  from Datadog's metrics query API (needs DD_API_KEY, DD_APP_KEY)
 * Re-importing the same hours replaces them (never doubles). Hours in which the ledger recorded calls itself are left
 * out (their usage is already counted) and named.
 */
import { loadConfig } from '@app/config';
import { createDatadogApi } from '@app/datadog';
import {
  createLedgerStore,
  DatadogUsageMetricsSource,
  formatFromPath,
  type HourlyUsage,
  type LedgerStore,
  parseUsageFile,
  withoutRecordedHours,
} from '@app/ledger';
import { readFile } from 'node:fs/promises';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const config = loadConfig();
  const store = createLedgerStore(config);
  await store.init();
  try {
    if (args.includes('--datadog')) {
      if (!config.datadog.configured) throw new Error('--datadog needs DD_API_KEY and DD_APP_KEY');
      const i = args.indexOf('--days');
      const days = i >= 0 ? Number(args[i + 1]) : 30;
      if (!Number.isInteger(days) || days < 1) throw new Error('--days must be a positive integer');
      const to = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const rows = await new DatadogUsageMetricsSource(createDatadogApi(config), config).hourlyUsage(
        to - days * 86_400_000,
        to,
      );
      const kept = await importable(store, rows, 'Datadog');
      await store.putHourly(kept);
      console.log(`imported ${kept.length} hourly rows from Datadog (${days} days) into the ${store.kind} ledger`);
      return;
    }
    const file = args.find((a) => !a.startsWith('--'));
    if (!file) throw new Error('usage: npm run ledger:import -- FILE.csv|FILE.jsonl   or   -- --datadog [--days N]');
    const rows = parseUsageFile(await readFile(file, 'utf8'), formatFromPath(file), (warning) =>
      console.warn(`ledger:import: ${file}: ${warning}`),
    );
    const kept = await importable(store, rows, file);
    if (kept.length === 0) {
      console.log(`imported nothing: every hour of ${file} is one the ledger recorded calls in`);
      return;
    }
    await store.putHourly(kept);
    const cost = kept.reduce((s, r) => s + r.costUsd, 0);
    const last = kept[kept.length - 1]!.hour;
    console.log(
      `imported ${kept.length} hourly rows (${new Date(kept[0]!.hour).toISOString()} → ${new Date(last).toISOString()}, $${cost.toFixed(2)}) into the ${store.kind} ledger`,
    );
    const gapHours = Math.floor((Date.now() - last) / 3_600_000) - 1;
    if (gapHours >= 24) {
      console.warn(
        `ledger:import: the file has no usage after the hour of ${new Date(last).toISOString()}: the ${gapHours} complete ` +
          `hours (${(gapHours / 24).toFixed(1)} days) up to now hold none from it. Unless the ledger has later usage, ` +
          'forecasts say their input is stale and ml:train cost trains on the span the data covers, not on the gap; ' +
          'import the missing hours for a current forecast.',
      );
    }
  } finally {
    await store.close();
  }
}

/** The rows to import: those of hours the ledger recorded calls in are left out, and named on stderr. */
async function importable(store: LedgerStore, rows: readonly HourlyUsage[], source: string): Promise<HourlyUsage[]> {
  const { rows: kept, skippedHours } = await withoutRecordedHours(rows, (from, to) => store.countRecords(from, to));
  if (skippedHours.length > 0) {
    const first = new Date(skippedHours[0]!).toISOString();
    const last = new Date(skippedHours[skippedHours.length - 1]!).toISOString();
    console.warn(
      `ledger:import: ${source}: ${skippedHours.length} hour(s) left out (${first} → ${last}): the ledger recorded ` +
        'calls in them, whose usage is already counted; importing them too would count it twice.',
    );
  }
  return kept;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
