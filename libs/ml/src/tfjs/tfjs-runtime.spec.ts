import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileLoadHandler, fileSaveHandler, MODEL_JSON, WEIGHTS_BIN } from './file-io-handler';
import { loadTfjs } from './tfjs-runtime';

describe('TensorFlow.js runtime', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tfjs-io-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('initialises a backend without tfjs-node (wasm here) and returns the same runtime on later calls', async () => {
    const first = await loadTfjs();
    expect(['tensorflow', 'wasm', 'cpu']).toContain(first.backend);
    expect(first.tf.getBackend()).toBe(first.backend);
    expect(await loadTfjs()).toBe(first);
  });

  it('falls back along the preference list', async () => {
    const runtime = await loadTfjs({ prefer: ['cpu'] });
    expect(runtime.backend).toBe('cpu');
    const back = await loadTfjs();
    expect(back.tf.getBackend()).toBe(back.backend);
  });

  it('saves to model.json + weights.bin and reloads a model with identical predictions', async () => {
    const { tf } = await loadTfjs();
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 8,
          activation: 'relu',
          inputShape: [5],
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    await model.fit(tf.randomNormal([64, 5], 0, 1, 'float32', 3), tf.randomNormal([64, 2], 0, 1, 'float32', 4), {
      epochs: 2,
      verbose: 0,
    });
    const input = tf.randomNormal([16, 5], 0, 1, 'float32', 5);
    const expected = Array.from(await (model.predict(input) as typeof input).data());

    const result = await model.save(fileSaveHandler(dir));
    expect(result.modelArtifactsInfo.weightDataBytes).toBeGreaterThan(0);
    expect((await readdir(dir)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);

    const loaded = await tf.loadLayersModel(fileLoadHandler(dir));
    const actual = Array.from(await (loaded.predict(input) as typeof input).data());
    expect(actual).toEqual(expected);
  });

  it('fails clearly when the directory holds no model', async () => {
    const { tf } = await loadTfjs();
    await expect(tf.loadLayersModel(fileLoadHandler(join(dir, 'missing')))).rejects.toThrow(/ENOENT/);
  });
});
