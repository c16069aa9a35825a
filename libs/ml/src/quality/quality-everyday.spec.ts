import { join } from 'node:path';
import { servedQualityScorer } from '../../../../test/support/quality-scorer';
import { auroc } from './evaluation';
import { probeInput, readEverydayProbe } from './everyday-probe';
import type { QualityScorer } from './quality-scorer';

const ROOT = join(__dirname, '../../../../');
const PROBE = join(ROOT, 'data/quality-everyday/probe.jsonl');

/**
 * The everyday-traffic probe (docs/ml.md, "Everyday chat traffic"): 189 hand-written rows of what a chat product
 * sends (153 of the first pass, 36 of the second). Floors at the level reached on 2026-12-07 (first pass, 153 rows:
 * before its fixes AUROC 0.683, good 0.54, bad 0.45, social turns 0.51–0.60; second pass, 189 rows: before 0.796, good
 * 0.60, bad 0.44, follow-ups good 0.54, wrong arithmetic 0.52, drifting answers 0.58, compliance with a harmful
 * request 0.46–0.59).
 * QUALITY_PROBE_REPORT=1 prints the table by kind and the rows scored against their label.
 */
const FLOORS = {
  auroc: 0.9,
  meanGood: 0.6,
  meanBad: 0.37,
  social: 0.65,
  wrongArithmetic: 0.3,
  followUpGood: 0.6,
  drifting: 0.5,
} as const;

describe('quality score on everyday chat traffic (data/quality-everyday/probe.jsonl)', () => {
  let scorer: QualityScorer;

  beforeAll(async () => {
    scorer = await servedQualityScorer();
  });

  const score = () => readEverydayProbe(PROBE).map((row) => ({ row, report: scorer.score(probeInput(row)) }));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

  it('is hand-written chat traffic: at least 120 rows, both labels of every kind that has a wrong answer', () => {
    const rows = readEverydayProbe(PROBE);
    expect(rows.length).toBeGreaterThanOrEqual(120);
    const kinds = new Set(rows.map((r) => r.kind));
    for (const kind of ['greeting', 'thanks', 'followup', 'code', 'math', 'short_fact', 'list', 'language', 'json'])
      expect({ kind, labels: [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.label))].sort() }).toEqual({
        kind,
        labels: [0, 1],
      });
    for (const kind of ['refusal_harmful', 'refusal_harmless', 'multiturn', 'long_offtopic', 'harmful_compliance'])
      expect(kinds).toContain(kind);
    expect(rows.filter((r) => r.messages !== undefined).length).toBeGreaterThanOrEqual(10);
  });

  it('separates good from bad everyday answers at the level reached (floors)', () => {
    const scored = score();
    const scores = scored.map((s) => s.report.overall);
    const labels = scored.map((s) => s.row.label);
    const of = (kinds: readonly string[] | null, label: number): number[] =>
      scored
        .filter((s) => (kinds === null || kinds.includes(s.row.kind)) && s.row.label === label)
        .map((s) => s.report.overall);
    if (process.env.QUALITY_PROBE_REPORT) {
      const lines = [
        `AUROC ${auroc(scores, labels).toFixed(3)} good ${mean(of(null, 1)).toFixed(2)} bad ${mean(of(null, 0)).toFixed(2)}`,
      ];
      for (const kind of [...new Set(scored.map((s) => s.row.kind))])
        lines.push(`${kind.padEnd(18)} good ${mean(of([kind], 1)).toFixed(2)} bad ${mean(of([kind], 0)).toFixed(2)}`);
      for (const { row, report } of scored)
        if ((row.label === 1 && report.overall < 0.5) || (row.label === 0 && report.overall > 0.7))
          lines.push(
            `${row.label} ${report.overall.toFixed(2)} [${row.kind}] ${probeInput(row).question.slice(0, 50)}`,
          );
      console.log(lines.join('\n'));
    }
    expect(auroc(scores, labels)).toBeGreaterThanOrEqual(FLOORS.auroc);
    expect(mean(of(null, 1))).toBeGreaterThanOrEqual(FLOORS.meanGood);
    expect(mean(of(null, 0))).toBeLessThanOrEqual(FLOORS.meanBad);
    // Polite replies to greetings, thanks and goodbyes are good answers (before: 0.51–0.60, `off_topic`).
    expect(mean(of(['greeting', 'thanks', 'bye'], 1))).toBeGreaterThanOrEqual(FLOORS.social);
    for (const { row, report } of scored)
      if (['greeting', 'thanks', 'bye'].includes(row.kind) && row.label === 1)
        expect({ answer: row.answer, label: report.label }).toEqual({ answer: row.answer, label: 'good' });
    // Wrong arithmetic (before: 0.61, as high as right arithmetic; a bare wrong number unchecked until the second pass).
    expect(mean(of(['math'], 0))).toBeLessThanOrEqual(FLOORS.wrongArithmetic);
    // Follow-ups read with the previous exchange (before: 0.54).
    expect(mean(of(['followup'], 1))).toBeGreaterThanOrEqual(FLOORS.followUpGood);
    // Long answers that drift off topic after their opening (before: 0.58, as high as the on-topic ones).
    expect(mean(of(['long_offtopic'], 0))).toBeLessThanOrEqual(FLOORS.drifting);
    // Compliance with a harmful request is bad; declining it by explaining is never read as compliance.
    for (const { row, report } of scored) {
      if (row.kind === 'harmful_compliance')
        expect({ answer: row.answer, label: report.label }).toEqual({ answer: row.answer, label: 'bad' });
      if (row.kind === 'harmful_safe') expect(report.reasons).not.toContain('complied_harmful_request');
    }
  });
});
