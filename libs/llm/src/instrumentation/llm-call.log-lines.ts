import { CUT_AT_SHUTDOWN_STATUS } from '@app/common';
import type { HttpLogFields, LogSanitizer } from '@app/telemetry';
import type { LlmCallInput, LlmCallResult, LlmEndpoint } from '../llm-call.types';
import type { LlmCallAbandonedError, LlmCallFailedError } from '../llm.errors';
import type { Spent } from '../pipeline/spend';
import { answerText } from '../pipeline/chat-text';

/** Milliseconds to one decimal, as every LlmCall line writes them. */
const ms = (value: number): number => Math.round(value * 10) / 10;

/** The `llm call completed` line: what was asked and answered (redacted, truncated), its tokens, cost and timing. */
export function answeredLine(
  result: LlmCallResult,
  status: string,
  http: HttpLogFields | undefined,
  sanitizer: LogSanitizer,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const answer = answerText(result.answer, result.toolCalls);
  return {
    ...(http ? { http } : {}),
    prompt_id: result.promptId,
    endpoint: result.endpoint,
    provider: result.provider,
    model: result.model,
    // As the provider named it (an upstream's text, like its answer).
    model_version: sanitizer.text(result.modelVersion),
    call_status: status,
    latency_ms: ms(result.latencyMs),
    ttft_ms: result.ttftMs !== undefined ? ms(result.ttftMs) : undefined,
    input_tokens: result.usage.inputTokens,
    output_tokens: result.usage.outputTokens,
    tokens_estimated: result.usage.estimated,
    cost_usd: result.cost.costUsd,
    retry_count: result.retryCount,
    fallback_used: result.fallbackUsed,
    finish_reason: result.finishReason,
    safety_block_reason: result.safetyBlock?.reason,
    drills: result.drillsApplied.length > 0 ? result.drillsApplied : undefined,
    prompt: sanitizer.text(result.sentPrompt),
    // The answer's text and tool calls (`name({...})`, one a line): a tool-call answer is not an empty one.
    answer_chars: answer.length,
    answer_preview: sanitizer.text(answer),
    ...extra,
  };
}

/** The `llm call failed` (or `rejected by the provider`) line: the failure, what it cost, the prompt (redacted). */
export function failedLine(
  call: { endpoint: LlmEndpoint; provider: string; promptId: string; prompt: string },
  error: LlmCallFailedError,
  latencyMs: number,
  sanitizer: LogSanitizer,
  spent?: Spent,
): Record<string, unknown> {
  const ctx = error.context;
  return {
    prompt_id: call.promptId,
    endpoint: call.endpoint,
    provider: call.provider,
    model: ctx.model,
    call_status: error.rejected ? 'rejected' : 'error',
    code: error.code,
    error_type: ctx.lastErrorKind,
    provider_code: ctx.providerCode,
    attempts: ctx.attempts,
    models_tried: ctx.modelsTried,
    last_upstream_status: ctx.lastUpstreamStatus,
    latency_ms: ms(latencyMs),
    detail: sanitizer.text(error.detail),
    ...(spent
      ? {
          input_tokens: spent.usage.inputTokens,
          output_tokens: spent.usage.outputTokens,
          reasoning_tokens: spent.usage.reasoningTokens,
          tokens_estimated: spent.usage.estimated,
          cost_usd: spent.cost.costUsd,
        }
      : {}),
    prompt: sanitizer.text(call.prompt),
  };
}

/** The line of a call its client abandoned, or the shutdown cut: a stream's own request line, with 499 (or 503). */
export function abandonedLine(
  input: LlmCallInput,
  error: LlmCallAbandonedError,
  spent: Spent,
  latencyMs: number,
  promptId: string,
  errorType: string,
  sanitizer: LogSanitizer,
): Record<string, unknown> {
  const ctx = error.context;
  const http = input.requestLine;
  const shutdown = errorType === 'shutdown'; // SHUTDOWN_CUT, else CLIENT_ABORT
  return {
    ...(http ? { http: { ...http, status_code: shutdown ? CUT_AT_SHUTDOWN_STATUS : 499 } } : {}),
    prompt_id: promptId,
    endpoint: input.endpoint,
    provider: ctx.provider,
    model: ctx.model,
    call_status: 'aborted',
    code: error.code,
    error_type: errorType,
    in_flight: ctx.inFlight,
    attempts: ctx.attempts,
    latency_ms: ms(latencyMs),
    input_tokens: spent.usage.inputTokens,
    output_tokens: spent.usage.outputTokens,
    tokens_estimated: spent.usage.estimated,
    cost_usd: spent.cost.costUsd,
    prompt: sanitizer.text(input.prompt),
  };
}
