import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { compileDenseStack, DenseStack, fileLoadHandler, loadTfjs, type Tf } from '../tfjs';
import { FEATURE_NAMES } from './quality-signals';

export const QUALITY_MODEL_DIR = 'quality';

/** Metadata written next to model.json by the trainer. */
export interface QualityModelMeta {
  features: readonly string[];
  embedder: string;
  trainedAt: string;
  examples: number;
  heldOut: { auroc: number; ece: number; brier: number; examples: number };
  /** Non-negative kernels: the score never falls when a signal improves. */
  monotone?: boolean;
  /** Platt calibration folded into the output layer (fit on out-of-fold development-set scores). */
  calibration?: { method: 'platt'; a: number; b: number };
  /** The hand-written development set (data/quality-dev), grouped 5-fold cross-validated. */
  development?: {
    examples: number;
    aurocCrossValidated: number;
    aurocInScope: number;
    meanGoodWithDocument: number;
    meanGoodWithoutDocument: number;
    meanBad: number;
  };
  /** The hand-written evaluation set (data/quality-eval), never trained on: AUROC and mean scores. */
  evaluation?: {
    examples: number;
    auroc: number;
    /** Without the rows no offline check can catch (a wrong fact and no document). */
    aurocInScope: number;
    meanGoodWithDocument: number;
    meanGoodWithoutDocument: number;
    meanBad: number;
  };
}

/**
 * The trained quality model (a small dense network over the quality signals), run synchronously on the
 * request path. `predict` throws when no model is loaded; the scorer then falls back to the rules.
 */
export class QualityModel {
  /** Plain-JS copy of the dense stack (undefined for other architectures: tfjs predicts then). */
  private readonly dense?: DenseStack;

  private constructor(
    private readonly tf: Tf,
    private readonly model: LayersModel,
    readonly meta: QualityModelMeta | undefined,
  ) {
    const layers = compileDenseStack(model);
    this.dense = layers ? new DenseStack(layers) : undefined;
  }

  static fromLayers(tf: Tf, model: LayersModel, meta?: QualityModelMeta): QualityModel {
    const inputs = model.inputs[0]?.shape[1];
    if (inputs !== FEATURE_NAMES.length) {
      throw new Error(`quality model expects ${inputs} features, the scorer computes ${FEATURE_NAMES.length}`);
    }
    return new QualityModel(tf, model, meta);
  }

  /** Loads `<dir>/model.json` + `weights.bin` (+ `meta.json` when present) with the shared tfjs runtime. */
  static async load(dir: string): Promise<QualityModel> {
    const { tf } = await loadTfjs();
    const model = await tf.loadLayersModel(fileLoadHandler(dir));
    let meta: QualityModelMeta | undefined;
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as QualityModelMeta;
    } catch {
      meta = undefined;
    }
    if (meta && meta.features.join(',') !== FEATURE_NAMES.join(',')) {
      throw new Error(
        'quality model was trained on a different feature list; retrain it (npm run ml:train -- quality)',
      );
    }
    return QualityModel.fromLayers(tf, model, meta);
  }

  predictBatch(rows: readonly number[][]): number[] {
    return this.tf.tidy(() => {
      const out = this.model.predict(this.tf.tensor2d(rows as number[][], [rows.length, FEATURE_NAMES.length]));
      return Array.from((out as Tensor).dataSync());
    });
  }

  /**
   * P(good) for one feature vector, synchronously. Dense stacks run as plain JS over the model's float32
   * weights (no tensor allocation or backend dispatch on the request path; equal to tfjs within 1e-6, tested);
   * anything else goes through tfjs.
   */
  predict(features: readonly number[]): number {
    const value = this.dense ? this.dense.forward(features)[0] : this.predictBatch([features as number[]])[0];
    if (value === undefined || !Number.isFinite(value)) throw new Error('quality model returned no finite value');
    return value;
  }

  get layers(): LayersModel {
    return this.model;
  }
}
