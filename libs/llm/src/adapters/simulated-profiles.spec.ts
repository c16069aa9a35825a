import { join } from 'node:path';
import { testConfig } from '../../../../test/support/app-config';
import { GloveEmbedder, loadGloveTable } from '../../../ml/src/embeddings/glove-embedder';
import { QualityModelStore } from '../../../ml/src/quality/quality-model.store';
import { QualityScorer } from '../../../ml/src/quality/quality-scorer';
import { DEFAULT_LLM_DRILLS } from '../pipeline/llm-drills';
import type { LlmGenerateRequest } from '../ports/llm-provider.port';
import { TokenEstimator } from '../tokens/token-estimator';
import { SimulatedLlmAdapter } from './simulated-llm.adapter';
import {
  planSimulatedCall,
  SIM_TASKS,
  simulatedDifficulty,
  simulatedProfile,
  simulatedProfiles,
  simulatedTask,
  successProbability,
  type SimTask,
  type SimulatedCallPlan,
} from './simulated-profiles';
import { parseQaPrompt, simulatedAnswer } from './simulated-text';

const MODELS = join(__dirname, '../../../../models');
const TIERS = ['gemini-2.5-flash-lite', 'gemini-2.5-flash', 'gemini-2.5-pro'] as const;

const ENTITIES = ['Lake Baikal', 'the Eiffel Tower', 'Mount Kilimanjaro', 'the Amazon river', 'Jupiter', 'Venice'];
const TOPICS = ['photosynthesis', 'inflation', 'plate tectonics', 'vaccines', 'tides', 'compound interest'];

/** Prompts of every task and of varied shape (length, steps, numbers), deterministic for i. */
function generatedPrompt(i: number): string {
  const entity = ENTITIES[Math.floor(i / 6) % ENTITIES.length]!;
  const topic = TOPICS[Math.floor(i / 36) % TOPICS.length]!;
  const n = 10 + ((i * 37) % 900);
  const long =
    Math.floor(i / 6) % 3 === 0 ? ` Please also cover the history, ${topic}, and each related detail in depth.` : '';
  switch (i % 6) {
    case 0:
      return (
        `Q: How tall is ${entity}?\nContext: ${entity} is ${n} metres tall according to the 2019 survey. ` +
        `It attracts many visitors every summer. The surrounding region is known for ${topic}.`
      );
    case 1:
      return `Who was the first person to describe ${topic}?${long}`;
    case 2:
      return `Solve ${n}x + ${i + 3} = ${n * 2 + i} and show each step.${long}`;
    case 3:
      return `Write a python function that returns the ${i % 2 ? 'median' : 'mode'} of a list of numbers.${long}`;
    case 4:
      return `Why does ${topic} matter for ${entity}? Explain step by step and compare the trade-offs.${long}`;
    default:
      return `Tell me something nice about ${entity} and ${topic}.${long}`;
  }
}

/** Grounded prompts with multi-part questions (harder than generatedPrompt's), deterministic for j. */
function groundedPrompt(j: number): string {
  const entity = ENTITIES[j % ENTITIES.length]!;
  const topic = TOPICS[Math.floor(j / 6) % TOPICS.length]!;
  const n = 100 + ((j * 53) % 5000);
  return (
    `Q: How tall is ${entity}, when was it last measured, and how does ${topic} affect it? Explain each step.\n` +
    `Context: ${entity} is ${n} metres tall according to the ${1950 + (j % 70)} survey. ` +
    `Its height changes slowly because of ${topic}, which researchers have studied for decades. ` +
    `Visitors come every summer, and the nearest town has ${n * 3} inhabitants.`
  );
}

const tokens = new TokenEstimator();
const request = (prompt: string, model: string, timeoutMs = 5000): LlmGenerateRequest => ({
  model,
  prompt,
  temperature: 0.7,
  maxOutputTokens: 2048,
  timeoutMs,
  signal: AbortSignal.timeout(timeoutMs),
});
const adapter = (env: Record<string, string> = {}) =>
  new SimulatedLlmAdapter(
    testConfig({ SIM_LATENCY_MEDIAN_MS: '1', ...env }).llm.simulated,
    tokens,
    DEFAULT_LLM_DRILLS.badPrompt,
  );

