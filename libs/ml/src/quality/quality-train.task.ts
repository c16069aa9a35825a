import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadTfjs } from '../tfjs';
import { createOfflineEmbedder, type OfflineEmbedderKind } from '../embeddings/offline-embedder.factory';
import { auroc } from './evaluation';
import {
  buildDataset,
  evaluateScores,
  evaluateSet,
  readQualityEvalSet,
  servedScores,
  type SetEvaluation,
  foldOf,
  isHeldOut,
  predictAll,
  readQualityExamples,
  saveQualityModel,
  trainQualityModel,
} from './quality-training';
import { QUALITY_MODEL_DIR } from './quality-model';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

function roundedSet(e: SetEvaluation): Record<string, unknown> {
  return {
    examples: e.examples,
    auroc: round(e.auroc),
    aurocInScope: round(e.aurocInScope),
    meanGoodWithDocument: round(e.meanGoodWithDocument),
    meanGoodWithoutDocument: round(e.meanGoodWithoutDocument),
    meanBad: round(e.meanBad),
    signalAuroc: Object.fromEntries(Object.entries(e.signals).map(([k, v]) => [k, round(v)])),
    meanScoreByKind: Object.fromEntries(
      Object.entries(e.byKind)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, `label ${v.label}, n ${v.n}, mean ${round(v.mean)}`]),
    ),
  };
}

/**
 * `npm run ml:train -- quality [--embedder glove|hashed] [--data file] [--eval file] [--models dir] [--no-save]
 * [--hidden N] [--unconstrained]`: trains on the training groups, reports AUROC and calibration on the held-out
 * groups and on the hand-written evaluation set (data/quality-eval/eval.jsonl, never trained on), writes
 * models/quality/{model.json,weights.bin,meta.json}. `--compare` also trains with the other embedder
 * and reports both (not saved).
 */
