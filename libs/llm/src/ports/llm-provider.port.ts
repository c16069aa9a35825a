import type { LlmProviderName } from '@app/config';

/** Token usage of one call. `inputTokens` includes `cachedTokens`; `outputTokens` excludes `reasoningTokens`. */
export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  /** As reported by the provider; else input + output + reasoning. */
  totalTokens: number;
  /** Input tokens served from the provider's context cache (billed at the cached-input rate). */
  cachedTokens: number;
  /** Thinking/reasoning tokens (Gemini `thoughtsTokenCount`, OpenAI `completion_tokens_details.reasoning_tokens`), billed at the output rate. */
  reasoningTokens: number;
  /** True when the numbers are the service's estimate because the provider reported none. */
  estimated: boolean;
}

/** Normalised finish reasons; `rawFinishReason` keeps the provider's own word. `tool_calls`: the model called tools. */
export type FinishReason = 'stop' | 'length' | 'safety' | 'tool_calls' | 'error' | 'other';

/** A tool (function) call of the model: `arguments` is the JSON text of an object. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One message of a conversation (the chat endpoint), text only. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** The text ('' for an assistant message that only calls tools). */
  content: string;
  /** An assistant message's tool calls. */
  toolCalls?: readonly ToolCall[];
  /** A tool message: the call it answers, and that call's function name. */
  toolCallId?: string;
  toolName?: string;
}

/** A function the model may call; `parameters` is a JSON Schema of an object. */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

/** `auto` (the model decides), `none`, `required` (some tool), or one named function. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** JSON mode: any JSON object, or one matching a JSON Schema. */
export type ResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean };

/** What an adapter can translate besides text; a request asking for more is refused before it is sent. */
export interface ProviderCapabilities {
  tools: boolean;
  jsonObject: boolean;
  jsonSchema: boolean;
  /** The seed's width when narrower than a JS safe integer (Gemini's is a 32-bit integer). */
  seedBits?: 32;
  /**
   * True when the provider takes an earlier tool call's `arguments` as the text it was (OpenAI's protocol: a string):
   * a model's malformed JSON is sent back as it came. Else they must be the JSON text of an object (Gemini's `args`).
   */
  textToolArguments?: true;
}

export interface SafetyBlock {
  /** `prompt`: the provider refused the prompt; `candidate`: it withheld the answer. */
  stage: 'prompt' | 'candidate';
  /** The provider's reason, e.g. SAFETY, PROHIBITED_CONTENT, content_filter. */
  reason: string;
}

export interface LlmGenerateRequest {
  /** The model to call for this request only (never stored on the adapter: requests do not share model state). */
  model: string;
  prompt: string;
  systemInstruction?: string;
  temperature: number;
  /**
   * True when `temperature` is the configured LLM_TEMPERATURE, not the caller's: an adapter leaves it out for a model
   * that takes only its own (OpenAI's reasoning models refuse any other).
   */
  temperatureDefaulted?: boolean;
  maxOutputTokens: number;
  /** Aborted on the per-attempt timeout or when the client goes away; adapters must pass it to the SDK. */
  signal: AbortSignal;
  /** Per-attempt timeout in ms (informational: `signal` enforces it). */
  timeoutMs: number;
  /**
   * A conversation (the chat endpoint): adapters send it instead of `prompt` (then its text, for counting and logs),
   * system messages included, in order.
   */
  messages?: readonly ChatMessage[];
  topP?: number;
  /** Seeded sampling (best effort); penalties of repeated tokens, -2 to 2. */
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  stopSequences?: readonly string[];
  responseFormat?: ResponseFormat;
  tools?: readonly ToolDefinition[];
  toolChoice?: ToolChoice;
  /**
   * At most one tool call in the answer (OpenAI's `parallel_tool_calls: false`): sent where the protocol has the field
   * (OpenAI), and the pipeline keeps the answer's first call wherever a model made more.
   */
  parallelToolCalls?: false;
  /** The end user's id, for the provider's abuse monitoring (sent where the protocol has a field for it). */
  user?: string;
}

