import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fnv1a } from '../embeddings/tokenize';
import { confusion } from '../quality/evaluation';
import { INJECTION_MODEL_DIR, trainInjectionClassifier } from './injection-classifier';
import { INJECTION_THRESHOLD, InjectionDetector } from './injection-detector';
import { matchInjectionPatterns, normaliseForInjection } from './injection-patterns';

export interface InjectionRow {
  text: string;
  label: 0 | 1;
  family: string;
  template: string;
}

export function readInjectionRows(path: string): InjectionRow[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as InjectionRow);
}

/** Held-out split by template: test rows come from templates never seen in training (about one in four). */
export function isInjectionHeldOut(row: Pick<InjectionRow, 'template'>): boolean {
  return fnv1a(row.template) % 4 === 0;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

/** `npm run ml:train -- injection [--data file] [--models dir] [--no-save]` */
export async function trainInjectionTask(args: string[]): Promise<void> {
  const modelsDir = option(args, 'models') ?? 'models';
  const rows = readInjectionRows(option(args, 'data') ?? join('data', 'injection', 'examples.jsonl'));
  const train = rows.filter((r) => !isInjectionHeldOut(r));
  const test = rows.filter(isInjectionHeldOut);
  const classifier = trainInjectionClassifier(
    train.map((r) => ({ text: normaliseForInjection(r.text), label: r.label })),
  );
  const detector = new InjectionDetector(classifier);
  const labels = test.map((r) => r.label);
  const normalised = test.map((r) => normaliseForInjection(r.text));
  const summary = (c: ReturnType<typeof confusion>): Record<string, number> => ({
    precision: round(c.precision),
    recall: round(c.recall),
    f1: round(c.f1),
    tp: c.tp,
    fp: c.fp,
    fn: c.fn,
    tn: c.tn,
  });
  const combined = test.map((r) => detector.assess(r.text));
  const report = {
    examples: rows.length,
    train: train.length,
    heldOut: test.length,
    heldOutInjections: labels.filter((y) => y === 1).length,
    patternsOnly: summary(
      confusion(
        normalised.map((t) => matchInjectionPatterns(t).score >= INJECTION_THRESHOLD),
        labels,
      ),
    ),
    classifierOnly: summary(
      confusion(
        normalised.map((t) => classifier.probability(t) >= INJECTION_THRESHOLD),
        labels,
      ),
    ),
    combined: summary(
      confusion(
        combined.map((a) => a.flagged),
        labels,
      ),
    ),
    missed: test
      .filter((r, i) => r.label === 1 && !combined[i]!.flagged)
      .map((r) => `${r.family}: ${r.text.slice(0, 80)}`),
    falseAlarms: test
      .filter((r, i) => r.label === 0 && combined[i]!.flagged)
      .map((r) => `${r.family}: ${r.text.slice(0, 80)}`),
  };
  // Generalisation to an unseen attack family: train without it, measure its recall (patterns + classifier).
  const families = [...new Set(rows.filter((r) => r.label === 1).map((r) => r.family))];
  const leaveOneFamilyOut: Record<string, { recall: number; classifierOnlyRecall: number; n: number }> = {};
  for (const family of families) {
    const rest = rows.filter((r) => r.family !== family && !isInjectionHeldOut(r));
    const held = rows.filter((r) => r.family === family);
    const lofo = trainInjectionClassifier(rest.map((r) => ({ text: normaliseForInjection(r.text), label: r.label })));
    const lofoDetector = new InjectionDetector(lofo);
    leaveOneFamilyOut[family] = {
      n: held.length,
      recall: round(held.filter((r) => lofoDetector.assess(r.text).flagged).length / held.length),
      classifierOnlyRecall: round(
        held.filter((r) => lofo.probability(normaliseForInjection(r.text)) >= INJECTION_THRESHOLD).length / held.length,
      ),
    };
  }
  // Patterns are hand-written, not trained: every benign row is unseen by them.
  const benign = rows.filter((r) => r.label === 0);
  const patternFalseAlarms = benign.filter(
    (r) => matchInjectionPatterns(normaliseForInjection(r.text)).score >= INJECTION_THRESHOLD,
  );
  Object.assign(report, {
    leaveOneFamilyOut,
    patternsOnAllBenign: { n: benign.length, falseAlarms: patternFalseAlarms.map((r) => r.text.slice(0, 80)) },
  });
  if (!args.includes('--no-save')) {
    const dir = join(modelsDir, INJECTION_MODEL_DIR);
    await classifier.save(dir, {
      trainedAt: new Date().toISOString(),
      examples: train.length,
      heldOut: { patternsOnly: report.patternsOnly, classifierOnly: report.classifierOnly, combined: report.combined },
    });
    Object.assign(report, { saved: dir });
  }
  console.log(JSON.stringify(report, null, 2));
}
