import { hourStart } from '@app/common';
import { ANY, emptyHourly, type HourlyUsage } from '../usage-record';

/** Thrown for a file that cannot be imported; lists each bad line (at most 20). */
export class UsageImportError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Cannot import usage file:\n${problems
        .slice(0, 20)
        .map((p) => `  - ${p}`)
        .join('\n')}${problems.length > 20 ? `\n  (and ${problems.length - 20} more)` : ''}`,
    );
    this.name = 'UsageImportError';
  }
}

type Field =
  'hour' | 'costUsd' | 'requests' | 'inputTokens' | 'outputTokens' | 'errors' | 'endpoint' | 'provider' | 'model';

/** Accepted column names (JSONL: keys), case-insensitive, for each field of an hourly usage row. */
export const USAGE_FILE_COLUMNS: Readonly<Record<Field, readonly string[]>> = {
  hour: ['hour_start', 'hour', 'timestamp', 'ts', 'time'],
  costUsd: ['cost_usd', 'cost', 'llm.cost.usd'],
  requests: ['requests', 'request_count', 'llm.request.count'],
  inputTokens: ['input_tokens', 'llm.tokens.input'],
  outputTokens: ['output_tokens', 'llm.tokens.output'],
  errors: ['errors', 'error_count'],
  endpoint: ['endpoint'],
  provider: ['provider'],
  model: ['model'],
};
/** A file without these cannot be imported: a missing (or misspelt) one is an error, never read as 0. */
const REQUIRED: readonly Field[] = ['hour', 'costUsd'];
const LABEL: Readonly<Record<Field, string>> = {
  hour: 'hour',
  costUsd: 'cost',
  requests: 'requests',
  inputTokens: 'input tokens',
  outputTokens: 'output tokens',
  errors: 'errors',
  endpoint: 'endpoint',
  provider: 'provider',
  model: 'model',
};
const FIELD_OF = new Map<string, Field>(
  (Object.entries(USAGE_FILE_COLUMNS) as [Field, readonly string[]][]).flatMap(([field, names]) =>
    names.map((name) => [name, field] as const),
  ),
);
const quoted = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');

/** Which column (key) gives each field, the ones that give none, and two columns giving one field. */
interface ColumnMap {
  fields: Map<Field, string>;
  unrecognised: string[];
  problems: string[];
}

function mapColumns(names: readonly string[], noun: 'column' | 'key'): ColumnMap {
  const fields = new Map<Field, string>();
  const unrecognised: string[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const field = FIELD_OF.get(name.trim().toLowerCase());
    if (!field) unrecognised.push(name);
    else if (fields.has(field))
      problems.push(`${noun}s "${fields.get(field)}" and "${name}" both give the ${LABEL[field]}: keep one`);
    else fields.set(field, name);
  }
  for (const field of REQUIRED) {
    if (fields.has(field)) continue;
    problems.push(
      `no ${LABEL[field]} ${noun} (one of ${USAGE_FILE_COLUMNS[field].join(', ')})` +
        (unrecognised.length ? `; ${noun}s not recognised: ${quoted(unrecognised)}` : ''),
    );
  }
  return { fields, unrecognised, problems };
}

function unrecognisedWarning(noun: 'column' | 'key', names: readonly string[]): string {
  return (
    `${noun}s not recognised, not imported: ${names.join(', ')} (recognised, case-insensitive: ` +
    `${Object.values(USAGE_FILE_COLUMNS)
      .map((aliases) => aliases.join('|'))
      .join(', ')})`
  );
}

/** ISO 8601 as usage exports write it: a date, or a date and time (`T` or a space), with or without an offset. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Epoch seconds or milliseconds, or ISO 8601; a time without an offset is UTC, as every hour of the ledger is. Before,
 * `Date.parse` read it in the process's time zone: under TZ=Asia/Kolkata `2026-11-01T10:00:00` went into the hour of
 * 04:00 UTC, and other formats (`11/01/2026`, month or day first?) were guessed.
 */
function parseTime(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return parseTime(Number(trimmed));
  const iso = ISO_TIME.exec(trimmed);
  if (!iso) return null;
  const [, date = '', hhmm = '00:00', seconds = ':00', zone = 'Z'] = iso;
  // Date.parse takes 2026-02-30 as 2 March.
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return null;
  const offset = /^[+-]\d{2}$/.test(zone)
    ? `${zone}:00`
    : /^[+-]\d{4}$/.test(zone)
      ? `${zone.slice(0, 3)}:${zone.slice(3)}`
      : zone;
  const parsed = Date.parse(`${date}T${hhmm}${seconds}${offset.toUpperCase()}`);
  return Number.isFinite(parsed) ? parsed : null;
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function parseAmount(value: unknown, field: string, problems: string[], where: string, required: boolean): number {
  if (isBlank(value)) {
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
 * Parses hourly usage from CSV (header row) or JSONL (one object per line) with the columns (keys) of
 * USAGE_FILE_COLUMNS, case-insensitive: the hour (`hour_start`, `hour`, `timestamp`, `ts` or `time`) and the cost
 * are required, the counts and dimensions optional. Times are ISO 8601 or epoch seconds/milliseconds and are
 * floored to the hour; rows of the same hour and dimensions are summed.
 *
 * Nothing is imported when a required column is missing (the error names it, with the accepted names and the
 * columns that were not recognised, e.g. a misspelt cost column), when two columns give the same field, or when
 * any line is bad (each is listed). Columns that are not recognised but not needed are not imported, and
 * `onWarning` is told their names (once per file).
 */
export function parseUsageFile(
  text: string,
  format: 'csv' | 'jsonl',
  onWarning: (warning: string) => void = () => undefined,
): HourlyUsage[] {
  const lines = text.split(/\r?\n/);
  const problems: string[] = [];
  const objects: { line: number; row: Record<string, unknown>; columns: ColumnMap }[] = [];
  if (format === 'jsonl') {
    const unrecognised = new Map<string, number>();
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let row: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        row = parsed as Record<string, unknown>;
      } catch (error) {
        problems.push(`line ${i + 1}: invalid JSON (${error instanceof Error ? error.message : String(error)})`);
        return;
      }
      const columns = mapColumns(Object.keys(row), 'key');
      if (columns.problems.length > 0) {
        for (const p of columns.problems) problems.push(`line ${i + 1}: ${p}`);
        return;
      }
      for (const key of columns.unrecognised) unrecognised.set(key, (unrecognised.get(key) ?? 0) + 1);
      objects.push({ line: i + 1, row, columns });
    });
    if (unrecognised.size > 0 && problems.length === 0) {
      const names = [...unrecognised].map(([key, n]) => `${JSON.stringify(key)} (${n} line${n === 1 ? '' : 's'})`);
      onWarning(unrecognisedWarning('key', names));
    }
  } else {
    const headerIndex = lines.findIndex((l) => l.trim() !== '');
    if (headerIndex < 0) throw new UsageImportError(['the file is empty']);
    const header = splitCsvLine(lines[headerIndex]!).map((h) => h.trim());
    const columns = mapColumns(header, 'column');
    if (columns.problems.length > 0)
      throw new UsageImportError(columns.problems.map((p) => `header (line ${headerIndex + 1}): ${p}`));
    for (let i = headerIndex + 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      const cells = splitCsvLine(line);
      if (cells.length !== header.length) {
        problems.push(`line ${i + 1}: ${cells.length} columns, the header has ${header.length}`);
        continue;
      }
      objects.push({ line: i + 1, row: Object.fromEntries(header.map((h, c) => [h, cells[c]])), columns });
    }
    if (columns.unrecognised.length > 0 && problems.length === 0)
      onWarning(
        unrecognisedWarning(
          'column',
          columns.unrecognised.map((n) => JSON.stringify(n)),
        ),
      );
  }
  const rows = new Map<string, HourlyUsage>();
  for (const { line, row, columns } of objects) {
    const where = `line ${line}`;
    const value = (field: Field): unknown => {
      const name = columns.fields.get(field);
      return name === undefined ? undefined : row[name];
    };
    const name = (field: Field): string => columns.fields.get(field) ?? USAGE_FILE_COLUMNS[field][0]!;
    const rawTime = value('hour');
    const time = parseTime(rawTime);
    if (time === null) {
      problems.push(
        rawTime === undefined || rawTime === null || rawTime === ''
          ? `${where}: ${name('hour')} is empty`
          : `${where}: ${name('hour')} is not a date: ISO 8601 or epoch seconds or milliseconds (got ${JSON.stringify(rawTime).slice(0, 40)})`,
      );
      continue;
    }
    const dim = (field: Field): string => {
      const v = value(field);
      return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 100) : ANY;
    };
    const amount = (field: Field, required = false): number =>
      parseAmount(value(field), name(field), problems, where, required);
    const hour = hourStart(time);
    const key = `${hour}|${dim('endpoint')}|${dim('provider')}|${dim('model')}`;
    const target = rows.get(key) ?? emptyHourly(hour, dim('endpoint'), dim('provider'), dim('model'));
    target.costUsd += amount('costUsd', true);
    const requests = Math.round(amount('requests'));
    target.requests += requests;
    target.inputTokens += Math.round(amount('inputTokens'));
    target.outputTokens += Math.round(amount('outputTokens'));
    // No error count (no column, an empty cell): these requests' errors are unknown, not 0 (never a 0 % error rate).
    if (isBlank(value('errors'))) target.errorsUnknown += requests;
    else target.errors += Math.round(amount('errors'));
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
