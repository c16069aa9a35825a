import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** File names inside a model directory (the layout `tfjs.converters` and tfjs-node's `file://` use). */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

interface ModelJsonFile {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: object;
  trainingConfig?: tf.io.TrainingConfig;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function toArrayBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, path);
}

/**
 * A save handler writing `<dir>/model.json` and `<dir>/weights.bin` (each replaced atomically), usable
 * without tfjs-node: `await model.save(fileSaveHandler(dir))`.
 */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (artifacts.modelTopology instanceof ArrayBuffer || !artifacts.modelTopology) {
      throw new Error('fileSaveHandler supports layers models (JSON topology) only');
    }
    const weights = new Uint8Array(toArrayBuffer(artifacts.weightData));
    const modelJson: ModelJsonFile = {
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      trainingConfig: artifacts.trainingConfig,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
    };
    await mkdir(dir, { recursive: true });
    // Weights first: a reader that sees the new model.json always finds matching weights.
    await writeAtomically(join(dir, WEIGHTS_BIN), weights);
    await writeAtomically(join(dir, MODEL_JSON), `${JSON.stringify(modelJson)}\n`);
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weights.byteLength,
      },
    };
  });
}

/**
 * A load handler reading what `fileSaveHandler` wrote (or any single-shard tfjs layers model):
 * `await tf.loadLayersModel(fileLoadHandler(dir))`. Paths come from the caller, never from the request.
 */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const modelJson = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as ModelJsonFile;
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of modelJson.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const path of group.paths) {
          const bytes = await readFile(join(dir, path));
          buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        }
      }
      return {
        modelTopology: modelJson.modelTopology,
        trainingConfig: modelJson.trainingConfig,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy ?? undefined,
        weightSpecs,
        weightData: buffers.length === 1 ? buffers[0] : tf.io.concatenateArrayBuffers(buffers),
      };
    },
  };
}
