import { type MetricDefinition, TAG } from '@app/telemetry';

/** The call's tags; `status` is the call's (ok, safety_block, or error for a failed call's security findings). */
const QUALITY_TAGS = [TAG.endpoint, TAG.provider, TAG.model, TAG.status] as const;

/** Metrics of the ML lib (quality, security, drift), registered with the telemetry catalogue. */
export const ML_METRICS = {
  qualityScore: {
    name: 'llm.quality.score',
    type: 'distribution',
    unit: 'fraction',
    tags: [...QUALITY_TAGS, TAG.label],
    description:
      'Overall answer quality in [0,1] per LLM call (trained model, or rules when the model is missing); label good/degraded/bad.',
  },
  qualityRelevance: {
    name: 'llm.quality.relevance',
    type: 'distribution',
    unit: 'fraction',
    tags: QUALITY_TAGS,
    description: 'Question-answer relevance in [0,1] (offline GloVe embeddings, word alignment, answer type).',
  },
  qualityGroundedness: {
    name: 'llm.quality.groundedness',
    type: 'distribution',
    unit: 'fraction',
    tags: QUALITY_TAGS,
    description: 'Share of the answer supported by the supplied document, in [0,1]; only for calls with a document.',
  },
  ungroundedAnswers: {
    name: 'llm.ungrounded_answer.count',
    type: 'count',
    unit: 'response',
    tags: QUALITY_TAGS,
    description: 'Answers that contradict, or are mostly unsupported by, the supplied document.',
  },
  failureToAnswer: {
    name: 'llm.failure_to_answer.count',
    type: 'count',
    unit: 'response',
    tags: QUALITY_TAGS,
    description:
      'Refusals, "I don\'t know", empty, truncated or blocked answers, and failed calls (502/503/504, `status:error`).',
  },
  piiDetected: {
    name: 'llm.security.pii_detected.count',
    type: 'count',
    unit: 'request',
    tags: [...QUALITY_TAGS, TAG.piiType],
    description: 'Prompts containing personal data or secrets, once per PII type found (never the value).',
  },
  promptInjection: {
    name: 'llm.security.prompt_injection.count',
    type: 'count',
    unit: 'request',
    tags: [...QUALITY_TAGS, TAG.action],
    description: 'Prompts detected as prompt injection; action flagged (answered) or blocked (422).',
  },
  tokenAbuse: {
    name: 'llm.security.token_abuse.count',
    type: 'count',
    unit: 'request',
    tags: QUALITY_TAGS,
    description: 'Prompts over TOKEN_ABUSE_MAX_INPUT_TOKENS input tokens.',
  },
  remoteRelevance: {
    name: 'llm.quality.remote_relevance',
    type: 'distribution',
    unit: 'fraction',
    tags: QUALITY_TAGS,
    description:
      "Question-answer cosine from the provider's embedding model, computed after the response (vertex, gemini, openai).",
  },
  driftCurrent: {
    name: 'llm.quality.drift.current',
    type: 'gauge',
    unit: 'fraction',
    tags: [TAG.endpoint, TAG.model],
    description: 'Mean quality of the most recent answers (up to 50) per endpoint and model; reported every 10 s.',
  },
  driftProjected: {
    name: 'llm.quality.drift.projected_24h',
    type: 'gauge',
    unit: 'fraction',
    tags: [TAG.endpoint, TAG.model],
    description:
      'Quality projected 24 h ahead from the regression slope of the rolling window (24 h of answers, summed per minute).',
  },
  driftRisk: {
    name: 'llm.quality.drift.risk',
    type: 'gauge',
    unit: 'level',
    tags: [TAG.endpoint, TAG.model],
    description: 'Quality degradation risk: 0 low, 1 medium, 2 high, 3 critical.',
  },
} as const satisfies Record<string, MetricDefinition>;