describe('simulated model profiles', () => {
  it('has grounded, documented profiles for the Gemini tiers and resolves versioned ids', () => {
    for (const model of [...TIERS, 'gemini-2.0-flash']) {
      const profile = simulatedProfile(model)!;
      expect(profile.model).toBe(model);
      expect(profile.sources.length).toBeGreaterThan(0);
      for (const task of SIM_TASKS) expect(profile.quality[task]).toBeGreaterThan(0);
      expect(profile.failureRate).toBeLessThan(0.02);
    }
    expect(simulatedProfile('gemini-2.5-flash-001')?.model).toBe('gemini-2.5-flash');
    expect(simulatedProfile('models/gemini-2.5-pro')?.model).toBe('gemini-2.5-pro');
    expect(simulatedProfile('gemini-2.5-flash-lite-preview-06-17')?.model).toBe('gemini-2.5-flash-lite');
    expect(simulatedProfile('gemini-2.5-flash-preview-09-2025')?.model).toBe('gemini-2.5-flash');
    expect(simulatedProfile('gemini-2.5-pro@001')?.model).toBe('gemini-2.5-pro');
    expect(simulatedProfile('gemini-2.5-flash-image')).toBeUndefined();
    expect(simulatedProfile('gpt-unknown')).toBeUndefined();
    expect(planSimulatedCall('gpt-unknown', 'hi', 42)).toBeUndefined();
  });

  it('keeps the mean success over uniform difficulty at the benchmark score, decreasing in difficulty', () => {
    for (const s of [0.107, 0.5, 0.841, 0.95]) {
      let mean = 0;
      const steps = 1000;
      for (let i = 0; i < steps; i++) mean += successProbability(s, (i + 0.5) / steps) / steps;
      expect(mean).toBeCloseTo(s, 3);
      expect(successProbability(s, 0)).toBeGreaterThan(successProbability(s, 1));
    }
  });

  it('is pure and deterministic for (model, prompt, seed)', () => {
    for (let i = 0; i < 30; i++) {
      const prompt = generatedPrompt(i);
      for (const model of TIERS) {
        expect(planSimulatedCall(model, prompt, 42)).toEqual(planSimulatedCall(model, prompt, 42));
      }
      // Difficulty belongs to the request, not the model.
      expect(planSimulatedCall(TIERS[0], prompt, 42)!.difficulty).toBe(
        planSimulatedCall(TIERS[2], prompt, 42)!.difficulty,
      );
    }
    const a = Array.from({ length: 40 }, (_, i) => planSimulatedCall('gemini-2.5-flash', generatedPrompt(i), 1)!);
    const b = Array.from({ length: 40 }, (_, i) => planSimulatedCall('gemini-2.5-flash', generatedPrompt(i), 2)!);
    expect(a.map((p) => p.difficulty)).not.toEqual(b.map((p) => p.difficulty));
  });

  it('detects the task of hand-written prompts', () => {
    const cases: [string, SimTask][] = [
      ['Q: What colour is the sky on Mars?\nContext: The sky on Mars is butterscotch by day.', 'grounded_qa'],
      ['Q: What colour is the sky on Mars?\nContext: N/A', 'knowledge'],
      ['Who wrote Pride and Prejudice?', 'knowledge'],
      ['What is the capital of Australia?', 'knowledge'],
      ['What is 17 * 23 + 4?', 'math'],
      ['Solve the equation x^2 - 5x + 6 = 0.', 'math'],
      ['How many prime numbers are there below 100?', 'math'],
      ['Write a Python function that reverses a linked list.', 'code'],
      ['Why does this throw?\n```ts\nconst x: number = "a";\n```', 'code'],
      ['Fix the bug in my SQL query: SELECT * FROM users WHERE id = ;', 'code'],
      ['Why do leaves change colour in autumn? Explain step by step.', 'reasoning'],
      ['If all bloops are razzies and all razzies are lazzies, then are all bloops lazzies?', 'reasoning'],
      ['Compare the trade-offs of renting and buying a home.', 'reasoning'],
      ['Hi there! Tell me a joke about cats.', 'chat'],
      ['Write a short poem about the sea.', 'chat'],
    ];
    for (const [prompt, task] of cases) expect([prompt, simulatedTask(prompt)]).toEqual([prompt, task]);
  });

  it('makes longer, multi-step, code or math prompts harder on average (the hidden half keeps them noisy)', () => {
    const easy = ['Hi!', 'Tell me a joke.', 'Say hello.', 'Name a colour.'];
    const hard = easy.map(
      (e) =>
        `${e} Then write a python function that computes the integral of x^2 + 3x from 0 to 10, explain each step, ` +
        `prove it is correct, compare the trade-offs of two approaches and justify the choice in detail. `.repeat(3),
    );
    const mean = (ps: string[]) => ps.reduce((sum, p) => sum + simulatedDifficulty(p, 42), 0) / ps.length;
    expect(mean(hard) - mean(easy)).toBeGreaterThan(0.3);
    for (const p of [...easy, ...hard]) {
      const d = simulatedDifficulty(p, 42);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(1);
    }
  });

  it('lets stronger models succeed more often, above all on hard requests', () => {
    const plans = TIERS.map((model) =>
      Array.from({ length: 3000 }, (_, i) => planSimulatedCall(model, generatedPrompt(i), 42)!),
    );
    const rate = (ps: SimulatedCallPlan[]) => ps.filter((p) => p.success).length / Math.max(1, ps.length);
    const hard = plans.map((ps) => ps.filter((p) => p.difficulty > 0.55));
    const all = plans.map(rate);
    const hardRates = hard.map(rate);
    expect(hard[0]!.length).toBeGreaterThan(150);
    expect(all[0]).toBeLessThan(all[1]!);
    expect(all[1]).toBeLessThan(all[2]!);
    expect(hardRates[0]).toBeLessThan(hardRates[1]!);
    expect(hardRates[1]).toBeLessThan(hardRates[2]!);
    // Hard requests fail more for every tier.
    for (let t = 0; t < TIERS.length; t++) expect(hardRates[t]).toBeLessThan(all[t]!);
    // Per task, the success rate follows the benchmark ordering of the tiers.
    for (const task of ['math', 'code', 'knowledge'] as const) {
      const byTier = plans.map((ps) => rate(ps.filter((p) => p.task === task)));
      expect(byTier[0]).toBeLessThan(byTier[2]!);
    }
    console.log(
      'success rate (all / difficulty > 0.55):',
      TIERS.map((m, t) => `${m} ${all[t]!.toFixed(3)} / ${hardRates[t]!.toFixed(3)}`).join('; '),
    );
  });

  it('orders latency by tier (Pro thinks), with log-normal noise', () => {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const prompts = [...new Set(Array.from({ length: 300 }, (_, i) => generatedPrompt(i)))];
    const latencies = TIERS.map((model) => prompts.map((p) => planSimulatedCall(model, p, 42)!.latencyMs));
    const medians = latencies.map(median);
    expect(medians[0]).toBeLessThan(medians[1]!);
    expect(medians[1]).toBeLessThan(medians[2]!);
    expect(medians[0]).toBeLessThan(2000);
    expect(medians[2]).toBeGreaterThan(10_000);
    expect(new Set(latencies[0]).size).toBeGreaterThan(prompts.length * 0.95);
    for (const model of TIERS) {
      const plan = planSimulatedCall(model, generatedPrompt(5), 42)!;
      expect(plan.firstTokenMs).toBeLessThan(plan.latencyMs);
    }
    console.log('median latency ms:', TIERS.map((m, t) => `${m} ${Math.round(medians[t]!)}`).join('; '));
  });

  it('degrades failed answers so that the real quality scorer scores them lower', async () => {
    const store = new QualityModelStore(testConfig({ MODELS_DIR: MODELS }));
    await store.onModuleInit();
    const scorer = new QualityScorer(new GloveEmbedder(loadGloveTable(join(MODELS, 'embeddings'))), store);
    const score = (prompt: string, answer: string) => {
      const { question, context } = parseQaPrompt(prompt);
      return scorer.score({
        endpoint: 'qa',
        question,
        answer,
        document: context,
        finishReason: 'stop',
        safetyBlocked: false,
      }).overall;
    };
    const success: number[] = [];
    const failure: number[] = [];
    const byKind = new Map<string, number[]>();
    const add = (key: string, s: number) => byKind.set(key, [...(byKind.get(key) ?? []), s]);
    for (let i = 0; i < 108; i++) {
      const prompt = i < 72 ? generatedPrompt(i) : groundedPrompt(i);
      for (const model of ['gemini-2.5-flash-lite', 'gemini-2.0-flash', 'gemini-2.5-flash']) {
        for (const seed of [1, 2, 3]) {
          const plan = planSimulatedCall(model, prompt, seed)!;
          const s = score(prompt, plan.text);
          const where = plan.task === 'grounded_qa' ? 'with document' : 'without document';
          if (plan.success) {
            expect(plan.text).toBe(simulatedAnswer(prompt, seed));
            success.push(s);
            add(`success ${where}`, s);
          } else {
            expect(plan.text).not.toBe(simulatedAnswer(prompt, seed));
            failure.push(s);
            add(`${plan.degradation} ${where}`, s);
            add(plan.degradation, s);
          }
        }
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    console.log(
      `quality scorer: success n=${success.length} mean ${mean(success).toFixed(3)}; failure n=${failure.length} ` +
        `mean ${mean(failure).toFixed(3)}; ` +
        [...byKind]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, xs]) => `${k} n=${xs.length} ${mean(xs).toFixed(3)}`)
          .join(', '),
    );
    expect(failure.length).toBeGreaterThan(30);
    expect(success.length).toBeGreaterThan(30);
    expect(mean(success) - mean(failure)).toBeGreaterThan(0.15);
    for (const kind of ['hedge', 'partial', 'off_topic']) expect(mean(byKind.get(kind)!)).toBeLessThan(mean(success));
    // Without a reference, no scorer can tell a confident falsehood from the truth; with a document it can.
    expect(mean(byKind.get('wrong with document')!)).toBeLessThan(mean(byKind.get('success with document')!) - 0.15);
  });
});

