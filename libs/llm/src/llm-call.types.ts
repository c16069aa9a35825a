import type { QualityReport } from '@app/ml';
import type { HttpLogFields } from '@app/telemetry';
import type { PromptInspection } from './assessment/call-assessor';
import type { CostBreakdown } from './pricing/price-table';
import type { FinishReason, LlmUsage, SafetyBlock } from './ports/llm-provider.port';

export type LlmEndpoint = 'qa' | 'reason' | 'stress';

/** The origin's query toggles, kept as drills: each one's effect shows in the response metadata. */
export interface DrillFlags {
  /** +1 s inside the measured latency. */
  latency: boolean;
  /** The first attempt fails with a synthetic retryable error: the real retry path runs. */
  retry: boolean;
  /** The prompt is replaced by a fixed harmful request: the provider's safety filter answers. */
  badPrompt: boolean;
  /** About 24k characters of neutral context are appended: real tokens and cost. */
  longContext: boolean;
}

export const NO_DRILLS: DrillFlags = { latency: false, retry: false, badPrompt: false, longContext: false };

export interface LlmCallInput {
  endpoint: LlmEndpoint;
  /** The user's text (question or prompt), for scoring and logs. */
  userText: string;
  /** The full prompt sent to the model. */
  prompt: string;
  document?: string;
  drills: DrillFlags;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** The safety findings on the prompt (set by CallAssessor.inspect). */
  inspection?: PromptInspection;
  /**
   * The HTTP fields of the request line a stream handed over before its call ran (RequestTelemetry.handOffLogLine):
   * the line of a stream its client abandons is the call's, with them.
   */
  requestLine?: HttpLogFields;
}

export interface LlmCallResult {
  promptId: string;
  endpoint: LlmEndpoint;
  provider: string;
  simulated: boolean;
  /** The model of the chain that answered. */
  model: string;
  /** The model the provider says answered (its version id), when it reports one. */
  modelVersion: string;
  requestedModel: string;
  answer: string;
  finishReason: FinishReason;
  rawFinishReason?: string;
  usage: LlmUsage;
  cost: CostBreakdown;
  latencyMs: number;
  ttftMs?: number;
  retryCount: number;
  attempts: number;
  fallbackUsed: boolean;
  modelsTried: string[];
  lastUpstreamStatus: number | null;
  safetyBlock?: SafetyBlock;
  drillsApplied: string[];
  /** The prompt actually sent (after drills); never returned to the client. */
  sentPrompt: string;
  /** The LLM Observability reference of the answering attempt's span, for evaluations. */
  evaluationRef?: unknown;
  /** Quality and safety of the call (set by CallAssessor). */
  quality?: QualityReport;
  inspection?: PromptInspection;
}
