import { hourStart } from '@app/common';
import { ANY, emptyHourly, type HourlyUsage } from '../usage-record';

/** Thrown for a file that cannot be imported; lists each bad line (at most 20). */
export class UsageImportError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Cannot import usage file:\n${problems
        .slice(0, 20)
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    );
    this.name = 'UsageImportError';
  }
}

/** Accepted column names (case-insensitive) for each field of an hourly usage row. */
const ALIASES: Record<string, readonly string[]> = {
  hour: ['hour', 'timestamp', 'ts', 'time'],
  costUsd: ['cost_usd', 'cost', 'llm.cost.usd'],
  requests: ['requests', 'request_count', 'llm.request.count'],
  inputTokens: ['input_tokens', 'llm.tokens.input'],
  outputTokens: ['output_tokens', 'llm.tokens.output'],
  errors: ['errors', 'error_count'],
  endpoint: ['endpoint'],
  provider: ['provider'],
  model: ['model'],
};

function pick(row: Record<string, unknown>, field: string): unknown {
  for (const alias of ALIASES[field] ?? []) {
    for (const [key, value] of Object.entries(row)) if (key.trim().toLowerCase() === alias) return value;
  }
  return undefined;
}

function parseTime(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return parseTime(Number(trimmed));
  const parsed = Date.parse(trimmed);
  return Number.isFinite(parsed) ? parsed : null;
}

function parseAmount(value: unknown, field: string, problems: string[], where: string, required: boolean): number {
  if (value === undefined || value === null || value === '') {
    if (required) problems.push(`${where}: ${field} is missing`);
    return 0;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0) {
    problems.push(`${where}: ${field} must be a non-negative number (got ${JSON.stringify(value).slice(0, 40)})`);
    return 0;
  }
  return n;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

/**
 * Parses hourly usage from CSV (header row; columns hour|timestamp, cost_usd, requests, input_tokens,
 * output_tokens, errors, and optional endpoint/provider/model) or JSONL (one object per line with the same
 * keys). Times are ISO 8601 or epoch seconds/milliseconds and are floored to the hour; rows of the same hour
 * and dimensions are summed.
 */
export function parseUsageFile(text: string, format: 'csv' | 'jsonl'): HourlyUsage[] {
  const lines = text.split(/\r?\n/);
  const problems: string[] = [];
  const objects: { line: number; row: Record<string, unknown> }[] = [];
  if (format === 'jsonl') {
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        objects.push({ line: i + 1, row: parsed as Record<string, unknown> });
      } catch (error) {
        problems.push(`line ${i + 1}: invalid JSON (${error instanceof Error ? error.message : String(error)})`);
      }
    });
  } else {
    const headerIndex = lines.findIndex((l) => l.trim() !== '');
    if (headerIndex < 0) throw new UsageImportError(['the file is empty']);
    const header = splitCsvLine(lines[headerIndex]!).map((h) => h.trim());
    for (let i = headerIndex + 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      const cells = splitCsvLine(line);
      if (cells.length !== header.length) {
        problems.push(`line ${i + 1}: ${cells.length} columns, the header has ${header.length}`);
        continue;
      }
      objects.push({ line: i + 1, row: Object.fromEntries(header.map((h, c) => [h, cells[c]])) });
    }
  }
  const rows = new Map<string, HourlyUsage>();
  for (const { line, row } of objects) {
    const where = `line ${line}`;
    const time = parseTime(pick(row, 'hour'));
    if (time === null) {
      problems.push(`${where}: hour/timestamp is missing or not a date`);
      continue;
    }
    const dim = (field: string): string => {
      const v = pick(row, field);
      return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 100) : ANY;
    };
    const hour = hourStart(time);
    const key = `${hour}|${dim('endpoint')}|${dim('provider')}|${dim('model')}`;
    const target = rows.get(key) ?? emptyHourly(hour, dim('endpoint'), dim('provider'), dim('model'));
    target.costUsd += parseAmount(pick(row, 'costUsd'), 'cost_usd', problems, where, true);
    target.requests += Math.round(parseAmount(pick(row, 'requests'), 'requests', problems, where, false));
    target.inputTokens += Math.round(parseAmount(pick(row, 'inputTokens'), 'input_tokens', problems, where, false));
    target.outputTokens += Math.round(parseAmount(pick(row, 'outputTokens'), 'output_tokens', problems, where, false));
    target.errors += Math.round(parseAmount(pick(row, 'errors'), 'errors', problems, where, false));
    rows.set(key, target);
  }
  if (problems.length > 0) throw new UsageImportError(problems);
  if (rows.size === 0) throw new UsageImportError(['no data rows']);
  return [...rows.values()].sort((a, b) => a.hour - b.hour);
}

export function formatFromPath(path: string): 'csv' | 'jsonl' {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  throw new UsageImportError([`${path}: unknown format (use a .csv, .jsonl or .ndjson file)`]);
}
