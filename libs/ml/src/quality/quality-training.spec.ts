import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashedNgramEmbedder } from '../embeddings/hashed-ngram-embedder';
import { loadTfjs } from '../tfjs';
import { auroc, calibration } from './evaluation';
import { QualityModel } from './quality-model';
import {
  buildDataset,
  isHeldOut,
  predictAll,
  readQualityExamples,
  saveQualityModel,
  trainQualityModel,
} from './quality-training';

const DATA = join(__dirname, '../../../../data/quality/examples.jsonl');

describe('quality model training', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quality-model-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the committed labelled set has at least 400 examples of every kind the issue names', () => {
    const examples = readQualityExamples(DATA);
    expect(examples.length).toBeGreaterThanOrEqual(400);
    const kinds = new Set(examples.map((e) => e.kind));
    for (const kind of [
      'good_with_doc',
      'good_no_doc',
      'reason_good',
      'refusal',
      'off_topic',
      'ungrounded',
      'truncated',
    ])
      expect(kinds).toContain(kind);
    expect(examples.some((e) => e.document)).toBe(true);
    expect(examples.some((e) => !e.document)).toBe(true);
    expect(examples.filter(isHeldOut).length).toBeGreaterThan(50);
  });

  it('trains on a small slice in seconds, learns something, and reloads with identical predictions', async () => {
    const { tf } = await loadTfjs();
    const examples = readQualityExamples(DATA);
    const slice = examples.filter((_, i) => i % 4 === 0);
    const data = buildDataset(slice, new HashedNgramEmbedder());
    const started = Date.now();
    const model = await trainQualityModel(tf, data, { epochs: 40 });
    expect(Date.now() - started).toBeLessThan(20_000);
    const predictions = predictAll(tf, model, data.x);
    expect(auroc(predictions, data.y)).toBeGreaterThan(0.8);
    expect(calibration(predictions, data.y).brier).toBeLessThan(0.2);

    await saveQualityModel(model, dir, {
      embedder: 'hashed-ngram-512',
      trainedAt: new Date(0).toISOString(),
      examples: slice.length,
      heldOut: { auroc: 0, ece: 0, brier: 0, examples: 0 },
    });
    expect((await readdir(dir)).sort()).toEqual(['meta.json', 'model.json', 'weights.bin']);
    const loaded = await QualityModel.load(dir);
    expect(loaded.predictBatch(data.x)).toEqual(predictions);
    // The request path's plain-JS forward pass agrees with tfjs.
    data.x.forEach((row, i) => expect(Math.abs(loaded.predict(row) - predictions[i]!)).toBeLessThan(1e-6));
    expect(loaded.meta?.embedder).toBe('hashed-ngram-512');
  });

  it('refuses a model trained on another feature list', async () => {
    const { tf } = await loadTfjs();
    const wrong = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
    expect(() => QualityModel.fromLayers(tf, wrong)).toThrow(/features/);
  });
});

describe('evaluation metrics', () => {
  it('computes AUROC with ties and the calibration error', () => {
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75);
    expect(auroc([0.5, 0.5], [0, 1])).toBeCloseTo(0.5);
    const c = calibration([0.9, 0.9, 0.1, 0.1], [1, 1, 0, 0]);
    expect(c.ece).toBeCloseTo(0.1);
    expect(c.brier).toBeCloseTo(0.01);
  });
});
