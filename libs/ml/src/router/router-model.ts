import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { compileDenseStack, DenseStack, fileLoadHandler, loadTfjs, type Tf } from '../tfjs';
import {
  type CandidatePrediction,
  RoutePredictor,
  type RouteFeatures,
  type RoutePredictorStatus,
} from './router.types';

export const ROUTER_MODEL_DIR = 'router';
/** Version of the artifact layout (meta.json `version`); another version is refused. */
export const ROUTER_MODEL_VERSION = 1;

const ENDPOINTS = ['qa', 'reason', 'chat', 'stress'] as const;
const QUESTION_TYPES = ['factual', 'how', 'why', 'compare', 'open', 'instruction', 'other'] as const;

/**
 * The request inputs, in order (the model's one-hot follows them). Sizes are log-scaled (log1p / log 1e5, so a
 * 100k-token prompt is 1); flags are 0/1.
 */
export const ROUTER_FEATURE_NAMES: readonly string[] = [
  ...ENDPOINTS.map((e) => `endpoint_${e}`),
  ...QUESTION_TYPES.map((q) => `question_${q}`),
  'log_prompt_tokens',
  'log_document_tokens',
  'log_words',
  'has_document',
  'code',
  'math',
  'multi_step',
];

const LOG_SCALE = 1 / Math.log(1e5);
const FLAG_OFFSET = ENDPOINTS.length + QUESTION_TYPES.length;

/** Writes the request inputs of `features` into `out[0..ROUTER_FEATURE_NAMES.length)`. */
export function writeRouteInputs(features: RouteFeatures, out: Float64Array | number[]): void {
  for (let i = 0; i < FLAG_OFFSET + 7; i++) out[i] = 0;
  const e = ENDPOINTS.indexOf(features.endpoint as (typeof ENDPOINTS)[number]);
  if (e >= 0) out[e] = 1;
  const q = QUESTION_TYPES.indexOf(features.questionType as (typeof QUESTION_TYPES)[number]);
  out[ENDPOINTS.length + (q >= 0 ? q : QUESTION_TYPES.length - 1)] = 1;
  out[FLAG_OFFSET] = Math.log1p(Math.max(0, features.promptTokens)) * LOG_SCALE;
  out[FLAG_OFFSET + 1] = Math.log1p(Math.max(0, features.documentTokens)) * LOG_SCALE;
  out[FLAG_OFFSET + 2] = Math.log1p(Math.max(0, features.words)) * LOG_SCALE;
  out[FLAG_OFFSET + 3] = features.hasDocument ? 1 : 0;
  out[FLAG_OFFSET + 4] = features.code ? 1 : 0;
  out[FLAG_OFFSET + 5] = features.math ? 1 : 0;
  out[FLAG_OFFSET + 6] = features.multiStep ? 1 : 0;
}

/** One training or inference row: the request inputs, then the one-hot of `modelIndex` among `modelCount` models. */
export function routeInputRow(features: RouteFeatures, modelIndex: number, modelCount: number): number[] {
  const row = new Array<number>(ROUTER_FEATURE_NAMES.length + modelCount).fill(0);
  writeRouteInputs(features, row);
  row[ROUTER_FEATURE_NAMES.length + modelIndex] = 1;
  return row;
}

/** Standardisation of a log-scaled regression target. */
export interface LogTarget {
  mean: number;
  std: number;
}

/** Metadata written beside model.json by the trainer (`npm run ml:train -- router`). */
export interface RouterModelMeta {
  version: number;
  /** The request inputs, in order (ROUTER_FEATURE_NAMES when trained). */
  features: readonly string[];
  /** The models, in the order of their one-hot (the evidence the model has). */
  models: readonly string[];
  /** Quality thresholds of the P(quality ≥ t) heads, ascending (the first outputs, as logits). */
  thresholds: readonly number[];
  /** Then the expected quality (logit), log latency and log output tokens (standardised by these). */
  targets: { latencyMs: LogTarget; outputTokens: LogTarget };
  /** Outcomes trained on (rows: one per call, i.e. per request and model). */
  trainedOn: number;
  trainedAt: string;
  /** `simulated` (the generator + simulator + real scorer) or `ledger` (the service's own outcomes). */
  source: string;
  /** Held-out metrics (split by prompt hash), as the trainer printed them. */
  heldOut: Record<string, unknown>;
  /** The decider's confidence tuned on the held-out rows of the training data for min_quality 0.5 (GOOD_THRESHOLD). */
  confidence?: number;
  /** That tuning: the replay of the held-out rows for each confidence tried. */
  development?: Record<string, unknown>;
  hyperParameters?: Record<string, unknown>;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * The learned predictor behind `ROUTER_MODE=learned`: a small TensorFlow.js dense network over the request's features
 * and the candidate model's one-hot, with heads P(quality ≥ t) for a few thresholds t (interpolated for the requested
 * minimum), expected quality, log latency and log output tokens. Trained by `npm run ml:train -- router`, loaded from
 * `<MODELS_DIR>/router`; `predict` runs the dense stack as plain JS (a few microseconds per candidate). Without a
 * readable model, `status().loaded` is false and `predict` throws: the router serves its rules and says so.
 */
export class RouterModel extends RoutePredictor {
  private readonly stack?: DenseStack;
  private readonly input: Float64Array;
  private readonly modelIndex: ReadonlyMap<string, number>;

  private constructor(
    private readonly state: RoutePredictorStatus,
    readonly meta?: RouterModelMeta,
    private readonly model?: LayersModel,
    private readonly tf?: Tf,
  ) {
    super();
    const layers = model ? compileDenseStack(model) : undefined;
    if (model && !layers) throw new Error('router model is not a stack of dense layers');
    this.stack = layers ? new DenseStack(layers) : undefined;
    this.input = new Float64Array(ROUTER_FEATURE_NAMES.length + (meta?.models.length ?? 0));
    this.modelIndex = new Map((meta?.models ?? []).map((m, i) => [m, i]));
  }

