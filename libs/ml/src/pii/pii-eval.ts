import { readFileSync } from 'node:fs';
import { PII_TYPES, type PiiFinding, type PiiType } from './pii-detector';

/**
 * The PII detector's labelled evaluation (data/pii-eval, docs/ml.md "Personal data and secrets"): a loader for the
 * hand-written JSONL rows and a scorer of any `detect(text)` against them.
 *
 * Rows hold values, not offsets (`{ text, spans: [{ type, value }], note }`), so the files stay readable; the loader
 * finds each value in the text, in order (a value labelled twice takes its next occurrence).
 *
 * Scoring, per type and overall:
 * - recall: a labelled value is found when a finding of its type covers it whole (a finding that covers only part
 *   of it leaves the rest in the log: a miss, listed as `partial`);
 * - precision: a finding that overlaps a labelled value of its type is correct, one that overlaps no labelled value
 *   is a false positive; one that overlaps only values of other types is counted apart (`wrongType`: the text is
 *   still redacted, under the wrong label) and left out of precision.
 */

export interface PiiEvalSpan {
  type: PiiType;
  value: string;
  start: number;
  end: number;
}

export interface PiiEvalRow {
  line: number;
  text: string;
  spans: PiiEvalSpan[];
  note: string;
}

export interface PiiEvalMiss {
  line: number;
  type: PiiType;
  value: string;
  /** A finding of the right type overlapped the value without covering it. */
  partial: boolean;
  /** A finding of another type covers it whole: redacted all the same, under the wrong label. */
  coveredAsOtherType: boolean;
  note: string;
}

export interface PiiEvalFalsePositive {
  line: number;
  type: PiiType;
  value: string;
  /** The labelled type the finding overlapped, when it overlapped one of another type. */
  labelled?: PiiType;
  note: string;
}

export interface PiiTypeScore {
  labelled: number;
  found: number;
  /** found / labelled; 1 when nothing is labelled. */
  recall: number;
  findings: number;
  correct: number;
  falsePositives: number;
  wrongType: number;
  /** correct / (correct + falsePositives); 1 when there is neither. */
  precision: number;
}

export interface PiiEvalReport {
  rows: number;
  perType: Record<PiiType, PiiTypeScore>;
  overall: PiiTypeScore;
  /** Labelled values that no finding of any type covers whole: what would reach the logs. */
  leaked: number;
  misses: PiiEvalMiss[];
  falsePositives: PiiEvalFalsePositive[];
}

export interface PiiDetectorLike {
  detect(text: string): PiiFinding[];
}

const isPiiType = (value: unknown): value is PiiType =>
  typeof value === 'string' && (PII_TYPES as readonly string[]).includes(value);

/** Parses the JSONL text of an evaluation file; throws, naming the line, on a malformed row or a value not in its text. */
export function parsePiiEvalSet(jsonl: string): PiiEvalRow[] {
  const rows: PiiEvalRow[] = [];
  jsonl.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const fail = (why: string): never => {
      throw new Error(`pii eval line ${line}: ${why}`);
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return fail('not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null) return fail('not an object');
    const { text, spans, note } = parsed as { text?: unknown; spans?: unknown; note?: unknown };
    if (typeof text !== 'string' || text === '') return fail('text must be a non-empty string');
    if (!Array.isArray(spans)) return fail('spans must be an array');
    const nextFrom = new Map<string, number>();
    const located: PiiEvalSpan[] = spans.map((span: unknown) => {
      const { type, value } = (span ?? {}) as { type?: unknown; value?: unknown };
      if (!isPiiType(type)) return fail(`unknown type ${JSON.stringify(type)}`);
      if (typeof value !== 'string' || value === '') return fail('value must be a non-empty string');
      const start = text.indexOf(value, nextFrom.get(value) ?? 0);
      if (start < 0) return fail(`value ${JSON.stringify(value)} does not occur in the text`);
      nextFrom.set(value, start + value.length);
      return { type, value, start, end: start + value.length };
    });
    rows.push({ line, text, spans: located, note: typeof note === 'string' ? note : '' });
  });
  return rows;
}

export function loadPiiEvalSet(path: string): PiiEvalRow[] {
  return parsePiiEvalSet(readFileSync(path, 'utf8'));
}

