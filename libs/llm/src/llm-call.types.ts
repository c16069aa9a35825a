import type { RouteConstraints } from '@app/config';
import type { PromptSafetyReport, QualityReport } from '@app/ml';
import type { HttpLogFields } from '@app/telemetry';
import type { CacheInfo } from './pipeline/cached-answer';
import type { CostBreakdown } from './pricing/price-table';
import type { RouteDecision } from './routing/route-decider';
import type {
  ChatMessage,
  FinishReason,
  LlmUsage,
  ResponseFormat,
  SafetyBlock,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from './ports/llm-provider.port';

/** The endpoint tag of a call: `chat` is `POST /v1/chat/completions` (the OpenAI-compatible API). */
/** What the safety check found before the call, carried to the assessment after it. */
export interface PromptInspection {
  report: PromptSafetyReport;
  action: 'flagged' | 'blocked' | 'none';
  /** True when PII_REDACT_PROMPTS replaced PII in the prompt before it reached the provider. */
  redacted: boolean;
}

export type LlmEndpoint = 'qa' | 'reason' | 'stress' | 'chat';

/** What a chat call (`/v1/chat/completions`) asks for beyond a prompt: its model, conversation and settings. */
export interface ChatCallOptions {
  /** The primary model of this call (a configured model; an alias resolved); the configured fallbacks follow it. */
  model: string;
  /** `model: "auto"`: the model router chooses the call's model (docs/router.md); `model` is then its first candidate. */
  routed?: boolean;
  messages: ChatMessage[];
  temperature?: number;
  topP?: number;
  /** Seeded sampling (best effort, as at OpenAI). */
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  responseFormat?: ResponseFormat;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /** `parallel_tool_calls: false`: at most one tool call in the answer. */
  parallelToolCalls?: false;
  user?: string;
  /** The caller's `metadata` (string values), shown on the call's LLM Observability span. */
  metadata?: Record<string, string>;
}

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
  /** The full prompt sent to the model (a chat call: its conversation as text, for counting, logs and the ledger). */
  prompt: string;
  /** A chat call's conversation, model and settings (`/v1/chat/completions`). */
  chat?: ChatCallOptions;
  document?: string;
  drills: DrillFlags;
  /** The request's own routing constraints (body `routing`): they may only tighten the endpoint's defaults. */
  routing?: RouteConstraints;
  /** Set by the router on a routed call: its decision and features as the ledger keeps them (`router_decision`). */
  routeRecord?: string;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** The name of the API key the call was made with (none with auth off): the response cache's partition. */
  principal?: string;
  /** The safety findings on the prompt (set by CallAssessor.inspect). */
  inspection?: PromptInspection;
  /**
   * The HTTP fields of the request line a stream handed over before its call ran (RequestTelemetry.handOffLogLine):
   * the line of a stream its client abandons is the call's, with them.
   */
  requestLine?: HttpLogFields;
  /**
   * The call has its prompt id (admitted, before the provider is asked): the HTTP layer names the call by it before
   * its answer (a stream's response begun early, the error of a call the shutdown cut).
   */
  onPromptId?: (promptId: string) => void;
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
  /** The answer's tool calls (chat calls only). */
  toolCalls?: readonly ToolCall[];
  /** The model's refusal to answer, in its words (LlmGenerateResult.refusal); also a candidate safety block. */
  refusal?: string;
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
  /** Set when the answer came from the response cache (docs/cache.md): no provider call was made. */
  cache?: CacheInfo;
  /** The router's decision for this call (docs/router.md); absent when the call was not routed. */
  routing?: RouteDecision & { constraints: RouteConstraints };
}
