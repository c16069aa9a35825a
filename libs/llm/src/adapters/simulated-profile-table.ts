/**
 * Per-model profiles for the simulated provider (SIM_MODEL_PROFILES): how often each model answers a request
 * correctly, how fast it answers, and how often the upstream call fails. Every number comes from a published
 * source named in `sources` and in docs/ml.md ("Simulated model profiles"); prices are NOT here: the router
 * prices calls from libs/llm/src/pricing/price-table.json.
 */

export type SimTask = 'grounded_qa' | 'knowledge' | 'math' | 'code' | 'reasoning' | 'chat';

export const SIM_TASKS: readonly SimTask[] = ['grounded_qa', 'knowledge', 'math', 'code', 'reasoning', 'chat'];

/** The public benchmark each task's quality is taken from (docs/ml.md says why). */
export const SIM_TASK_BENCHMARKS: Readonly<Record<SimTask, string>> = {
  grounded_qa: 'FACTS Grounding',
  knowledge: 'SimpleQA',
  math: 'AIME 2025',
  code: 'LiveCodeBench',
  reasoning: 'GPQA Diamond',
  chat: 'Global MMLU (Lite)',
};

export interface SimulatedModelProfile {
  model: string;
  /** Probability of a correct answer on a typical request of each task (from the cited benchmark scores). */
  quality: Record<SimTask, number>;
  /** Time to first token (median, ms) and output speed (tokens/s), from cited measurements. */
  ttftMs: number;
  outputTokensPerS: number;
  /** Share of calls that fail upstream (5xx) — small; documented. */
  failureRate: number;
  sources: readonly string[];
  /**
   * A thinking model (in its default API configuration): `ttftMs` includes its median thinking time, and the
   * thinking time of a request scales with its difficulty (0.5x for the easiest, 1.5x for the hardest).
   */
  thinking: boolean;
  /** Which benchmark column was used (e.g. "thinking", "non-thinking"): the model's default API mode. */
  mode: string;
  /** Numbers that could not be checked against a stored copy of their source (docs/ml.md lists them). */
  unverified: readonly string[];
}

/** Upstream 5xx share for every profile: an assumption, not a measurement (docs/ml.md). */
const UPSTREAM_FAILURE_RATE = 0.005;

const GEMINI_25_FLASH_LITE_CARD =
  'Gemini 2.5 Flash-Lite model card / announcement benchmark table (Google DeepMind, 2025): columns 2.5 Flash-Lite non-thinking, 2.5 Flash thinking, 2.0 Flash — https://deepmind.google/models/gemini/flash-lite/';
const GEMINI_25_PRO_CARD =
  'Gemini 2.5 Pro model card / Gemini 2.5 technical report (Google DeepMind, 2025) — https://deepmind.google/models/gemini/pro/';
const PRICE_TABLE = 'prices: libs/llm/src/pricing/price-table.json (not duplicated here)';