const emptyScore = (): PiiTypeScore => ({
  labelled: 0,
  found: 0,
  recall: 1,
  findings: 0,
  correct: 0,
  falsePositives: 0,
  wrongType: 0,
  precision: 1,
});

const finish = (score: PiiTypeScore): PiiTypeScore => ({
  ...score,
  recall: score.labelled === 0 ? 1 : score.found / score.labelled,
  precision: score.correct + score.falsePositives === 0 ? 1 : score.correct / (score.correct + score.falsePositives),
});

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }): boolean =>
  a.start < b.end && b.start < a.end;

export function evaluatePiiDetector(detector: PiiDetectorLike, rows: readonly PiiEvalRow[]): PiiEvalReport {
  const perType = Object.fromEntries(PII_TYPES.map((type) => [type, emptyScore()])) as Record<PiiType, PiiTypeScore>;
  const misses: PiiEvalMiss[] = [];
  const falsePositives: PiiEvalFalsePositive[] = [];
  let leaked = 0;
  for (const row of rows) {
    const findings = detector.detect(row.text);
    for (const span of row.spans) {
      const score = perType[span.type];
      score.labelled++;
      const sameType = findings.filter((f) => f.type === span.type && overlaps(f, span));
      const covers = (f: PiiFinding): boolean => f.start <= span.start && f.end >= span.end;
      if (sameType.some(covers)) {
        score.found++;
        continue;
      }
      const coveredAsOtherType = findings.some(covers);
      if (!coveredAsOtherType) leaked++;
      misses.push({
        line: row.line,
        type: span.type,
        value: span.value,
        partial: sameType.length > 0,
        coveredAsOtherType,
        note: row.note,
      });
    }
    for (const finding of findings) {
      const score = perType[finding.type];
      score.findings++;
      const touched = row.spans.filter((span) => overlaps(finding, span));
      if (touched.some((span) => span.type === finding.type)) {
        score.correct++;
        continue;
      }
      const labelled = touched[0]?.type;
      if (labelled) score.wrongType++;
      else score.falsePositives++;
      falsePositives.push({
        line: row.line,
        type: finding.type,
        value: row.text.slice(finding.start, finding.end),
        ...(labelled ? { labelled } : {}),
        note: row.note,
      });
    }
  }
  const overall = emptyScore();
  for (const type of PII_TYPES) {
    perType[type] = finish(perType[type]);
    for (const key of ['labelled', 'found', 'findings', 'correct', 'falsePositives', 'wrongType'] as const)
      overall[key] += perType[type][key];
  }
  return { rows: rows.length, perType, overall: finish(overall), leaked, misses, falsePositives };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The report as a Markdown table (the form docs/ml.md quotes), then, when asked, the misses and false positives. */
export function formatPiiEvalReport(report: PiiEvalReport, details = false): string {
  const lines = [
    '| type | labelled | found | recall | findings | false pos. | wrong type | precision |',
    '| ---- | -------: | ----: | -----: | -------: | ---------: | ---------: | --------: |',
  ];
  const row = (name: string, s: PiiTypeScore): string =>
    `| ${name} | ${s.labelled} | ${s.found} | ${pct(s.recall)} | ${s.findings} | ${s.falsePositives} | ${s.wrongType} | ${pct(s.precision)} |`;
  for (const type of PII_TYPES) lines.push(row(`\`${type}\``, report.perType[type]));
  lines.push(row('**overall**', report.overall));
  lines.push('', `labelled values no finding of any type covers (left in the text): ${report.leaked}`);
  if (details) {
    lines.push('', `misses (${report.misses.length}):`);
    for (const m of report.misses)
      lines.push(
        `  line ${m.line} ${m.type}${m.partial ? ' (partial)' : ''}${m.coveredAsOtherType ? ' (covered as another type)' : ''}: ${JSON.stringify(m.value)}  [${m.note}]`,
      );
    lines.push('', `false positives and wrong types (${report.falsePositives.length}):`);
    for (const f of report.falsePositives)
      lines.push(
        `  line ${f.line} ${f.type}${f.labelled ? ` (labelled ${f.labelled})` : ''}: ${JSON.stringify(f.value)}  [${f.note}]`,
      );
  }
  return lines.join('\n');
}
