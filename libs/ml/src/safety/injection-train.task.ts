import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fnv1a } from '../embeddings/tokenize';
import { INJECTION_MODEL_DIR, trainInjectionClassifier } from './injection-classifier';
import { type LabelledPrompt, prf, promptOf, readLabelledPrompts, reportOn } from './injection-evaluation';
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

/** Dev cross-validation fold of a row (5 folds, by a hash of its text: stable across runs). */
export function devFold(row: Pick<LabelledPrompt, 'text' | 'document'>, folds = 5): number {
  return fnv1a(promptOf(row)) % folds;
}

/** Candidate thresholds on the combined score. */
const THRESHOLDS = Array.from({ length: 14 }, (_, i) => 0.3 + i * 0.05);
/** The threshold is chosen for precision first: this is the floor it must hold on the dev folds. */
export const DEV_PRECISION_FLOOR = 0.99;

/**
 * The classifier's own flag threshold: highest F1 (patterns or classifier) among thresholds whose dev precision
 * reaches the floor (else the most precise one).
 */
export function chooseThreshold(
  scores: readonly number[],
  patternFlags: readonly boolean[],
  labels: readonly number[],
): number {
  let best = { t: 0.5, f1: -1, precision: -1 };
  for (const t of THRESHOLDS) {
    const c = prf(
      scores.map((s, i) => patternFlags[i]! || s >= t),
      labels,
    );
    const ok = c.precision >= DEV_PRECISION_FLOOR;
    const better = ok
      ? best.precision < DEV_PRECISION_FLOOR || c.f1 > best.f1
      : best.precision < DEV_PRECISION_FLOOR && c.precision > best.precision;
    if (better) best = { t: round(t), f1: c.f1, precision: c.precision };
  }
  return best.t;
}

const toTraining = (
  rows: readonly InjectionRow[],
  dev: readonly LabelledPrompt[],
): Array<{ text: string; label: number }> => [
  ...rows.map((r) => ({ text: normaliseForInjection(r.text), label: r.label })),
  ...dev.map((r) => ({ text: normaliseForInjection(promptOf(r)), label: r.label === 'attack' ? 1 : 0 })),
];

/**
 * `npm run ml:train -- injection [--data file] [--dev file] [--models dir] [--no-save] [--eval-test [--eval file]]`
 *
 * Trains on the template training split (data/injection/examples.jsonl) + the hand-written development set
 * (data/injection-dev/dev.jsonl), reports the template held-out split, 5-fold cross-validation on dev (each fold
 * scored by a model trained on the templates and the other folds), chooses the flag threshold on those
 * out-of-fold dev scores (precision first), and only with --eval-test evaluates the held-out test set
 * (data/injection-eval/eval.jsonl: aggregate numbers, never trained or tuned on).
 */
