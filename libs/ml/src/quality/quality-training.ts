import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { fileSaveHandler, type Tf } from '../tfjs';
import type { OfflineEmbedder } from '../embeddings/offline-embedder';
import { fnv1a } from '../embeddings/tokenize';
import { auroc, calibration, type Calibration } from './evaluation';
import type { QualityModelMeta } from './quality-model';
import { computeSignals, FEATURE_NAMES, featureVector } from './quality-signals';
import type { QualityInput } from './quality.types';
import { isFailureToAnswer, rulesScore } from './rules-quality';

export interface QualityExample extends QualityInput {
  id: string;
  group: string;
  kind: string;
  label: 0 | 1;
}

export function readQualityExamples(path: string): QualityExample[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as QualityExample);
}

/**
 * The hand-written evaluation set (data/quality-eval/eval.jsonl): rows omit what they share (endpoint `qa`,
 * finish reason `stop`, not blocked) and carry no id; never used for training.
 */
export function readQualityEvalSet(path: string): QualityExample[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const row = JSON.parse(line) as Partial<QualityExample> & Pick<QualityExample, 'question' | 'answer' | 'label'>;
      return {
        ...row,
        id: `eval-${i + 1}`,
        group: row.group ?? 'eval',
        kind: row.kind ?? 'unknown',
        endpoint: row.endpoint ?? 'qa',
        finishReason: row.finishReason ?? 'stop',
        safetyBlocked: row.safetyBlocked ?? false,
      };
    });
}

/** Fold (0-4) of an example's group (topic or reasoning prompt), by a hash: groups never straddle folds. */
export function foldOf(example: Pick<QualityExample, 'group'>): number {
  return fnv1a(example.group) % 5;
}

/** Held-out split by group: fold 0, about one group in five. */
export function isHeldOut(example: Pick<QualityExample, 'group'>): boolean {
  return foldOf(example) === 0;
}

export interface QualityDataset {
  x: number[][];
  y: number[];
  rules: number[];
  /** Failure to answer (refusal, empty, truncated, blocked): the scorer caps these at 0.2. */
  failure: boolean[];
  examples: QualityExample[];
}

export function buildDataset(examples: QualityExample[], embedder: OfflineEmbedder): QualityDataset {
  const x: number[][] = [];
  const rules: number[] = [];
  const failure: boolean[] = [];
  for (const e of examples) {
    const signals = computeSignals(e, embedder);
    x.push(featureVector(signals, e.endpoint));
    rules.push(rulesScore(signals));
    failure.push(isFailureToAnswer(signals));
  }
  return { x, y: examples.map((e) => e.label), rules, failure, examples };
}

/** The scores the scorer serves: the model's, capped at 0.2 for a failure to answer (as QualityScorer does). */
export function servedScores(scores: readonly number[], data: Pick<QualityDataset, 'failure'>): number[] {
  return scores.map((s, i) => (data.failure[i] ? Math.min(s, 0.2) : s));
}

export interface TrainOptions {
  epochs?: number;
  hidden?: number;
  seed?: number;
  learningRate?: number;
  /**
   * Non-negative kernels (default true): every feature is oriented higher-is-better, so the score can only
   * rise when a signal improves (more grounded, more relevant...), in every region of the input space,
   * including the regions the synthetic training set never visits.
   */
  monotone?: boolean;
}

function seededShuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Trains the dense network (features → hidden ReLU → sigmoid P(good)) deterministically. */
export async function trainQualityModel(
  tf: Tf,
  data: Pick<QualityDataset, 'x' | 'y'>,
  options: TrainOptions = {},
): Promise<LayersModel> {
  const { epochs = 200, hidden = 8, seed = 42, learningRate = 0.05, monotone = true } = options;
  const kernelConstraint = monotone ? tf.constraints.nonNeg() : undefined;
  // Monotone: start from small non-negative kernels (a Glorot start projected onto w >= 0 zeroes half the
  // weights and, with 20+ inputs, can leave every hidden unit dead: a constant model).
  const initializer = (s: number): ReturnType<Tf['initializers']['glorotUniform']> =>
    monotone
      ? tf.initializers.randomUniform({ minval: 0, maxval: 2 / FEATURE_NAMES.length, seed: s })
      : tf.initializers.glorotUniform({ seed: s });
  const order = seededShuffle(
    data.x.map((_, i) => i),
    seed,
  );
  // Default: one hidden ReLU layer of 8 (hidden: 0 gives logistic regression), both layers with non-negative
  // kernels (monotone; the biases are free, so a unit can still act as a soft AND: "relevant and not
  // contradicting the document"). The unconstrained network of v1 learned shapes the templates never tested:
  // it scored an answer restating its document 0.06 and the same answer without the document 0.96.
  const output = {
    units: 1,
    activation: 'sigmoid' as const,
    kernelInitializer: initializer(seed + 1),
    kernelConstraint,
  };
  const model = tf.sequential({
    layers:
      hidden > 0
        ? [
            tf.layers.dense({
              units: hidden,
              activation: 'relu',
              inputShape: [FEATURE_NAMES.length],
              kernelInitializer: initializer(seed),
              kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }),
              kernelConstraint,
            }),
            tf.layers.dense(output),
          ]
        : [
            tf.layers.dense({
              ...output,
              inputShape: [FEATURE_NAMES.length],
              kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }),
            }),
          ],
  });
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'binaryCrossentropy' });
  const xs = tf.tensor2d(order.map((i) => data.x[i]!));
  const ys = tf.tensor2d(order.map((i) => [data.y[i]!]));
  try {
    // Balanced class weights: the labelled set has about two failures per good answer, far more than real
    // traffic; without this the model's P(good) for a plain correct answer sits near the set's base rate.
    const positives = data.y.filter((y) => y === 1).length;
    const negatives = data.y.length - positives;
    const classWeight = {
      0: data.y.length / (2 * Math.max(1, negatives)),
      1: data.y.length / (2 * Math.max(1, positives)),
    };
    // tfjs applies a kernel constraint only when a weight is written (setWeights, loading), not after the
    // optimizer's updates: project the kernels after every batch (projected gradient descent), so the trained
    // model is the one that is saved and loaded.
    const project = (): void => {
      if (!monotone) return;
      for (const layer of model.layers) {
        const [kernel, ...rest] = layer.getWeights();
        if (!kernel) continue;
        const projected = tf.relu(kernel);
        layer.setWeights([projected, ...rest]);
        projected.dispose();
      }
    };
    project();
    await model.fit(xs, ys, {
      epochs,
      batchSize: 32,
      shuffle: false,
      verbose: 0,
      classWeight,
      callbacks: { onBatchEnd: () => Promise.resolve(project()) },
    });
  } finally {
    xs.dispose();
    ys.dispose();
  }
  return model;
}

