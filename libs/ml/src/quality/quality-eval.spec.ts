import { join } from 'node:path';
import { testConfig } from '../../../../test/support/app-config';
import { GloveEmbedder, loadGloveTable } from '../embeddings/glove-embedder';
import { QualityModelStore } from './quality-model.store';
import { QualityScorer } from './quality-scorer';
import { FEATURE_NAMES } from './quality-signals';
import type { QualityInput } from './quality.types';
import { buildDataset, evaluateSet, readQualityEvalSet, servedScores } from './quality-training';

const ROOT = join(__dirname, '../../../../');
const MODELS = join(ROOT, 'models');
const EVAL = join(ROOT, 'data/quality-eval/eval.jsonl');

/**
 * Issue #11's targets on the hand-written evaluation set (the test set: never trained or tuned on). NOT met by
 * the committed v3 model (see docs/ml.md, "Evaluation outside the templates"): every assertion below is a
 * regression floor at the measured level (v3: AUROC in scope 0.832, correct with a document 0.541, without
 * 0.597, bad 0.319), not the target. The issue's "bad <= 0.3" was met by v2 (0.28) and is not by v3 (0.319).
 */
const ISSUE_TARGETS = { auroc: 0.92, meanGood: 0.8, meanBad: 0.3 } as const;
const FLOORS = { auroc: 0.82, meanGoodWithDocument: 0.52, meanGoodWithoutDocument: 0.58, meanBad: 0.33 } as const;
const DEV = join(ROOT, 'data/quality-dev/dev.jsonl');

const qa = (question: string, answer: string, document?: string): QualityInput => ({
  endpoint: 'qa',
  question,
  answer,
  document,
  finishReason: 'stop',
  safetyBlocked: false,
});

let store: QualityModelStore;

describe('quality model on the hand-written evaluation set (data/quality-eval)', () => {
  const embedder = new GloveEmbedder(loadGloveTable(join(MODELS, 'embeddings')));
  let scorer: QualityScorer;

  beforeAll(async () => {
    store = new QualityModelStore(testConfig({ MODELS_DIR: MODELS }));
    await store.onModuleInit();
    scorer = new QualityScorer(embedder, store);
  });

  it("scores the README's /qa example good (the simulated provider's extractive answer)", () => {
    // What SimulatedLlmAdapter answers for this question and document (libs/llm/src/adapters/simulated-text.ts).
    const report = scorer.score(
      qa(
        'What colour is the sky on Mars?',
        'According to the provided document, The sky on Mars is butterscotch by day.',
        'The sky on Mars is butterscotch by day.',
      ),
    );
    expect(report.scorer).toBe('model');
    expect(report.label).toBe('good');
    expect(report.groundedness).toBeGreaterThan(0.9);
  });

  it('scores an answer that restates its document good, as good as without the document', () => {
    const paris = 'Paris is the capital of France.';
    const withDocument = scorer.score(qa('What is the capital of France?', paris, paris));
    const withoutDocument = scorer.score(qa('What is the capital of France?', paris));
    expect(withDocument.label).toBe('good');
    expect(withDocument.groundedness).toBe(1);
    expect(withDocument.overall).toBeGreaterThanOrEqual(0.6);
    expect(withDocument.overall).toBeGreaterThanOrEqual(withoutDocument.overall - 0.05);
  });

  it('is monotone: improving any signal never lowers the score', () => {
    const model = store.current!;
    let seed = 12345;
    const random = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 0x100000000;
    };
    for (let trial = 0; trial < 200; trial++) {
      const x = FEATURE_NAMES.map(() => random());
      const base = model.predict(x);
      for (let j = 0; j < x.length; j++) {
        const better = [...x];
        better[j] = Math.min(1, x[j]! + 0.3);
        expect(model.predict(better)).toBeGreaterThanOrEqual(base - 1e-9);
      }
    }
  });

  it('the set is hand-written, large and varied: at least 300 rows, every style, with and without documents', () => {
    const rows = readQualityEvalSet(EVAL);
    expect(rows.length).toBeGreaterThanOrEqual(300);
    const kinds = new Set(rows.map((r) => r.kind));
    for (const kind of [
      'verbatim',
      'paraphrase',
      'partial',
      'contradiction',
      'off_topic',
      'refusal',
      'hedged',
      'list_complete',
      'list_wrong',
      'long',
      'numeric',
      'numeric_wrong',
      'correct',
    ])
      expect(kinds).toContain(kind);
    for (const label of [0, 1])
      for (const hasDocument of [true, false])
        expect(rows.filter((r) => r.label === label && !!r.document === hasDocument).length).toBeGreaterThan(40);
  });

  it('separates good from bad answers and keeps the levels (regression floors; targets in ISSUE_TARGETS)', () => {
    const data = buildDataset(readQualityEvalSet(EVAL), embedder);
    const model = store.current!;
    const evaluation = evaluateSet(
      servedScores(
        data.x.map((x) => model.predict(x)),
        data,
      ),
      data,
    );
    // The floors sit below the issue's targets: the gap is open (docs/ml.md).
    expect(FLOORS.auroc).toBeLessThan(ISSUE_TARGETS.auroc);
    expect(evaluation.aurocInScope).toBeGreaterThanOrEqual(FLOORS.auroc);
    expect(evaluation.meanGoodWithDocument).toBeGreaterThanOrEqual(FLOORS.meanGoodWithDocument);
    expect(evaluation.meanGoodWithoutDocument).toBeGreaterThanOrEqual(FLOORS.meanGoodWithoutDocument);
    expect(evaluation.meanBad).toBeLessThanOrEqual(FLOORS.meanBad);
    // Answers that copy their document score good on average.
    expect(evaluation.byKind['verbatim +doc']!.mean).toBeGreaterThanOrEqual(0.6);
  });
});

describe('development set (data/quality-dev): hand-written, trained on, reported by grouped cross-validation', () => {
  it('is large and varied: at least 250 rows, every kind, with and without documents, disjoint from the test set', () => {
    const rows = readQualityEvalSet(DEV);
    expect(rows.length).toBeGreaterThanOrEqual(250);
    const kinds = new Set(rows.map((r) => r.kind));
    for (const kind of [
      'verbatim',
      'paraphrase',
      'contradiction',
      'numeric',
      'numeric_wrong',
      'list_partial',
      'partial',
    ])
      expect(kinds).toContain(kind);
    for (const label of [0, 1])
      for (const hasDocument of [true, false])
        expect(rows.filter((r) => r.label === label && !!r.document === hasDocument).length).toBeGreaterThan(30);
    const test = new Set(readQualityEvalSet(EVAL).map((r) => `${r.question}\u0000${r.answer}`));
    expect(rows.filter((r) => test.has(`${r.question}\u0000${r.answer}`))).toHaveLength(0);
  });

  it("the committed model's cross-validated dev metrics are recorded and above the floor", () => {
    const meta = store.current!.meta!;
    expect(meta.development?.examples).toBeGreaterThanOrEqual(250);
    expect(meta.development!.aurocInScope).toBeGreaterThanOrEqual(0.78);
  });
});
