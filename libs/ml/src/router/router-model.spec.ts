import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTfjs } from '../tfjs';
import { meetsProbability, routeInputRow, ROUTER_FEATURE_NAMES, RouterModel } from './router-model';
import { saveRouterModel, trainRouterModel, type RouterOutcome } from './router-training';
import { extractRouteFeatures } from './route-features';
import type { RouteFeatures } from './router.types';

const MODELS_DIR = join(__dirname, '../../../../models');
const MODELS = ['small', 'large'];

const features = (text: string, endpoint = 'reason'): RouteFeatures =>
  extractRouteFeatures({ endpoint, userText: text, prompt: text });

/** A tiny data set: the large model answers math well, the small one does not; both answer chit-chat. */
function outcomes(): RouterOutcome[] {
  const rows: RouterOutcome[] = [];
  for (let i = 0; i < 120; i++) {
    const math = i % 2 === 0;
    const f = features(math ? `What is ${i} * ${i + 3} + 7?` : `hi there, nice day number ${i}`);
    for (const model of MODELS) {
      const good = !math || model === 'large';
      rows.push({
        features: f,
        model,
        ok: true,
        quality: good ? 0.75 : 0.2,
        latencyMs: model === 'large' ? 4000 : 400,
        outputTokens: 100 + (i % 7),
        group: String(i),
      });
    }
  }
  return rows;
}

describe('RouterModel', () => {
  let dir: string;
  let router: RouterModel;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'router-model-'));
    const { tf } = await loadTfjs();
    const { model, meta } = await trainRouterModel(tf, outcomes(), { models: MODELS, epochs: 60, batchSize: 32 });
    router = RouterModel.fromLayers(tf, model, {
      ...meta,
      trainedAt: '2026-12-06T00:00:00.000Z',
      source: 'test',
      heldOut: {},
    });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the dense stack as plain JS, equal to tfjs predict', () => {
    const rows = [
      routeInputRow(features('What is 3 * 4?'), 0, 2),
      routeInputRow(features('What is 3 * 4?'), 1, 2),
      routeInputRow(features('hello', 'qa'), 1, 2),
      routeInputRow(features('Write a Python function that sorts a list, step by step', 'reason'), 0, 2),
      ROUTER_FEATURE_NAMES.map((_, i) => (i % 3) / 3).concat([0, 1]),
    ];
    const expected = router.predictRaw(rows);
    rows.forEach((row, i) => {
      const actual = router.forwardRaw(row);
      expect(actual).toHaveLength(expected[i]!.length);
      actual.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5));
    });
  });

  it('predicts per candidate, in order, and nothing for a model it has no evidence for', () => {
    const [small, unknown, large] = router.predict(features('What is 12 * 15 + 7?'), ['small', 'other', 'large'], 0.5);
    expect(unknown).toBeUndefined();
    expect(small!.model).toBe('small');
    expect(large!.pMeetsQuality).toBeGreaterThan(small!.pMeetsQuality + 0.3);
    expect(large!.expectedQuality).toBeGreaterThan(small!.expectedQuality);
    expect(large!.latencyMs).toBeGreaterThan(small!.latencyMs);
    expect(small!.outputTokens).toBeGreaterThan(50);
    const [chatSmall, chatLarge] = router.predict(features('hi there, nice day'), MODELS, 0.5);
    expect(chatSmall!.pMeetsQuality).toBeGreaterThan(0.7);
    expect(chatLarge!.pMeetsQuality).toBeGreaterThan(0.7);
  });

  it('gives a probability of meeting the target that falls as the target rises', () => {
    const f = features('What is 12 * 15 + 7?');
    const ps = [0, 0.2, 0.4, 0.5, 0.65, 0.7, 0.85, 1].map((q) => router.predict(f, ['large'], q)[0]!.pMeetsQuality);
    expect(ps[0]).toBe(1);
    expect(ps[ps.length - 1]).toBe(0);
    for (let i = 1; i < ps.length; i++) expect(ps[i]!).toBeLessThanOrEqual(ps[i - 1]! + 1e-12);
  });

  it('interpolates between the threshold heads', () => {
    const logit = (p: number): number => Math.log(p / (1 - p));
    const raw = [logit(0.9), logit(0.5)];
    expect(meetsProbability([0.4, 0.8], raw, 0.4)).toBeCloseTo(0.9, 10);
    expect(meetsProbability([0.4, 0.8], raw, 0.6)).toBeCloseTo(0.7, 10);
    expect(meetsProbability([0.4, 0.8], raw, 0.2)).toBeCloseTo(0.95, 10);
    expect(meetsProbability([0.4, 0.8], raw, 0.9)).toBeCloseTo(0.25, 10);
    // A head above its lower neighbour is capped by it (monotone).
    expect(meetsProbability([0.4, 0.8], [logit(0.5), logit(0.9)], 0.8)).toBeCloseTo(0.5, 10);
  });

  it('saves and loads the same predictions', async () => {
    await saveRouterModel(router.layers!, join(dir, 'saved'), router.meta!);
    const loaded = await RouterModel.load(join(dir, 'saved'));
    expect(loaded.status()).toMatchObject({ loaded: true, trainedOn: 240, models: MODELS });
    const f = features('What is 21 * 2?');
    expect(loaded.predict(f, MODELS, 0.6)).toEqual(router.predict(f, MODELS, 0.6));
  });

  it('is not loaded, and says why, when the directory is missing; predict then throws', async () => {
    const missing = await RouterModel.load(join(dir, 'nothing-here'));
    expect(missing.status()).toMatchObject({ loaded: false, trainedOn: 0, models: [] });
    expect(missing.status().reason).toMatch(/no router model .*missing/);
    expect(() => missing.predict(features('hi'), MODELS, 0.5)).toThrow(/no router model/);
  });

  it('is not loaded when meta.json is unreadable or describes other features', async () => {
    await mkdir(join(dir, 'broken'), { recursive: true });
    await writeFile(join(dir, 'broken', 'meta.json'), '{ not json');
    expect((await RouterModel.load(join(dir, 'broken'))).status()).toMatchObject({ loaded: false });

    await saveRouterModel(router.layers!, join(dir, 'other'), { ...router.meta!, features: ['a', 'b'] });
    const other = await RouterModel.load(join(dir, 'other'));
    expect(other.status().loaded).toBe(false);
    expect(other.status().reason).toMatch(/another feature list/);
  });

  it('loads the committed model (models/router) for the default candidates', async () => {
    const committed = await RouterModel.load(join(MODELS_DIR, 'router'));
    expect(committed.status()).toMatchObject({
      loaded: true,
      models: ['gemini-2.5-flash-lite', 'gemini-2.5-flash', 'gemini-2.5-pro'],
    });
    expect(committed.status().trainedOn).toBeGreaterThanOrEqual(500);
    const predictions = committed.predict(features('hi'), committed.status().models, 0.7);
    expect(predictions.every((p) => p !== undefined && p.pMeetsQuality >= 0 && p.pMeetsQuality <= 1)).toBe(true);
  });
});