export async function trainInjectionTask(args: string[]): Promise<void> {
  const modelsDir = option(args, 'models') ?? 'models';
  const rows = readInjectionRows(option(args, 'data') ?? join('data', 'injection', 'examples.jsonl'));
  const dev = readLabelledPrompts(option(args, 'dev') ?? join('data', 'injection-dev', 'dev.jsonl'));
  const train = rows.filter((r) => !isInjectionHeldOut(r));
  const test = rows.filter(isInjectionHeldOut);
  const devLabels = dev.map((r) => (r.label === 'attack' ? 1 : 0));

  // Dev: out-of-fold combined scores.
  const oof = new Array<number>(dev.length).fill(0);
  const devPatternFlags = dev.map(
    (r) => matchInjectionPatterns(normaliseForInjection(promptOf(r))).score >= INJECTION_THRESHOLD,
  );
  for (let fold = 0; fold < 5; fold++) {
    const model = trainInjectionClassifier(
      toTraining(
        train,
        dev.filter((r) => devFold(r) !== fold),
      ),
    );
    dev.forEach((r, i) => {
      if (devFold(r) === fold) oof[i] = model.probability(normaliseForInjection(promptOf(r)));
    });
  }
  const threshold = chooseThreshold(oof, devPatternFlags, devLabels);
  const classifier = trainInjectionClassifier(toTraining(train, dev)).withThreshold(threshold);
  const detector = new InjectionDetector(classifier);
  const patternsOnly = new InjectionDetector();

  const labels = test.map((r) => r.label);
  const normalised = test.map((r) => normaliseForInjection(r.text));
  const combined = test.map((r) => detector.assess(r.text));
  const templateHeldOut = {
    n: test.length,
    patternsOnly: prf(
      normalised.map((t) => matchInjectionPatterns(t).score >= INJECTION_THRESHOLD),
      labels,
    ),
    classifierOnly: prf(
      normalised.map((t) => classifier.probability(t) >= threshold),
      labels,
    ),
    combined: prf(
      combined.map((a) => a.flagged),
      labels,
    ),
    missed: test
      .filter((r, i) => r.label === 1 && !combined[i]!.flagged)
      .map((r) => `${r.family}: ${r.text.slice(0, 80)}`),
    falseAlarms: test
      .filter((r, i) => r.label === 0 && combined[i]!.flagged)
      .map((r) => `${r.family}: ${r.text.slice(0, 80)}`),
  };
  const devReport = {
    n: dev.length,
    threshold,
    crossValidated: reportOn(
      dev,
      oof.map((s, i) => devPatternFlags[i]! || s >= threshold),
    ),
    patternsOnly: prf(
      dev.map((r) => patternsOnly.assess(promptOf(r)).flagged),
      devLabels,
    ),
    // Per-row misses of the development set (it is there for diagnosis).
    missed: dev
      .filter((r, i) => r.label === 'attack' && !devPatternFlags[i] && oof[i]! < threshold)
      .map((r) => `${r.category}/${r.language}: ${r.text.slice(0, 80)}`),
    falseAlarms: dev
      .filter((r, i) => r.label === 'benign' && (devPatternFlags[i] || oof[i]! >= threshold))
      .map((r) => `${r.category}/${r.language}: ${r.text.slice(0, 80)}`),
  };
  const report: Record<string, unknown> = {
    examples: rows.length,
    train: train.length,
    devRows: dev.length,
    threshold,
    templateHeldOut,
    dev: devReport,
  };
  // Patterns are hand-written, not trained: every benign template row is unseen by them.
  const benign = rows.filter((r) => r.label === 0);
  report.patternsOnAllTemplateBenign = {
    n: benign.length,
    falseAlarms: benign
      .filter((r) => matchInjectionPatterns(normaliseForInjection(r.text)).score >= INJECTION_THRESHOLD)
      .map((r) => r.text.slice(0, 80)),
  };
  if (args.includes('--eval-test')) {
    // The test set: aggregate numbers only (no rows printed), never trained or tuned on.
    const evalRows = readLabelledPrompts(option(args, 'eval') ?? join('data', 'injection-eval', 'eval.jsonl'));
    const evalReport = reportOn(
      evalRows,
      evalRows.map((r) => detector.assess(promptOf(r)).flagged),
    );
    report.evalTest = {
      ...evalReport,
      patternsOnly: prf(
        evalRows.map((r) => patternsOnly.assess(promptOf(r)).flagged),
        evalRows.map((r) => (r.label === 'attack' ? 1 : 0)),
      ),
    };
  }
  if (!args.includes('--no-save')) {
    const dir = join(modelsDir, INJECTION_MODEL_DIR);
    await classifier.save(dir, {
      trainedAt: new Date().toISOString(),
      examples: train.length + dev.length,
      heldOut: {
        templateHeldOut: templateHeldOut.combined,
        devCrossValidated: devReport.crossValidated.overall,
        ...(report.evalTest ? { evalTest: (report.evalTest as { overall: unknown }).overall } : {}),
      },
    });
    report.saved = dir;
  }
  console.log(JSON.stringify(report, null, 2));
}
