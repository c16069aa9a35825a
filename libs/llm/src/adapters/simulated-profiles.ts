import { seededRandom } from '@app/common';
import { hash32, keywords, parseQaPrompt, simulatedAnswer } from './simulated-text';
import { type SimTask, simulatedProfile } from './simulated-profile-table';
export * from './simulated-profile-table';

/**
 * Per-model profiles for the simulated provider (SIM_MODEL_PROFILES): how often each model answers a request
 * correctly, how fast it answers, and how often the upstream call fails. Every number comes from a published
 * source named in `sources` and in docs/ml.md ("Simulated model profiles"); prices are NOT here: the router
 * prices calls from libs/llm/src/pricing/price-table.json.
 */

export interface SimulatedCallPlan {
  task: SimTask;
  /** 0 (easy) .. 1 (hard): from the prompt's observable shape AND a hidden per-prompt component (hash), so it is not fully predictable from features. */
  difficulty: number;
  /** Whether this model answers this request correctly. */
  success: boolean;
  latencyMs: number;
  /** The answer text: the normal simulated answer on success; a degraded one on failure (see below). */
  text: string;
  fault: 'none' | 'error';
  /** The success probability the draw was made against (p(difficulty) for this model and task). */
  successProbability: number;
  /** How a failed answer is degraded; 'none' on success. */
  degradation: 'none' | 'hedge' | 'partial' | 'wrong' | 'off_topic';
  /** When the first answer token arrives (ms, includes thinking): streaming waits this long before the first delta. */
  firstTokenMs: number;
}

/** The default SIM_LATENCY_SIGMA: log-normal spread of latencies around their median. */
export const PROFILE_LATENCY_SIGMA = 0.35;
/** Item-difficulty spread of the success logistic, in logits (IRT item difficulties span about -2..+2). */
export const DIFFICULTY_LOGITS = 4;

