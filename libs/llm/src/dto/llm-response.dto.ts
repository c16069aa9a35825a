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
  input_tokens!: number;
  /** Output tokens, reasoning tokens excluded. */
  output_tokens!: number;
  total_tokens!: number;
  /** Input tokens served from the provider's context cache. */
  cached_tokens!: number;
  /** Reasoning ("thinking") tokens, billed at the output rate. */
  reasoning_tokens!: number;
  /** True when token counts are the service's estimate (the provider reported none). */
  tokens_estimated!: boolean;
  /** Cost in USD from the dated price table; null when the model is not in the table. */
  cost_usd!: number | null;
  /** The price-table entry used, and the table's date. */
  cost_priced_as!: string | null;
  price_table_as_of!: string;
  /** Retries made (first attempts of each model not counted). */
  retry_count!: number;
  /** Attempts made in all. */
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
  /** Word count of the answer (origin key). */
  'llm.response.length'!: number;
}

/** An answer and its metadata. */
export class LlmResponseDto {
  /** The model's answer; empty only when `metadata.safety_block` is true. */
  answer!: string;
  metadata!: LlmMetadataDto;
}