describe('SimulatedLlmAdapter with SIM_MODEL_PROFILES', () => {
  const prompt = 'Why does compound interest grow so fast? Explain step by step and compare the trade-offs.';

  it('follows the plan (text, scaled latency) when on, and behaves exactly as before when off', async () => {
    const plan = planSimulatedCall('gemini-2.5-flash-lite', prompt, 42)!;
    const on = await adapter({ SIM_MODEL_PROFILES: 'true' }).generate(request(prompt, 'gemini-2.5-flash-lite'));
    expect(on.text).toBe(plan.text);
    expect(on.usage?.outputTokens).toBe(tokens.count(on.text));

    const off = await adapter().generate(request(prompt, 'gemini-2.5-flash-lite'));
    expect(off.text).toBe(simulatedAnswer(prompt, 42));
    // A model without a profile is simulated as before, even with profiles on.
    const unknown = await adapter({ SIM_MODEL_PROFILES: 'true' }).generate(request(prompt, 'gpt-unknown'));
    expect(unknown.text).toBe(simulatedAnswer(prompt, 42));
  });

  it('fails some requests for a weak model and fewer for a strong one, with degraded text', async () => {
    const on = adapter({ SIM_MODEL_PROFILES: 'true' });
    let liteFailures = 0;
    let proFailures = 0;
    for (let i = 0; i < 60; i++) {
      const p = generatedPrompt(i);
      // The profiles' transient 5xx (0.5%) may hit a call: retry once, as the pipeline would.
      const call = (model: string) => on.generate(request(p, model)).catch(() => on.generate(request(p, model)));
      const lite = await call('gemini-2.5-flash-lite');
      const pro = await call('gemini-2.5-pro');
      if (lite.text !== simulatedAnswer(p, 42)) liteFailures++;
      if (pro.text !== simulatedAnswer(p, 42)) proFailures++;
    }
    expect(liteFailures).toBeGreaterThan(proFailures);
  });

  it('applies the profile latency (Pro slower than Flash-Lite) scaled by SIM_LATENCY_MEDIAN_MS / 350', async () => {
    const on = adapter({ SIM_MODEL_PROFILES: 'true', SIM_LATENCY_MEDIAN_MS: '3.5' });
    const timed = async (model: string) => {
      const started = performance.now();
      await on.generate(request('Who was the first person to describe tides?', model));
      return performance.now() - started;
    };
    const lite = await timed('gemini-2.5-flash-lite');
    const pro = await timed('gemini-2.5-pro');
    const expectedPro = planSimulatedCall('gemini-2.5-pro', 'Who was the first person to describe tides?', 42)!;
    expect(pro).toBeGreaterThan(lite);
    expect(pro).toBeGreaterThanOrEqual(expectedPro.latencyMs / 100 - 5);
  });

  it('streams the same plan it would return, and keeps the global fault bands on top', async () => {
    const on = () => adapter({ SIM_MODEL_PROFILES: 'true' });
    for (const model of TIERS) {
      const whole = await on().generate(request(prompt, model));
      let streamed = '';
      for await (const event of on().stream(request(prompt, model))) if (event.type === 'delta') streamed += event.text;
      expect(streamed).toBe(whole.text);
    }
    await expect(
      adapter({ SIM_MODEL_PROFILES: 'true', SIM_ERROR_RATE: '1' }).generate(request(prompt, 'gemini-2.5-pro')),
    ).rejects.toMatchObject({ kind: 'server', details: { status: 500 } });
    const blocked = await on().generate(request(DEFAULT_LLM_DRILLS.badPrompt, 'gemini-2.5-flash'));
    expect(blocked.safetyBlock?.stage).toBe('prompt');
  });

  it('injects the profile upstream failure rate as transient 5xx errors', async () => {
    const on = adapter({ SIM_MODEL_PROFILES: 'true' });
    let errors = 0;
    const calls = 1500;
    for (let i = 0; i < calls; i++) {
      const outcome = await on.generate(request('Say hello.', 'gemini-2.5-flash-lite')).catch((e: unknown) => e);
      if (outcome instanceof Error) errors++;
    }
    // failureRate 0.5%: expect a handful, not zero, not many.
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(calls * 0.02);
    expect(simulatedProfiles().every((p) => p.failureRate === 0.005)).toBe(true);
  });
});