const GROUNDED = /^\s*Q:[\s\S]*\nContext:\s*(?!N\/A\s*$)\S/;
const CODE =
  /```|\b(?:function|class|def|const|let|var|import|return|async|await|lambda)\b\s*[\w({]|=>|\b(?:code|python|javascript|typescript|java|rust|golang|sql|regex|bash|script|compile[sd]?|compiler|bug|debug|stack trace|refactor|implement|unit test|api endpoint)\b/i;
const MATH =
  /\d\s*[-+*/^×÷=<>]\s*\d|\b(?:solve|equation|integral|derivative|calculate|compute|sum of|product of|probability|prime|factorial|remainder|divisible|percent(?:age)?|how many|square root|log(?:arithm)?|matrix|theorem)\b/i;
const REASONING =
  /\b(?:why|explain|reason|because|puzzle|riddle|logic(?:al)?|deduce|infer|implies|therefore|step by step|which of the following|compare|trade-?offs?|pros and cons|if\b[^.?!]{0,80}\bthen|what would happen|justify|argue|evaluate)\b/i;
const KNOWLEDGE =
  /^\s*(?:who|what|when|where|which)\b|\b(?:capital of|founded|invented|discovered|born|died|population|located|year|author of|wrote|definition of|define|what is|who is|who was|when did|when was)\b/i;

/** The task the simulator sees in a prompt (exported for tests and the docs). */
export function simulatedTask(prompt: string): SimTask {
  if (GROUNDED.test(prompt)) return 'grounded_qa';
  const { question } = parseQaPrompt(prompt);
  if (CODE.test(question)) return 'code';
  if (MATH.test(question)) return 'math';
  if (REASONING.test(question)) return 'reasoning';
  if (KNOWLEDGE.test(question)) return 'knowledge';
  return 'chat';
}

const MULTI_STEP =
  /\b(?:step by step|steps?|first|second|third|then|finally|and then|after that|each|every|all of|both|compare|contrast|explain why|prove|derive|justify|analy[sz]e|evaluate|trade-?offs?|list|in detail|multiple|several)\b/gi;

/**
 * The observable part of a prompt's difficulty in [0,1]: length (log-scaled, 400 words ≈ 1), multi-step wording
 * (4 cues ≈ 1), and the presence of code and of mathematics. Weights 0.35/0.35/0.15/0.15.
 */
export function observableDifficulty(prompt: string): number {
  const { question, context } = parseQaPrompt(prompt);
  const wordCount = (question.match(/\S+/g) ?? []).length + 0.25 * (context?.match(/\S+/g) ?? []).length;
  const length = Math.min(1, Math.log1p(wordCount) / Math.log1p(400));
  const steps = Math.min(1, (question.match(MULTI_STEP)?.length ?? 0) / 4);
  const code = CODE.test(question) ? 1 : 0;
  const math = MATH.test(question) ? 1 : 0;
  return 0.35 * length + 0.35 * steps + 0.15 * code + 0.15 * math;
}

const uniform = (h: number): number => h / 0x1_0000_0000;
const HIDDEN_SALT = 0x2545f491;
const SUCCESS_SALT = 0x68e31da4;
const DEGRADE_SALT = 0x1b873593;
const FAULT_SALT = 0x7f4a7c15;
const LATENCY_SALT = 0x9e3779b9;

/** Difficulty in [0,1]: half the observable shape, half a hidden per-prompt hash (the same for every model). */
export function simulatedDifficulty(prompt: string, seed: number): number {
  return 0.5 * observableDifficulty(prompt) + 0.5 * uniform(hash32(prompt, seed ^ HIDDEN_SALT));
}

const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Mean of σ(θ − k(d − ½)) over d uniform on [0,1], in closed form. */
function meanSuccess(theta: number, k: number): number {
  return (softplus(theta + k / 2) - softplus(theta - k / 2)) / k;
}

const thetaCache = new Map<number, number>();

/** The ability θ whose mean success over uniform difficulty equals the benchmark score s (bisection). */
export function abilityFor(score: number, k = DIFFICULTY_LOGITS): number {
  const s = Math.min(0.999, Math.max(0.001, score));
  const key = s * 1e6 + k;
  const cached = thetaCache.get(key);
  if (cached !== undefined) return cached;
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (meanSuccess(mid, k) < s) lo = mid;
    else hi = mid;
  }
  const theta = (lo + hi) / 2;
  thetaCache.set(key, theta);
  return theta;
}

/**
 * P(correct) of a request of difficulty d for a benchmark score s: a Rasch (1-parameter IRT) item curve,
 * σ(θ − k·(d − ½)) with k = 4 logits, θ chosen so that the mean over d ~ U[0,1] equals s exactly.
 */
export function successProbability(score: number, difficulty: number, k = DIFFICULTY_LOGITS): number {
  return sigmoid(abilityFor(score, k) - k * (difficulty - 0.5));
}

/** Fluent answers about something else: what an off-topic reply looks like. */
const OFF_TOPIC_ANSWERS = [
  'Green tea leaves are steamed or pan-fired soon after picking, which stops oxidation and keeps them green.',
  'Sourdough starters stay active when they are fed flour and water every day and kept at a warm room temperature.',
  "Migrating birds use the sun, the stars and the earth's magnetic field to keep their heading on long flights.",
  'Old violins are often prized for their varnish and aged spruce, although blind tests rarely tell them apart.',
  'A good night of sleep helps memory, because the brain replays and consolidates what was learned during the day.',
];
const WRONG_ENTITIES = ['Lisbon', 'Kepler', 'the Danube', 'Osaka', 'Marie Curie', 'the Andes', 'Byzantium', 'Toronto'];

/** The answer without the extractive framing ("According to the provided document, ..."). */
function body(answer: string): string {
  return answer.replace(/^According to the provided document,\s*/, '');
}

/** A realistic wrong answer: changes numbers, swaps a named entity, or asserts a confident falsehood. */
function confidentlyWrong(answer: string, prompt: string, random: () => number): string {
  let changed = false;
  let text = answer.replace(/(?<![a-z\d])\d[\d,]*(?:\.\d+)?/gi, (n) => {
    changed = true;
    const value = Number(n.replace(/,/g, ''));
    const delta = 1 + Math.floor(random() * 9);
    return String(Number.isFinite(value) ? value + delta * (value >= 10 ? Math.ceil(value / 10) : 1) : delta);
  });
  const entity = WRONG_ENTITIES[Math.floor(random() * WRONG_ENTITIES.length)]!;
  const swapped = text.replace(/(?<=[a-z,;:]\s)[A-Z][a-z]+(?:\s[A-Z][a-z]+)*/, () => entity);
  if (swapped !== text) {
    text = swapped;
    changed = true;
  }
  if (changed) return text;
  const { question } = parseQaPrompt(prompt);
  const topic = keywords(question, 3).join(' ') || 'this';
  const year = 1700 + Math.floor(random() * 300);
  return `The answer is clearly ${entity}: ${topic} was settled there in ${year}, and no other explanation holds.`;
}

function degraded(
  kind: Exclude<SimulatedCallPlan['degradation'], 'none'>,
  answer: string,
  prompt: string,
  random: () => number,
): string {
  const { question } = parseQaPrompt(prompt);
  const topic = keywords(question, 3).join(', ') || 'that';
  switch (kind) {
    case 'hedge':
      return random() < 0.5
        ? `I'm not sure about ${topic}; it depends on many factors and I can't answer that reliably.`
        : `It's hard to say. There is no single answer about ${topic}, and it varies from case to case.`;
    case 'partial': {
      const first = body(answer).split(/(?<=[.!?])\s+/)[0] ?? '';
      const clause = first.split(/[,;:]\s+/)[0] ?? first;
      const wordsOf = clause.split(/\s+/);
      return wordsOf.slice(0, Math.max(3, Math.ceil(wordsOf.length / 2))).join(' ');
    }
    case 'wrong':
      return confidentlyWrong(body(answer), prompt, random);
    case 'off_topic':
      return OFF_TOPIC_ANSWERS[Math.floor(random() * OFF_TOPIC_ANSWERS.length)]!;
  }
}