  /** A predictor with no model (status says why; predict throws). */
  static unloaded(reason: string): RouterModel {
    return new RouterModel({ loaded: false, reason, trainedOn: 0, models: [] });
  }

  /** Wraps a trained tfjs model; throws when its shape does not match the metadata. */
  static fromLayers(tf: Tf, model: LayersModel, meta: RouterModelMeta): RouterModel {
    if (meta.version !== ROUTER_MODEL_VERSION) {
      throw new Error(`router model version ${String(meta.version)}, expected ${ROUTER_MODEL_VERSION}; retrain it`);
    }
    if (meta.features.join(',') !== ROUTER_FEATURE_NAMES.join(',')) {
      throw new Error('router model was trained on another feature list; retrain it (npm run ml:train -- router)');
    }
    const inputs = model.inputs[0]?.shape[1];
    const outputs = model.outputs[0]?.shape[1];
    if (inputs !== ROUTER_FEATURE_NAMES.length + meta.models.length || outputs !== meta.thresholds.length + 3) {
      throw new Error(`router model shape ${inputs}→${outputs} does not match its meta.json`);
    }
    const status: RoutePredictorStatus = {
      loaded: true,
      trainedOn: meta.trainedOn,
      trainedAt: meta.trainedAt,
      models: [...meta.models],
      ...(meta.confidence !== undefined ? { confidence: meta.confidence } : {}),
    };
    return new RouterModel(status, meta, model, tf);
  }

  /**
   * Loads `<dir>/model.json` + `weights.bin` + `meta.json`. Never throws: a missing or unreadable model gives a
   * predictor whose status says why.
   */
  static async load(dir: string): Promise<RouterModel> {
    let meta: RouterModelMeta;
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as RouterModelMeta;
    } catch (error) {
      const message = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
      return RouterModel.unloaded(`no router model in ${dir} (meta.json ${message}); npm run ml:train -- router`);
    }
    try {
      const { tf } = await loadTfjs();
      const model = await tf.loadLayersModel(fileLoadHandler(dir));
      return RouterModel.fromLayers(tf, model, meta);
    } catch (error) {
      return RouterModel.unloaded(`router model in ${dir} unreadable: ${(error as Error).message}`);
    }
  }

  status(): RoutePredictorStatus {
    return this.state;
  }

  get layers(): LayersModel | undefined {
    return this.model;
  }

  predict(
    features: RouteFeatures,
    candidates: readonly string[],
    minQuality: number,
  ): (CandidatePrediction | undefined)[] {
    const { stack, meta } = this;
    if (!stack || !meta) throw new Error(this.state.reason ?? 'no router model loaded');
    const base = ROUTER_FEATURE_NAMES.length;
    writeRouteInputs(features, this.input);
    const out: (CandidatePrediction | undefined)[] = [];
    for (const model of candidates) {
      const index = this.modelIndex.get(model);
      if (index === undefined) {
        out.push(undefined);
        continue;
      }
      for (let m = 0; m < meta.models.length; m++) this.input[base + m] = m === index ? 1 : 0;
      out.push(this.decode(model, stack.forward(this.input), minQuality));
    }
    return out;
  }

  /** The raw outputs through tfjs (tests compare the plain-JS pass against it). */
  predictRaw(rows: readonly number[][]): number[][] {
    const { tf, model } = this;
    if (!tf || !model) throw new Error(this.state.reason ?? 'no router model loaded');
    return tf.tidy(() => (model.predict(tf.tensor2d(rows as number[][])) as Tensor).arraySync() as number[][]);
  }

  /** The raw outputs of the plain-JS forward pass for one row. */
  forwardRaw(row: readonly number[]): number[] {
    if (!this.stack) throw new Error(this.state.reason ?? 'no router model loaded');
    return Array.from(this.stack.forward(row));
  }

  private decode(model: string, raw: Float64Array, minQuality: number): CandidatePrediction {
    const meta = this.meta!;
    const k = meta.thresholds.length;
    return {
      model,
      pMeetsQuality: meetsProbability(meta.thresholds, raw, minQuality),
      expectedQuality: sigmoid(raw[k]!),
      latencyMs: Math.exp(raw[k + 1]! * meta.targets.latencyMs.std + meta.targets.latencyMs.mean),
      outputTokens: Math.max(
        1,
        Math.round(Math.exp(raw[k + 2]! * meta.targets.outputTokens.std + meta.targets.outputTokens.mean)),
      ),
    };
  }
}

/**
 * P(quality ≥ minQuality) from the threshold heads' logits (`raw[0..thresholds.length)`): made non-increasing in t,
 * then interpolated linearly between the thresholds, with P(q ≥ 0) = 1 and P(q ≥ 1) = 0 at the ends.
 */
export function meetsProbability(thresholds: readonly number[], raw: ArrayLike<number>, minQuality: number): number {
  const q = Math.min(1, Math.max(0, minQuality));
  let prevT = 0;
  let prevP = 1;
  for (let i = 0; i < thresholds.length; i++) {
    const t = thresholds[i]!;
    const p = Math.min(prevP, sigmoid(raw[i]!));
    if (q <= t) return t === prevT ? p : prevP + ((p - prevP) * (q - prevT)) / (t - prevT);
    prevT = t;
    prevP = p;
  }
  return prevT >= 1 ? prevP : prevP * (1 - (q - prevT) / (1 - prevT));
}