export interface QualityEvaluation {
  examples: number;
  auroc: number;
  calibration: Calibration;
  rulesAuroc: number;
  byKind: Record<string, { count: number; meanScore: number }>;
}

export function evaluateScores(scores: number[], data: QualityDataset): QualityEvaluation {
  const byKind: Record<string, { count: number; meanScore: number }> = {};
  data.examples.forEach((e, i) => {
    const k = (byKind[e.kind] ??= { count: 0, meanScore: 0 });
    k.meanScore = (k.meanScore * k.count + scores[i]!) / (k.count + 1);
    k.count += 1;
  });
  return {
    examples: scores.length,
    auroc: auroc(scores, data.y),
    calibration: calibration(scores, data.y),
    rulesAuroc: auroc(data.rules, data.y),
    byKind,
  };
}

export function predictAll(tf: Tf, model: LayersModel, x: number[][]): number[] {
  return tf.tidy(() =>
    Array.from(
      (model.predict(tf.tensor2d(x, [x.length, FEATURE_NAMES.length])) as ReturnType<Tf['tensor2d']>).dataSync(),
    ),
  );
}

export async function saveQualityModel(
  model: LayersModel,
  dir: string,
  meta: Omit<QualityModelMeta, 'features'>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(fileSaveHandler(dir));
  await writeFile(join(dir, 'meta.json'), `${JSON.stringify({ features: FEATURE_NAMES, ...meta }, null, 2)}\n`);
}

/** Rows no offline scorer can judge: a wrong fact without a document to check it against. */
export const OUT_OF_SCOPE_KINDS: ReadonlySet<string> = new Set(['wrong_no_doc']);

export interface SetEvaluation {
  examples: number;
  /** AUROC of the served score on every row. */
  auroc: number;
  /** AUROC without the out-of-scope rows (OUT_OF_SCOPE_KINDS). */
  aurocInScope: number;
  /** AUROC of each model input alone, and of the rules fallback, on the in-scope rows. */
  signals: Record<string, number>;
  meanGoodWithDocument: number;
  meanGoodWithoutDocument: number;
  /** Mean served score of the in-scope bad rows. */
  meanBad: number;
  /** Mean served score by kind, "kind" or "kind +doc". */
  byKind: Record<string, { label: number; n: number; mean: number }>;
}

const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;

/** AUROC, calibration levels and per-kind means of served scores on a labelled set (held-out or evaluation). */
export function evaluateSet(served: readonly number[], data: QualityDataset): SetEvaluation {
  const rows = data.examples.map((e, i) => ({ e, score: served[i]!, x: data.x[i]!, rules: data.rules[i]! }));
  const inScope = rows.filter((r) => !OUT_OF_SCOPE_KINDS.has(r.e.kind));
  const y = inScope.map((r) => r.e.label);
  const signals: Record<string, number> = {};
  FEATURE_NAMES.forEach(
    (name, j) =>
      (signals[name] = auroc(
        inScope.map((r) => r.x[j]!),
        y,
      )),
  );
  signals.rules_fallback = auroc(
    inScope.map((r) => r.rules),
    y,
  );
  const byKind: SetEvaluation['byKind'] = {};
  for (const r of rows) {
    const key = `${r.e.kind}${r.e.document ? ' +doc' : ''}`;
    const k = (byKind[key] ??= { label: r.e.label, n: 0, mean: 0 });
    k.mean = (k.mean * k.n + r.score) / (k.n + 1);
    k.n += 1;
  }
  return {
    examples: rows.length,
    auroc: auroc(
      rows.map((r) => r.score),
      rows.map((r) => r.e.label),
    ),
    aurocInScope: auroc(
      inScope.map((r) => r.score),
      y,
    ),
    signals,
    meanGoodWithDocument: mean(inScope.filter((r) => r.e.label === 1 && r.e.document).map((r) => r.score)),
    meanGoodWithoutDocument: mean(inScope.filter((r) => r.e.label === 1 && !r.e.document).map((r) => r.score)),
    meanBad: mean(inScope.filter((r) => r.e.label === 0).map((r) => r.score)),
    byKind,
  };
}
