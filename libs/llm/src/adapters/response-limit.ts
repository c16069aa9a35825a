/**
 * How much of an upstream answer one attempt may read. A model writes at most `maxOutputTokens` tokens (reasoning
 * included); a token is a few characters, and a stream that sends one token per event spends a few hundred bytes
 * of JSON framing on each (id, model, choices, usage...). 1 KiB per token leaves a wide margin over both, and
 * 1 MiB covers small calls; `LLM_MAX_RESPONSE_BYTES` caps the result. Beyond it the answer is not a model's
 * (a runaway generation, a base URL pointing at the wrong host) and is refused before it can fill the heap.
 */
export const RESPONSE_BYTES_PER_OUTPUT_TOKEN = 1024;
export const MIN_RESPONSE_LIMIT_BYTES = 1024 * 1024;

/** The response limit of one call: its max output tokens × 1 KiB, at least 1 MiB, at most `ceiling`. */
export function responseByteLimit(maxOutputTokens: number, ceiling: number): number {
  return Math.min(ceiling, Math.max(MIN_RESPONSE_LIMIT_BYTES, maxOutputTokens * RESPONSE_BYTES_PER_OUTPUT_TOKEN));
}
