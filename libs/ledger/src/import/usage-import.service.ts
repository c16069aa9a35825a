import { DAY_MS, hourStart } from '@app/common';
import { readFile } from 'node:fs/promises';
import type { UsageLedger } from '../usage-ledger';
import type { ImportableRows } from './recorded-hours';
import { formatFromPath, parseUsageFile } from './usage-file.parser';
import type { UsageMetricsSource } from './usage-metrics-source.port';

export interface ImportSummary {
  source: string;
  rows: number;
  /** First and last hour imported (ISO 8601), null when nothing was imported. */
  from: string | null;
  to: string | null;
  costUsd: number;
  /**
   * Hours (ISO 8601) left out because the ledger recorded calls in them itself: their usage is already counted, and
   * an imported row beside it would count it twice (`withoutRecordedHours`).
   */
  skippedHours: string[];
}

function summarise(source: string, { rows, skippedHours }: ImportableRows): ImportSummary {
  const hours = rows.map((r) => r.hour);
  return {
    source,
    rows: rows.length,
    from: hours.length ? new Date(Math.min(...hours)).toISOString() : null,
    to: hours.length ? new Date(Math.max(...hours)).toISOString() : null,
    costUsd: Math.round(rows.reduce((sum, r) => sum + r.costUsd, 0) * 1e6) / 1e6,
    skippedHours: skippedHours.map((hour) => new Date(hour).toISOString()),
  };
}

/** Imports hourly usage into the ledger: from a CSV/JSONL file, or pulled from the metrics backend. */
export class UsageImportService {
  constructor(
    private readonly ledger: UsageLedger,
    private readonly metricsSource: UsageMetricsSource,
  ) {}

  async importFile(path: string): Promise<ImportSummary> {
    const rows = parseUsageFile(await readFile(path, 'utf8'), formatFromPath(path));
    return summarise(path, await this.ledger.importHourly(rows));
  }

  /** Pulls the last `days` full hours from the metrics backend (Datadog when keys are configured). */
  async pullFromMetrics(days: number, now = Date.now()): Promise<ImportSummary> {
    const to = hourStart(now);
    const rows = await this.metricsSource.hourlyUsage(to - days * DAY_MS, to);
    return summarise(this.metricsSource.name, await this.ledger.importHourly(rows));
  }
}
