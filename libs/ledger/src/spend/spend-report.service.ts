import { HOUR_MS, hourStart } from '@app/common';
import { PRINCIPAL_MEASURES, type PrincipalDimension, type PrincipalUsage } from '../principal-usage';
import { UsageLedger } from '../usage-ledger';
import type { SpendGroupDto, SpendGrouping, SpendMeasuresDto, SpendReportDto } from './spend.dto';

/** The note on the `null` group. */
export const NO_KEY_NOTE =
  'principal null: calls made without an API key (AUTH_DISABLED=true), or recorded before the ledger kept the key name.';

const usd = (value: number): number => Math.round(value * 1e12) / 1e12;

function measures(row: PrincipalUsage): SpendMeasuresDto {
  return {
    calls: row.requests,
    errors: row.errors,
    safety_blocks: row.safetyBlocks,
    aborted: row.aborted,
    cache_hits: row.cacheHits,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cached_tokens: row.cachedTokens,
    reasoning_tokens: row.reasoningTokens,
    cost_usd: usd(row.costUsd),
    unpriced_calls: row.unpriced,
    saved_cost_usd: usd(row.savedCostUsd),
  };
}

/** Most expensive first, then most calls, then by key (no key last), endpoint and model: a stable order. */
function byCost(a: SpendGroupDto, b: SpendGroupDto): number {
  const text = (x: string | null | undefined): string => x ?? '\uffff';
  return (
    b.cost_usd - a.cost_usd ||
    b.calls - a.calls ||
    text(a.principal).localeCompare(text(b.principal)) ||
    text(a.endpoint).localeCompare(text(b.endpoint)) ||
    text(a.model).localeCompare(text(b.model))
  );
}

/**
 * Showback: what each API key spent over the last hours, from the ledger's hourly rollup by principal (a few rows
 * per hour and key, never the raw records: a report over a month reads no more than the hours × keys × models).
 */
export class SpendReportService {
  constructor(
    private readonly ledger: UsageLedger,
    private readonly now: () => number = Date.now,
  ) {}

  async report(hours: number, grouping: SpendGrouping): Promise<SpendReportDto> {
    const to = this.now();
    const from = hourStart(to) - (hours - 1) * HOUR_MS;
    const groupBy = grouping.split(',').filter((d): d is PrincipalDimension => d === 'endpoint' || d === 'model');
    const spend = await this.ledger.principalUsage({ from, to, groupBy });

    const sum = { principal: null, endpoint: '*', model: '*' } as PrincipalUsage;
    for (const m of PRINCIPAL_MEASURES) sum[m] = spend.rows.reduce((n, row) => n + row[m], 0);
    const total = measures(sum);
    const groups = spend.rows
      .map((row): SpendGroupDto => ({
        principal: row.principal,
        ...(groupBy.includes('endpoint') ? { endpoint: row.endpoint } : {}),
        ...(groupBy.includes('model') ? { model: row.model } : {}),
        ...measures(row),
        cost_share: sum.costUsd > 0 ? Math.round((row.costUsd / sum.costUsd) * 1e4) / 1e4 : null,
      }))
      .sort(byCost);

    const notes: string[] = [];
    if (groups.some((g) => g.principal === null)) notes.push(NO_KEY_NOTE);
    if (spend.completeFrom !== null && spend.completeFrom > from) {
      notes.push(
        `The spend per API key is complete from ${new Date(spend.completeFrom).toISOString()} (the first start of ` +
          'the version that records it); calls before that are not counted.',
      );
    }
    return {
      hours,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      group_by: grouping,
      total,
      groups,
      complete_from: spend.completeFrom === null ? null : new Date(spend.completeFrom).toISOString(),
      notes,
    };
  }
}