export interface LlmGenerateResult {
  text: string;
  /** The model that answered (the provider's response model/version when it reports one). */
  model: string;
  finishReason: FinishReason;
  rawFinishReason?: string;
  /** Undefined when the provider reported no usage: the caller estimates and marks it. */
  usage?: LlmUsage;
  /** Set when the prompt or the answer was blocked by the provider's safety system. */
  safetyBlock?: SafetyBlock;
  /** The tool calls of the answer (its text may then be empty). */
  toolCalls?: readonly ToolCall[];
  /**
   * The model's own refusal to answer, in its words (OpenAI's `message.refusal`, e.g. under a strict JSON schema);
   * the result is then also a candidate safety block (`safetyBlock.reason: refusal`).
   */
  refusal?: string;
}

export type LlmStreamEvent = { type: 'delta'; text: string } | { type: 'done'; result: LlmGenerateResult };

/** The kinds of provider failure; they decide retry, breaker and HTTP status. */
export type LlmErrorKind =
  | 'rate_limit' // 429
  | 'timeout' // per-attempt timeout or upstream 504/408
  | 'server' // 5xx
  | 'connection' // refused, reset, DNS...
  | 'auth' // 401/403, or a 400 that refuses our key (Gemini's API_KEY_INVALID) or account (FAILED_PRECONDITION)
  | 'quota_exhausted' // a 429 that does not clear by waiting: OpenAI's insufficient_quota (billing)
  | 'not_found' // 404: unknown model
  | 'bad_request' // other 4xx: the request itself (the caller's: context too long, an invalid argument)
  | 'aborted' // the client went away
  | 'invalid_response' // a 200 the adapter could not read
  | 'empty_response'; // a 200 with no answer text and no safety block (the service's check, for every provider)

export const RETRYABLE_KINDS: ReadonlySet<LlmErrorKind> = new Set([
  'rate_limit',
  'timeout',
  'server',
  'connection',
  'empty_response',
]);

export interface LlmProviderErrorDetails {
  provider: LlmProviderName;
  model: string;
  status?: number;
  retryAfterMs?: number;
  /**
   * The provider's own word for the failure, when its body gave one: OpenAI's `error.code` (else `error.type`), Google's
   * `ErrorInfo.reason` (else `error.status`); `context_length_exceeded` for a prompt over the model's window, whatever
   * the provider called it.
   */
  providerCode?: string;
  /** The request field the provider named (OpenAI's `error.param`). */
  param?: string;
  /**
   * What the provider reported it billed for a failed attempt: a 200 without answer text (`empty_response`, e.g. a
   * reasoning model that spent its output budget thinking) still carries its usage. The call's records count it.
   */
  usage?: LlmUsage;
}

/** A provider failure, as every adapter reports it (never an SDK error type). */
export class LlmProviderError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly details: LlmProviderErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LlmProviderError';
    this.retryable = RETRYABLE_KINDS.has(kind);
  }
}

/**
 * Port: one model provider. Adapters (simulated, vertex, gemini, openai) implement it on the real SDK or
 * protocol; they hold no per-request state, map every failure to `LlmProviderError`, and honour `signal`.
 */
export abstract class LlmProvider {
  abstract readonly name: LlmProviderName;
  /** True only for the simulated provider: responses say so. */
  abstract readonly simulated: boolean;
  /** Tools and JSON modes the adapter translates (none by default). */
  readonly capabilities: ProviderCapabilities = { tools: false, jsonObject: false, jsonSchema: false };
  abstract generate(request: LlmGenerateRequest): Promise<LlmGenerateResult>;
  /** Streams text deltas, then exactly one `done` event with the full result (usage included when reported). */
  abstract stream(request: LlmGenerateRequest): AsyncIterable<LlmStreamEvent>;

  /** Releases connections (keep-alive pools) on shutdown. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