const PROFILES: readonly SimulatedModelProfile[] = [
  {
    model: 'gemini-2.5-flash-lite',
    mode: 'non-thinking (the API default for Flash-Lite)',
    thinking: false,
    quality: { grounded_qa: 0.841, knowledge: 0.107, math: 0.498, code: 0.337, reasoning: 0.646, chat: 0.811 },
    ttftMs: 290,
    outputTokensPerS: 393,
    failureRate: UPSTREAM_FAILURE_RATE,
    sources: [
      GEMINI_25_FLASH_LITE_CARD,
      'Galileo model hub, "Gemini-2.5-flash-lite Overview" (392.8 tokens/s, 0.29 s TTFT, Artificial Analysis figures; AIME thinking 63.1%) — https://galileo.ai/model-hub/gemini-2-5-flash-lite-overview',
      'awesomeagents.ai model page (81.1% Global-MMLU-Lite, 64.6% GPQA Diamond, 49.8% AIME 2025 non-thinking; 358.9 tokens/s, 0.23 s TTFT) — https://awesomeagents.ai/models/gemini-2-5-flash-lite',
      PRICE_TABLE,
    ],
    unverified: ['FACTS Grounding 84.1', 'SimpleQA 10.7', 'LiveCodeBench 33.7'],
  },
  {
    model: 'gemini-2.0-flash',
    mode: 'non-thinking (no thinking mode)',
    thinking: false,
    quality: { grounded_qa: 0.846, knowledge: 0.299, math: 0.297, code: 0.291, reasoning: 0.652, chat: 0.834 },
    ttftMs: 510,
    outputTokensPerS: 200,
    failureRate: UPSTREAM_FAILURE_RATE,
    sources: [
      GEMINI_25_FLASH_LITE_CARD,
      'Daniel Corin, "Gemini uses thinking by default" (measured gemini-2.0-flash TTFT 0.511 s) — https://danielcorin.com/til/gemini/gemini-uses-thinking-by-default',
      'Artificial Analysis model page for Gemini 2.0 Flash (output speed ~200 tokens/s; best-known figure, not in the stored sources) — https://artificialanalysis.ai/models/gemini-2-0-flash',
      PRICE_TABLE,
    ],
    unverified: ['every quality score (2.0 Flash column)', 'output speed 200 tokens/s'],
  },
  {
    model: 'gemini-2.5-flash',
    mode: 'thinking (dynamic thinking is the API default for 2.5 Flash)',
    thinking: true,
    quality: { grounded_qa: 0.853, knowledge: 0.269, math: 0.72, code: 0.554, reasoning: 0.828, chat: 0.884 },
    ttftMs: 6000,
    outputTokensPerS: 205,
    failureRate: UPSTREAM_FAILURE_RATE,
    sources: [
      GEMINI_25_FLASH_LITE_CARD,
      'Gemini 2.5 Flash model card (Google DeepMind; 09-2025 preview: GPQA 80.8%, AIME 2025 75.6%, LiveCodeBench 71.7%, FACTS 87.5% — a later version, for comparison) — https://www.modelcards.net/documents/18',
      'K. Ganglani, "5 LLM APIs tested for latency" (Gemini 2.5 Flash 204.5 tokens/s, thinking off, March 2026) — https://wpnews.pro/news/5-llm-apis-tested-for-latency-real-data-2026',
      'Artificial Analysis model page for Gemini 2.5 Flash (reasoning): time to first answer token of several seconds, thinking included; 6 s is a best-known round figure, not in the stored sources — https://artificialanalysis.ai/models/gemini-2-5-flash-reasoning',
      PRICE_TABLE,
    ],
    unverified: [
      'FACTS Grounding 85.3',
      'SimpleQA 26.9',
      'AIME 2025 72.0',
      'LiveCodeBench 55.4',
      'GPQA 82.8',
      'Global MMLU Lite 88.4',
      'TTFT 6 s',
    ],
  },
  {
    model: 'gemini-2.5-pro',
    mode: 'thinking (Pro always thinks)',
    thinking: true,
    quality: { grounded_qa: 0.878, knowledge: 0.54, math: 0.88, code: 0.69, reasoning: 0.864, chat: 0.892 },
    ttftMs: 20_000,
    outputTokensPerS: 150,
    failureRate: UPSTREAM_FAILURE_RATE,
    sources: [
      GEMINI_25_PRO_CARD,
      'Gemini 2.5 technical report summary (AIME 2025 88.0%, LiveCodeBench 69.0%) — https://api.askpandi.com/pandipedia/summarize-the-key-points-and-insights-from-the-sources-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16-17-18-19-20-21-22-23-24-25-26-27',
      'Artificial Analysis model page for Gemini 2.5 Pro: ~150 tokens/s and a time to first answer token of tens of seconds, thinking included; best-known round figures, not in the stored sources — https://artificialanalysis.ai/models/gemini-2-5-pro',
      PRICE_TABLE,
    ],
    unverified: [
      'FACTS Grounding 87.8',
      'SimpleQA 54.0',
      'GPQA 86.4',
      'Global MMLU Lite 89.2',
      'TTFT 20 s',
      '150 tokens/s',
    ],
  },
];

const BY_MODEL = new Map(PROFILES.map((p) => [p.model, p]));

/** Every profile (for the docs and tests). */
export function simulatedProfiles(): readonly SimulatedModelProfile[] {
  return PROFILES;
}

/**
 * The profile of a model id, resolving provider prefixes ("models/", "google/"), and dated or versioned
 * suffixes ("-001", "-preview-06-17", "-latest", "@001"). A different tier is never matched: "gemini-2.5-flash-lite"
 * is not "gemini-2.5-flash", and "gemini-2.5-flash-image" is nothing.
 */
export function simulatedProfile(model: string): SimulatedModelProfile | undefined {
  let id = model.trim().toLowerCase();
  id = id.replace(/^(?:models|google|publishers\/google\/models)\//, '');
  id = id.replace(/@.*$/, '');
  for (;;) {
    const exact = BY_MODEL.get(id);
    if (exact) return exact;
    const stripped = id
      .replace(/-(?:preview|exp|experimental)(?:-\d{2}-\d{2}(?:-\d{4})?|-\d{2}-\d{4}|-\d{4}(?:-\d{2}){0,2})?$/, '')
      .replace(/-(?:latest|\d{3}|\d{2}-\d{2}|\d{4}-\d{2}-\d{2}|\d{8})$/, '');
    if (stripped === id) return undefined;
    id = stripped;
  }
}
