import { HOUR_MS } from '@app/common';
import type { HourlyUsage } from '../usage-record';

/** The rows an import keeps, and the hours it leaves out because the ledger recorded calls in them. */
export interface ImportableRows {
  rows: HourlyUsage[];
  /** Hours (epoch ms, ascending) whose rows were left out. */
  skippedHours: number[];
}

/**
 * Leaves out the imported rows of every hour in which the ledger holds calls it recorded itself (raw records): their
 * usage is already in its rollups, and an imported row beside them (its own endpoint, provider and model: `*` for
 * Datadog's series) would count it twice in spend, budgets and forecasts. Datadog's `llm.cost.usd` is this very
 * service's metric: before, `ledger:import --datadog` over the days the service had been running doubled their cost.
 * Imported hours without records are replaced as before (idempotent).
 */
export async function withoutRecordedHours(
  rows: readonly HourlyUsage[],
  countRecords: (from: number, to: number) => Promise<number>,
): Promise<ImportableRows> {
  const hours = [...new Set(rows.map((r) => r.hour))].sort((a, b) => a - b);
  const recorded = new Set<number>();
  for (const hour of hours) if ((await countRecords(hour, hour + HOUR_MS)) > 0) recorded.add(hour);
  return { rows: rows.filter((r) => !recorded.has(r.hour)), skippedHours: [...recorded] };
}
