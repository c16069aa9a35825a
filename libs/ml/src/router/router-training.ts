import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel, Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs';
import { fileSaveHandler, type Tf } from '../tfjs';
import { auroc } from '../quality/evaluation';
import {
  type LogTarget,
  routeInputRow,
  ROUTER_FEATURE_NAMES,
  ROUTER_MODEL_VERSION,
  RouterModel,
  type RouterModelMeta,
} from './router-model';
import type { RouteFeatures } from './router.types';

/** One call's outcome, as the trainer learns from it (a ledger row whose routing decodes). */
export interface RouterOutcome {
  features: RouteFeatures;
  model: string;
  /** The call answered (ledger status ok). An error or a safety block counts as quality 0 for the quality heads. */
  ok: boolean;
  /** The quality score of an answered call (0..1). */
  quality: number;
  latencyMs: number;
  outputTokens: number;
  /** What the held-out split groups by (the prompt hash): every model's call for one prompt lands on one side. */
  group: string;
}

export interface RouterTrainOptions {
  /** Quality thresholds of the P(quality ≥ t) heads. */
  thresholds?: readonly number[];
  hidden?: readonly number[];
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  l2?: number;
  seed?: number;
  /** The models in one-hot order (default: as first seen, sorted). */
  models?: readonly string[];
  onEpoch?: (epoch: number, loss: number) => void;
}

export const DEFAULT_THRESHOLDS: readonly number[] = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9];

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME) >>> 0;
  return h;
}

/** The held-out side of a group: a fixed share of prompt hashes (stable across runs and data sets). */
export function isHeldOutGroup(group: string, share = 0.2): boolean {
  return (fnv(`router-holdout:${group}`) % 1000) / 1000 < share;
}

export function splitOutcomes<T extends Pick<RouterOutcome, 'group'>>(
  outcomes: readonly T[],
  share = 0.2,
): { train: T[]; heldOut: T[] } {
  const train: T[] = [];
  const heldOut: T[] = [];
  for (const o of outcomes) (isHeldOutGroup(o.group, share) ? heldOut : train).push(o);
  return { train, heldOut };
}

function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function logTarget(values: readonly number[]): LogTarget {
  const logs = values.map((v) => Math.log(Math.max(1, v)));
  const mean = logs.reduce((a, b) => a + b, 0) / Math.max(1, logs.length);
  const variance = logs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, logs.length);
  return { mean, std: Math.sqrt(variance) || 1 };
}

/** Binary cross-entropy on logits, elementwise: max(z, 0) − z·y + log(1 + e^−|z|). */
function bceWithLogits(tf: Tf, z: Tensor, y: Tensor): Tensor {
  return tf
    .relu(z)
    .sub(z.mul(y))
    .add(tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
}

/**
 * Trains the router's network: inputs ROUTER_FEATURE_NAMES + the model's one-hot; outputs the logits of
 * P(quality ≥ t) per threshold and of the expected quality (cross-entropy against the 0/1 "meets" labels and the
 * score itself), then standardised log latency and log output tokens (squared error, answered calls only).
 * Adam, mini-batches, seeded initialisers and shuffling: the same data gives the same model.
 */
export async function trainRouterModel(
  tf: Tf,
  outcomes: readonly RouterOutcome[],
  options: RouterTrainOptions = {},
): Promise<{ model: LayersModel; meta: Omit<RouterModelMeta, 'trainedAt' | 'source' | 'heldOut'> }> {
  const {
    thresholds = DEFAULT_THRESHOLDS,
    hidden = [32, 32],
    epochs = 30,
    batchSize = 256,
    learningRate = 0.003,
    l2 = 1e-5,
    seed = 7,
  } = options;
  if (outcomes.length === 0) throw new Error('no outcomes to train the router on');
  const models = options.models ?? [...new Set(outcomes.map((o) => o.model))].sort();
  const index = new Map(models.map((m, i) => [m, i]));
  const rows = outcomes.filter((o) => index.has(o.model));
  const answered = rows.filter((o) => o.ok);
  const targets = {
    latencyMs: logTarget(answered.map((o) => o.latencyMs)),
    outputTokens: logTarget(answered.map((o) => o.outputTokens)),
  };
  const k = thresholds.length;
  const width = k + 3;
  const x: number[][] = [];
  const y: number[][] = [];
  const mask: number[][] = [];
  for (const o of rows) {
    x.push(routeInputRow(o.features, index.get(o.model)!, models.length));
    const q = o.ok ? Math.min(1, Math.max(0, o.quality)) : 0;
    y.push([
      ...thresholds.map((t) => (o.ok && q >= t ? 1 : 0)),
      q,
      o.ok ? (Math.log(Math.max(1, o.latencyMs)) - targets.latencyMs.mean) / targets.latencyMs.std : 0,
      o.ok ? (Math.log(Math.max(1, o.outputTokens)) - targets.outputTokens.mean) / targets.outputTokens.std : 0,
    ]);
    mask.push(o.ok ? [1, 1] : [0, 0]);
  }

  const inputs = ROUTER_FEATURE_NAMES.length + models.length;
  const layers = hidden.map((units, i) =>
    tf.layers.dense({
      units,
      activation: 'relu',
      ...(i === 0 ? { inputShape: [inputs] } : {}),
      kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
    }),
  );
  const model = tf.sequential({
    layers: [
      ...layers,
      tf.layers.dense({
        units: width,
        activation: 'linear',
        ...(hidden.length === 0 ? { inputShape: [inputs] } : {}),
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 100 }),
      }),
    ],
  });

  // L2 on the kernels (not the biases), added to the loss by hand: the loop below does not compile the model.
  const kernels = model.trainableWeights.filter((w) => w.name.includes('kernel'));
  const optimizer = tf.train.adam(learningRate);
  const random = seededRandom(seed);
  const order = rows.map((_, i) => i);
  const lossOf = (xb: Tensor2D, yb: Tensor2D, mb: Tensor2D): Scalar =>
    tf.tidy(() => {
      const out = model.apply(xb, { training: true }) as Tensor2D;
      const logits = out.slice([0, 0], [-1, k + 1]);
      const labels = yb.slice([0, 0], [-1, k + 1]);
      const classification = bceWithLogits(tf, logits, labels).mean();
      const regression = out
        .slice([0, k + 1], [-1, 2])
        .sub(yb.slice([0, k + 1], [-1, 2]))
        .square()
        .mul(mb)
        .sum()
        .div(mb.sum().add(1e-6));
      const penalty = tf.addN(kernels.map((w) => w.read().square().sum())).mul(l2);
      return classification
        .mul<Scalar>(k + 1)
        .add<Scalar>(regression.mul(0.5))
        .add<Scalar>(penalty);
    });

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let sum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const ids = order.slice(start, start + batchSize);
      const xb = tf.tensor2d(ids.map((i) => x[i]!));
      const yb = tf.tensor2d(ids.map((i) => y[i]!));
      const mb = tf.tensor2d(ids.map((i) => mask[i]!));
      const loss = optimizer.minimize(() => lossOf(xb, yb, mb), true);
      sum += loss ? (await loss.data())[0]! : 0;
      batches += 1;
      loss?.dispose();
      xb.dispose();
      yb.dispose();
      mb.dispose();
    }
    options.onEpoch?.(epoch + 1, sum / Math.max(1, batches));
  }
  optimizer.dispose();
  return {
    model,
    meta: {
      version: ROUTER_MODEL_VERSION,
      features: ROUTER_FEATURE_NAMES,
      models,
      thresholds,
      targets,
      trainedOn: rows.length,
    },
  };
}