export async function trainQualityTask(args: string[]): Promise<void> {
  const modelsDir = option(args, 'models') ?? 'models';
  const dataFile = option(args, 'data') ?? join('data', 'quality', 'examples.jsonl');
  const evalFile = option(args, 'eval') ?? join('data', 'quality-eval', 'eval.jsonl');
  const trainOptions = {
    ...(option(args, 'hidden') ? { hidden: Number(option(args, 'hidden')) } : {}),
    monotone: !args.includes('--unconstrained'),
  };
  const kinds: OfflineEmbedderKind[] = args.includes('--compare')
    ? ['glove', 'hashed']
    : [(option(args, 'embedder') as OfflineEmbedderKind | undefined) ?? 'glove'];
  const { tf, backend } = await loadTfjs();
  const examples = readQualityExamples(dataFile);
  const report: Record<string, unknown> = { backend, examples: examples.length };
  for (const [n, kind] of kinds.entries()) {
    const embedder = createOfflineEmbedder(modelsDir, kind);
    const train = buildDataset(
      examples.filter((e) => !isHeldOut(e)),
      embedder,
    );
    const test = buildDataset(examples.filter(isHeldOut), embedder);
    const started = performance.now();
    const model = await trainQualityModel(tf, train, trainOptions);
    const trainSeconds = (performance.now() - started) / 1000;
    const scores = predictAll(tf, model, test.x);
    const evaluation = evaluateScores(scores, test);
    const heldOutSet = evaluateSet(servedScores(scores, test), test);
    // The hand-written evaluation set: outside the generator's templates, never trained on.
    let evalSet: SetEvaluation | undefined;
    if (existsSync(evalFile)) {
      const set = buildDataset(readQualityEvalSet(evalFile), embedder);
      evalSet = evaluateSet(servedScores(predictAll(tf, model, set.x), set), set);
    }
    // The embedder's own effect: relevance alone, on answers that are either correct or off-topic.
    const relevant = test.examples
      .map((e, i) => ({ e, relevance: test.x[i]![4]!, semantic: test.x[i]![0]!, alignment: test.x[i]![1]! }))
      .filter(({ e }) => /good|off_topic/.test(e.kind));
    const y = relevant.map(({ e }) => (e.kind.includes('off_topic') ? 0 : 1));
    // Hand-written answers outside the generator's templates (data/quality/sanity.jsonl): does it extrapolate?
    const sanityFile = join(dirname(dataFile), 'sanity.jsonl');
    let sanity: Record<string, unknown> | undefined;
    if (existsSync(sanityFile)) {
      const set = buildDataset(readQualityExamples(sanityFile), embedder);
      const scores = predictAll(tf, model, set.x);
      sanity = {
        examples: scores.length,
        auroc: round(auroc(scores, set.y)),
        rulesAuroc: round(auroc(set.rules, set.y)),
        scores: set.examples.map(
          (e, i) => `${e.label} ${round(scores[i]!)} ${e.question.slice(0, 30)} / ${e.answer.slice(0, 30)}`,
        ),
      };
    }
    report[embedder.name] = {
      evaluationSet: evalSet ? roundedSet(evalSet) : `missing: ${evalFile}`,
      heldOutSet: roundedSet(heldOutSet),
      sanity,
      trainExamples: train.x.length,
      heldOutExamples: test.x.length,
      trainSeconds: round(trainSeconds),
      heldOutAuroc: round(evaluation.auroc),
      rulesAuroc: round(evaluation.rulesAuroc),
      ece: round(evaluation.calibration.ece),
      brier: round(evaluation.calibration.brier),
      relevanceOnlyAuroc: round(
        auroc(
          relevant.map((r) => r.relevance),
          y,
        ),
      ),
      alignmentOnlyAuroc: round(
        auroc(
          relevant.map((r) => r.alignment),
          y,
        ),
      ),
      semanticOnlyAuroc: round(
        auroc(
          relevant.map((r) => r.semantic),
          y,
        ),
      ),
      calibrationBins: evaluation.calibration.bins.map((b) => ({
        bin: `${b.from.toFixed(1)}-${b.to.toFixed(1)}`,
        n: b.count,
        predicted: round(b.meanPredicted),
        observed: round(b.observedRate),
      })),
      meanScoreByKind: Object.fromEntries(
        Object.entries(evaluation.byKind).map(([k, v]) => [k, { n: v.count, mean: round(v.meanScore) }]),
      ),
    };
    if (args.includes('--compare')) {
      // Five-fold cross-validation by group: a steadier comparison of embedders than one held-out split.
      const aurocs: number[] = [];
      const relevanceAurocs: number[] = [];
      for (let fold = 0; fold < 5; fold++) {
        const foldTrain = buildDataset(
          examples.filter((e) => foldOf(e) !== fold),
          embedder,
        );
        const foldTest = buildDataset(
          examples.filter((e) => foldOf(e) === fold),
          embedder,
        );
        const foldModel = await trainQualityModel(tf, foldTrain, trainOptions);
        aurocs.push(auroc(predictAll(tf, foldModel, foldTest.x), foldTest.y));
        foldModel.dispose();
        const pairs = foldTest.examples
          .map((e, i) => ({ e, relevance: foldTest.x[i]![4]! }))
          .filter(({ e }) => /good|off_topic/.test(e.kind));
        relevanceAurocs.push(
          auroc(
            pairs.map((p) => p.relevance),
            pairs.map(({ e }) => (e.kind.includes('off_topic') ? 0 : 1)),
          ),
        );
      }
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
      Object.assign(report[embedder.name] as object, {
        cv5Auroc: { mean: round(mean(aurocs)), sd: round(sd(aurocs)), folds: aurocs.map(round) },
        cv5RelevanceOnlyAuroc: { mean: round(mean(relevanceAurocs)), sd: round(sd(relevanceAurocs)) },
      });
    }
    if (n === 0 && !args.includes('--no-save')) {
      const dir = join(modelsDir, QUALITY_MODEL_DIR);
      await saveQualityModel(model, dir, {
        embedder: embedder.name,
        trainedAt: new Date().toISOString(),
        examples: train.x.length,
        heldOut: {
          auroc: round(evaluation.auroc),
          ece: round(evaluation.calibration.ece),
          brier: round(evaluation.calibration.brier),
          examples: test.x.length,
        },
        monotone: trainOptions.monotone,
        ...(evalSet
          ? {
              evaluation: {
                examples: evalSet.examples,
                auroc: round(evalSet.auroc),
                aurocInScope: round(evalSet.aurocInScope),
                meanGoodWithDocument: round(evalSet.meanGoodWithDocument),
                meanGoodWithoutDocument: round(evalSet.meanGoodWithoutDocument),
                meanBad: round(evalSet.meanBad),
              },
            }
          : {}),
      });
      report.saved = dir;
    }
    model.dispose();
  }
  console.log(JSON.stringify(report, null, 2));
}
