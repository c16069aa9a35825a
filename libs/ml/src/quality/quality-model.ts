import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { fileLoadHandler, loadTfjs, type Tf } from '../tfjs';
import { FEATURE_NAMES } from './quality-signals';

export const QUALITY_MODEL_DIR = 'quality';

/** Metadata written next to model.json by the trainer. */
export interface QualityModelMeta {
  features: readonly string[];
  embedder: string;
  trainedAt: string;
  examples: number;
  heldOut: { auroc: number; ece: number; brier: number; examples: number };
}

/**
 * The trained quality model (a small dense network over the quality signals), run synchronously on the
 * request path. `predict` throws when no model is loaded; the scorer then falls back to the rules.
 */
export class QualityModel {
  private constructor(
    private readonly tf: Tf,
    private readonly model: LayersModel,
    readonly meta: QualityModelMeta | undefined,
  ) {}

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

  predict(features: readonly number[]): number {
    const value = this.predictBatch([features as number[]])[0];
    if (value === undefined || !Number.isFinite(value)) throw new Error('quality model returned no finite value');
    return value;
  }

  get layers(): LayersModel {
    return this.model;
  }
}
