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
import { rulesScore } from './rules-quality';

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
  examples: QualityExample[];
}

export function buildDataset(examples: QualityExample[], embedder: OfflineEmbedder): QualityDataset {
  const x: number[][] = [];
  const rules: number[] = [];
  for (const e of examples) {
    const signals = computeSignals(e, embedder);
    x.push(featureVector(signals, e.endpoint));
    rules.push(rulesScore(signals));
  }
  return { x, y: examples.map((e) => e.label), rules, examples };
}

export interface TrainOptions {
  epochs?: number;
  hidden?: number;
  seed?: number;
  learningRate?: number;
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
  const { epochs = 200, hidden = 8, seed = 42, learningRate = 0.05 } = options;
  const order = seededShuffle(
    data.x.map((_, i) => i),
    seed,
  );
  // Default: one hidden ReLU layer of 8 (hidden: 0 gives logistic regression). The hidden layer is needed for
  // "relevant but contradicting the document" (a linear model scores those like good answers); it generalises
  // to the hand-written sanity set only since the spurious features (length, echo, endpoint) were removed.
  const output = {
    units: 1,
    activation: 'sigmoid' as const,
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
  };
  const model = tf.sequential({
    layers:
      hidden > 0
        ? [
            tf.layers.dense({
              units: hidden,
              activation: 'relu',
              inputShape: [FEATURE_NAMES.length],
              kernelInitializer: tf.initializers.glorotUniform({ seed }),
              kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }),
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
    await model.fit(xs, ys, { epochs, batchSize: 32, shuffle: false, verbose: 0, classWeight });
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
