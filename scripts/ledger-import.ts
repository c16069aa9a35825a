/**
 * Imports hourly usage into the ledger (SQLite under DATA_DIR, or PostgreSQL when DATABASE_URL is set).
 *
 *   npm run ledger:import -- FILE                 CSV or JSONL of hourly usage (see docs/ledger.md)
 *   npm run ledger:import -- --datadog [--days N]  pull hourly llm.cost.usd / llm.request.count / token series
 *                                                  from Datadog's metrics query API (needs DD_API_KEY, DD_APP_KEY)
 * Re-importing the same hours replaces them (never doubles).
 */
import { loadConfig } from '@app/config';
import { createDatadogApi } from '@app/datadog';
import { createLedgerStore, DatadogUsageMetricsSource, formatFromPath, parseUsageFile } from '@app/ledger';
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
      await store.putHourly(rows);
      console.log(`imported ${rows.length} hourly rows from Datadog (${days} days) into the ${store.kind} ledger`);
      return;
    }
    const file = args.find((a) => !a.startsWith('--'));
    if (!file) throw new Error('usage: npm run ledger:import -- FILE.csv|FILE.jsonl   or   -- --datadog [--days N]');
    const rows = parseUsageFile(await readFile(file, 'utf8'), formatFromPath(file), (warning) =>
      console.warn(`ledger:import: ${file}: ${warning}`),
    );
    await store.putHourly(rows);
    const cost = rows.reduce((s, r) => s + r.costUsd, 0);
    const last = rows[rows.length - 1]!.hour;
    console.log(
      `imported ${rows.length} hourly rows (${new Date(rows[0]!.hour).toISOString()} → ${new Date(last).toISOString()}, $${cost.toFixed(2)}) into the ${store.kind} ledger`,
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

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