/** Held-out metrics of a router model on outcomes it was not trained on. */
export interface RouterEvaluation {
  outcomes: number;
  /** Per quality threshold: AUROC and Brier score of P(quality ≥ t), and the observed rate. */
  meets: { threshold: number; auroc: number; brier: number; rate: number }[];
  /** Mean absolute error of the expected quality (errors count as 0). */
  qualityMae: number;
  /** Mean absolute error of log latency and log output tokens (answered calls): e^x − 1 is the typical ratio off. */
  latencyLogMae: number;
  outputTokensLogMae: number;
  /** Per model: observed vs predicted mean quality. */
  byModel: { model: string; outcomes: number; meanQuality: number; meanPredicted: number }[];
}

export function evaluateRouterModel(
  router: RouterModel,
  outcomes: readonly RouterOutcome[],
  thresholds: readonly number[] = router.meta?.thresholds ?? DEFAULT_THRESHOLDS,
): RouterEvaluation {
  const predictions = outcomes.map((o) => ({
    o,
    q: o.ok ? o.quality : 0,
    at: thresholds.map((t) => router.predict(o.features, [o.model], t)[0]),
  }));
  const usable = predictions.filter((p) => p.at.every((a) => a !== undefined));
  const meets = thresholds.map((t, i) => {
    const scores = usable.map((p) => p.at[i]!.pMeetsQuality);
    const labels: number[] = usable.map((p) => (p.o.ok && p.q >= t ? 1 : 0));
    const brier = scores.reduce((a, s, j) => a + (s - labels[j]!) ** 2, 0) / Math.max(1, scores.length);
    const rate = labels.reduce((a, b) => a + b, 0) / Math.max(1, labels.length);
    return { threshold: t, auroc: round(auroc(scores, labels)), brier: round(brier), rate: round(rate) };
  });
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const answered = usable.filter((p) => p.o.ok);
  const models = [...new Set(usable.map((p) => p.o.model))].sort();
  return {
    outcomes: usable.length,
    meets,
    qualityMae: round(mean(usable.map((p) => Math.abs(p.at[0]!.expectedQuality - p.q)))),
    latencyLogMae: round(
      mean(answered.map((p) => Math.abs(Math.log(p.at[0]!.latencyMs) - Math.log(Math.max(1, p.o.latencyMs))))),
    ),
    outputTokensLogMae: round(
      mean(answered.map((p) => Math.abs(Math.log(p.at[0]!.outputTokens) - Math.log(Math.max(1, p.o.outputTokens))))),
    ),
    byModel: models.map((model) => {
      const own = usable.filter((p) => p.o.model === model);
      return {
        model,
        outcomes: own.length,
        meanQuality: round(mean(own.map((p) => p.q))),
        meanPredicted: round(mean(own.map((p) => p.at[0]!.expectedQuality))),
      };
    }),
  };
}

/** Writes model.json + weights.bin + meta.json under `dir`. */
export async function saveRouterModel(model: LayersModel, dir: string, meta: RouterModelMeta): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(fileSaveHandler(dir));
  await writeFile(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

function round(value: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
