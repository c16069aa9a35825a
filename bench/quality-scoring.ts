/**
 * Request-path cost of the ML lib: QualityScorer.score and SafetyService.inspectPrompt on realistic
 * inputs from the committed labelled sets (answers with and without documents, reasoning prompts,
 * injections, prompts with PII), the hand-written evaluation set (data/quality-eval), plus a long-document /qa
 * case. Prints p50/p99 per operation.
 *
 *   sh scripts/ts-run.sh bench/quality-scoring.ts [iterations=3000]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import { createOfflineEmbedder } from '../libs/ml/src/embeddings/offline-embedder.factory';
import { QualityModelStore } from '../libs/ml/src/quality/quality-model.store';
import { InjectionClassifier } from '../libs/ml/src/safety/injection-classifier';
import { InjectionDetector } from '../libs/ml/src/safety/injection-detector';
import { PiiDetector, QualityScorer, SafetyService, type QualityInput } from '@app/ml';

const iterations = Number(process.argv[2] ?? 3000);
const root = process.cwd();
const config = loadConfig({ envFile: false, packageVersion: '0.0.0-bench', env: { LOG_LEVEL: 'silent' } });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function measure(
  name: string,
  inputs: number,
  run: (i: number) => void,
): { name: string; p50: number; p99: number; mean: number } {
  for (let i = 0; i < Math.min(500, iterations); i++) run(i % inputs); // warm-up (JIT, caches)
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    run(i % inputs);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { name, p50: percentile(times, 50), p99: percentile(times, 99), mean };
}

async function main(): Promise<void> {
  const examples = readFileSync(join(root, 'data/quality/examples.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as QualityInput);
  // Hand-written rows omit what they share (endpoint qa, finish reason stop, not blocked).
  const evalSet = readFileSync(join(root, 'data/quality-eval/eval.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l): QualityInput => ({
      endpoint: 'qa',
      finishReason: 'stop',
      safetyBlocked: false,
      ...(JSON.parse(l) as Partial<QualityInput> & Pick<QualityInput, 'question' | 'answer'>),
    }));
  // RAG answers about multi-paragraph documents (docs/ml.md, "RAG traffic").
  const ragSet = readFileSync(join(root, 'data/quality-rag/probe.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l): QualityInput => ({ ...(JSON.parse(l) as QualityInput), finishReason: 'stop', safetyBlocked: false }));
  const prompts = readFileSync(join(root, 'data/injection/examples.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text)
    .map((t, i) => (i % 5 === 0 ? `${t} Contact me at jane.doe@example.com or +1 415 555 0132.` : t));
  const topics = JSON.parse(readFileSync(join(root, 'data/quality/topics.json'), 'utf8')) as Array<{ doc: string }>;
  const longDocument = topics
    .map((t) => t.doc)
    .join(' ')
    .repeat(6); // ~14 KB
  const longInput: QualityInput = {
    endpoint: 'qa',
    question: 'How tall is the Eiffel Tower?',
    answer:
      "The tower is 330 metres tall. It was completed in 1889 for the World's Fair and about 7 million people visit it every year.",
    document: longDocument,
    finishReason: 'stop',
    safetyBlocked: false,
  };
  const longPrompt = `${longDocument}\n\nQuestion: How tall is the Eiffel Tower?`;
  // The worst case of the "not in the document" check: an abstention against a 20 KB document (every sentence read).
  const abstention: QualityInput = {
    ...longInput,
    question: 'Does the Eiffel Tower have a restaurant on its second floor, and who runs it today?',
    answer: 'The document does not say whether the tower has a restaurant on its second floor or who runs it.',
    document: longDocument.repeat(2).slice(0, 20_000),
  };

  const store = new QualityModelStore(config);
  await store.onModuleInit();
  const glove = createOfflineEmbedder(config.ml.modelsDir, 'glove');
  const hashed = createOfflineEmbedder(config.ml.modelsDir, 'hashed');
  const scorer = new QualityScorer(glove, store);
  const rulesStore = new QualityModelStore(config);
  rulesStore.use(undefined);
  const rulesScorer = new QualityScorer(glove, rulesStore);
  const hashedScorer = new QualityScorer(hashed, store);
  const safety = new SafetyService(
    config,
    new PiiDetector(),
    new InjectionDetector(InjectionClassifier.load(join(config.ml.modelsDir, 'injection'))),
  );
  const tokens = (text: string): number => Math.ceil(text.length / 4);

  const results = [
    measure('QualityScorer.score (model, GloVe)', examples.length, (i) => scorer.score(examples[i]!)),
    measure('QualityScorer.score (model, GloVe), hand-written eval set', evalSet.length, (i) =>
      scorer.score(evalSet[i]!),
    ),
    measure('QualityScorer.score (model, GloVe), RAG probe', ragSet.length, (i) => scorer.score(ragSet[i]!)),
    measure('score, abstention against a 20 KB document', 1, () => scorer.score(abstention)),
    measure('score, the same question answered, 20 KB document', 1, () =>
      scorer.score({ ...abstention, answer: 'The tower has a restaurant on its second floor, run by a chef.' }),
    ),
    measure('QualityScorer.score (rules only, GloVe)', examples.length, (i) => rulesScorer.score(examples[i]!)),
    measure('QualityScorer.score (model, hashed n-grams)', examples.length, (i) => hashedScorer.score(examples[i]!)),
    measure('SafetyService.inspectPrompt', prompts.length, (i) =>
      safety.inspectPrompt(prompts[i]!, tokens(prompts[i]!)),
    ),
    measure('score + inspectPrompt (one call)', examples.length, (i) => {
      const e = examples[i]!;
      const prompt = e.document ? `${e.document}\n\nQuestion: ${e.question}` : e.question;
      safety.inspectPrompt(prompt, tokens(prompt));
      scorer.score(e);
    }),
    measure(`score, ${Math.round(longDocument.length / 1000)} KB document`, 1, () => scorer.score(longInput)),
    measure(`inspectPrompt, ${Math.round(longPrompt.length / 1000)} KB prompt`, 1, () =>
      safety.inspectPrompt(longPrompt, tokens(longPrompt)),
    ),
  ];
  console.log(`Node ${process.version}, ${iterations} iterations per row, scorer ${store.status}`);
  console.log('| operation | p50 ms | p99 ms | mean ms |');
  console.log('|---|---:|---:|---:|');
  for (const r of results)
    console.log(`| ${r.name} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.mean.toFixed(3)} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
