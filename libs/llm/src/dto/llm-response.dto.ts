import { ApiInteger } from '@app/common';
/** Quality of the answer (see docs/ml.md). */
export class QualityDto {
  /** Overall quality in [0,1]. */
  score!: number;
  /** good (≥ 0.5), degraded (≥ 0.25) or bad. */
  label!: 'good' | 'degraded' | 'bad';
  /** Machine-readable reasons, e.g. off_topic, ungrounded, refusal, truncated. */
  reasons!: string[];
  /** Question ↔ answer semantic relevance in [0,1]. */
  relevance!: number;
  /** Share of the answer supported by the document in [0,1]; null without a document. */
  groundedness!: number | null;
  ungrounded!: boolean;
  /** A refusal, "I don't know", an empty, truncated or blocked answer. */
  failure_to_answer!: boolean;
  /** model: the trained TensorFlow.js model; rules: the rule-based fallback (model missing or failed). */
  scorer!: 'model' | 'rules';
  /**
   * What the score judged: `text` (a prose answer's relevance, groundedness, failure to answer), or the structure of
   * a `/v1` JSON answer (`json`: response_format json_object; `json_schema`: with its schema) or tool-call answer
   * (`tool_calls`): a structured answer that passes every check scores 0.6 (good), one that fails one 0.2 at most (bad).
   */
  judged!: 'text' | 'json' | 'json_schema' | 'tool_calls';
  /**
   * The structural checks made (`parses`, `object`, `schema`, `non_empty`; `offered_function`, `arguments_parse`,
   * `arguments_schema`); [] for text. A failed one is in `reasons` (`invalid_json`, `not_an_object`,
   * `schema_mismatch`, `empty`, `function_not_offered`, `invalid_arguments`, `arguments_mismatch`).
   */
  checks!: string[];
}

/** What the safety checks found in the prompt: types and scores, never the values. */
export class SafetyDto {
  /**
   * PII types found in the prompt (email, phone, credit_card, iban, bank_account, national_id, ip_address, secret,
   * date_of_birth, street_address, person_name, medical_id).
   */
  pii_types!: string[];
  /** True when PII_REDACT_PROMPTS replaced them before the prompt reached the provider. */
  pii_redacted_before_provider!: boolean;
  /** Prompt-injection score in [0,1]. */
  prompt_injection_score!: number;
  prompt_injection_flagged!: boolean;
  prompt_injection_signals!: string[];
  /** The prompt exceeded TOKEN_ABUSE_MAX_INPUT_TOKENS. */
  token_abuse!: boolean;
}

/** The model router's decision for this call (docs/router.md); present only on a routed call. */
export class RoutingMetadataDto {
  /** ROUTER_MODE: rules or learned. */
  mode!: 'off' | 'rules' | 'learned';
  /** The model the call was sent to first (its fallbacks follow if it fails). */
  selected_model!: string;
  /** The candidates weighed: those whose circuit admitted calls. */
  candidates_considered!: string[];
  /** Predicted quality score of the selected model; null when the rules chose. */
  predicted_quality!: number | null;
  /** Predicted latency (ms); null when the rules chose. */
  predicted_latency_ms!: number | null;
  /** Predicted cost (USD) from the price table; null when the model is not priced. */
  predicted_cost_usd!: number | null;
  /** The choice was an exploration draw (ROUTER_EXPLORATION), not the best prediction. */
  explored!: boolean;
  /**
   * rules, cold_start, model_unavailable, model_failure (these three: the rules chose), cheapest_meeting_constraints,
   * best_predicted, exploration, single_candidate, all_circuits_open.
   */
  reason!: string;
  /** The constraints the call was held to: the endpoint's defaults tightened by the request's `routing`. */
  constraints!: RoutingConstraintsMetadataDto;
}

/** A routed call's effective constraints. */
export class RoutingConstraintsMetadataDto {
  min_quality?: number;
  max_latency_ms?: number;
  max_cost_usd?: number;
}

/** Set when the answer came from the response cache (CACHE_MODE=exact, docs/cache.md). */
export class CacheMetadataDto {
  /** Always true: the answer is a cached one; no provider was called, no tokens were used, nothing was spent. */
  hit!: boolean;
  /** Seconds since the cached answer was stored. */
  @ApiInteger()
  age_s!: number;
  /** What the cached call cost in USD (saved by this hit); null when its model is not in the price table. */
  saved_cost_usd!: number | null;
}

/** What the call cost and used, and how it went. Keys are snake_case for compatibility with the origin API. */
export class LlmMetadataDto {
  /** A UUIDv4 identifying this call in logs, spans and the ledger. */
  prompt_id!: string;
  /** The provider that answered: simulated, vertex, gemini or openai. */
  provider!: string;
  /** True when no real model was called (the simulated provider). */
  simulated!: boolean;
  /** The model of the fallback chain that answered. */
  model!: string;
  /** The model id the provider reported (its version), else the model. */
  model_version!: string;
  /** The first model of the chain (LLM_MODEL). */
  requested_model!: string;
  /** End-to-end latency of the call in ms, retries and fallbacks included. */
  latency_ms!: number;
  /** Time to the first streamed token in ms (streaming only). */
  ttft_ms?: number;
  /** Input tokens, cached tokens included. */
  @ApiInteger()
  input_tokens!: number;
  /** Output tokens, reasoning tokens excluded. */
  @ApiInteger()
  output_tokens!: number;
  @ApiInteger()
  total_tokens!: number;
  /** Input tokens served from the provider's context cache. */
  @ApiInteger()
  cached_tokens!: number;
  /** Reasoning ("thinking") tokens, billed at the output rate. */
  @ApiInteger()
  reasoning_tokens!: number;
  /** True when token counts are the service's estimate (the provider reported none). */
  tokens_estimated!: boolean;
  /** Cost in USD from the dated price table; null when the model is not in the table. */
  cost_usd!: number | null;
  /** The price-table entry used, and the table's date. */
  cost_priced_as!: string | null;
  price_table_as_of!: string;
  /** Retries made (first attempts of each model not counted). */
  @ApiInteger()
  retry_count!: number;
  /** Attempts made in all. */
  @ApiInteger()
  attempts!: number;
  /** True when a fallback model answered. */
  fallback_used!: boolean;
  models_tried!: string[];
  /** True when the provider blocked the prompt or the answer. */
  safety_block!: boolean;
  /** The provider's block reason, when blocked. */
  safety_block_reason?: string;
  /** prompt or candidate, when blocked. */
  safety_block_stage?: string;
  /** stop, length, safety, error or other. */
  finish_reason!: string;
  /** The drills applied to this call (latency, retry, bad_prompt, long_context). */
  drills!: string[];
  /** Word count of the answer (origin key): its text and its tool calls (`name({...})`, one a line). */
  @ApiInteger()
  'llm.response.length'!: number;
  quality?: QualityDto;
  /** Origin key: question ↔ answer embedding similarity in [0,1] (now semantic, and meaningful on every endpoint). */
  'llm.semantic_similarity_score'?: number;
  /** Origin key: the answer is not supported by the given document. */
  'llm.ungrounded_answer_flag'?: boolean;
  safety?: SafetyDto;
  /** Only on an answer served from the response cache; its quality is the cached call's. */
  cache?: CacheMetadataDto;
  /** Only on a routed call (ROUTER_MODE rules or learned with ROUTER_CANDIDATES): which model and why. */
  routing?: RoutingMetadataDto;
}

/** An answer and its metadata. */
export class LlmResponseDto {
  /** The model's answer; empty only when `metadata.safety_block` is true. */
  answer!: string;
  metadata!: LlmMetadataDto;
}