/** Output tokens of a text, estimated (~4 characters a token) for latency only: usage uses the real tokenizer. */
function estimatedTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Pure and deterministic for (model, prompt, seed); no sleeping, no I/O. Undefined when the model has no profile. */
export function planSimulatedCall(
  model: string,
  prompt: string,
  seed: number,
  options: { latencySigma?: number } = {},
): SimulatedCallPlan | undefined {
  const profile = simulatedProfile(model);
  if (!profile) return undefined;
  const task = simulatedTask(prompt);
  const difficulty = simulatedDifficulty(prompt, seed);
  const p = successProbability(profile.quality[task], difficulty);
  // Common random numbers: one draw per request shared by every model, so a request a weaker model answers is
  // answered by every model whose p is at least as high.
  const success = uniform(hash32(prompt, seed ^ SUCCESS_SALT)) < p;
  const modelKey = `${profile.model}\u0000${prompt}`;
  const fault = uniform(hash32(modelKey, seed ^ FAULT_SALT)) < profile.failureRate ? 'error' : 'none';

  const answer = simulatedAnswer(prompt, seed);
  let degradation: SimulatedCallPlan['degradation'] = 'none';
  let text = answer;
  if (!success) {
    const random = seededRandom(hash32(modelKey, seed ^ DEGRADE_SALT));
    const kinds = ['hedge', 'partial', 'wrong', 'off_topic'] as const;
    degradation = kinds[Math.floor(random() * kinds.length)]!;
    text = degraded(degradation, answer, prompt, random);
  }

  // Log-normal noise (Box-Muller on the (model, prompt) sequence), shared by first token and total.
  const random = seededRandom(hash32(modelKey, seed ^ LATENCY_SALT));
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const noise = Math.exp((options.latencySigma ?? PROFILE_LATENCY_SIGMA) * z);
  const ttft = profile.thinking ? profile.ttftMs * (0.5 + difficulty) : profile.ttftMs;
  const firstTokenMs = ttft * noise;
  const latencyMs = (ttft + (1000 * estimatedTokens(text)) / profile.outputTokensPerS) * noise;
  return { task, difficulty, success, latencyMs, text, fault, successProbability: p, degradation, firstTokenMs };
}
