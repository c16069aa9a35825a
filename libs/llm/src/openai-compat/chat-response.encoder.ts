import type { LlmMetadataDto } from '../dto/llm-response.dto';
import type { LlmCallResult } from '../llm-call.types';
import type { LlmStream } from '../llm.service';
import type { FinishReason, LlmUsage, ToolCall } from '../ports/llm-provider.port';
import type {
  ChatCompletionResponseDto,
  ChatCompletionUsageDto,
  ChatToolCallDto,
  OpenAiErrorDto,
} from './chat-completion.dto';

/** The request header that asks for the `control_plane` extension field (`true`). */
export const METADATA_REQUEST_HEADER = 'x-control-plane-metadata';

/** OpenAI's finish reasons: a safety block is `content_filter`; anything unnamed is a normal `stop`. */
const FINISH_REASONS: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  safety: 'content_filter',
  tool_calls: 'tool_calls',
  error: 'stop',
  other: 'stop',
};

/**
 * The answer's finish reason as OpenAI gives it. A model's refusal (`message.refusal`) finishes as the model said
 * (`stop`, or `length`), as OpenAI answers it, not as `content_filter`: the refusal is the model's own answer, which
 * the SDK reads from `message.refusal` (its `parse()` throws on `content_filter` instead).
 */
function finishReason(result: LlmCallResult): string {
  if (result.refusal !== undefined && result.rawFinishReason !== 'content_filter') {
    return result.rawFinishReason === 'length' ? 'length' : 'stop';
  }
  return FINISH_REASONS[result.finishReason];
}

export function completionId(promptId: string): string {
  return `chatcmpl-${promptId}`;
}

/** OpenAI's usage: `completion_tokens` includes the reasoning tokens; `total_tokens` is their sum with the prompt's. */
export function wireUsage(usage: LlmUsage): ChatCompletionUsageDto {
  const completion = usage.outputTokens + usage.reasoningTokens;
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: completion,
    total_tokens: usage.inputTokens + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

function wireToolCalls(calls: readonly ToolCall[]): ChatToolCallDto[] {
  return calls.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
}

/** A whole answer as a `chat.completion`; `controlPlane` only for a caller who asked for it. */
export function completionBody(
  result: LlmCallResult,
  created: number,
  controlPlane?: LlmMetadataDto,
): ChatCompletionResponseDto {
  const calls = result.toolCalls ?? [];
  return {
    id: completionId(result.promptId),
    object: 'chat.completion',
    created,
    model: result.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: (calls.length > 0 || result.refusal !== undefined) && result.answer === '' ? null : result.answer,
          refusal: result.refusal ?? null,
          ...(calls.length > 0 ? { tool_calls: wireToolCalls(calls) } : {}),
        },
        finish_reason: finishReason(result),
        logprobs: null,
      },
    ],
    usage: wireUsage(result.usage),
    system_fingerprint: null,
    ...(controlPlane !== undefined ? { control_plane: controlPlane } : {}),
  };
}

/** A header value: printable ASCII, bounded (model ids and provider words come from config or the provider). */
function headerValue(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 256);
}

/**
 * The headers of an answered call (`resultHeaders`; a stream sends the first five), as the OpenAPI document declares
 * them on the 200 of `/v1/chat/completions` (docs/openai-compat.md, "The control plane's facts").
 */
export const RESULT_HEADER_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'x-request-id': "The call's prompt id (the completion's `id` is `chatcmpl-<prompt id>`).",
  'x-control-plane-prompt-id': "The call's prompt id, as in the ledger and the logs.",
  'x-control-plane-provider': 'The provider that answered (`gemini`, `vertex`, `openai`, `simulated`).',
  'x-control-plane-simulated': '`true` when the simulated provider answered.',
  'x-control-plane-model': 'The model that answered.',
  'x-control-plane-requested-model': 'The model asked for (before aliases, fallback or routing).',
  'x-control-plane-models-tried': 'The models tried, in order, comma-separated.',
  'x-control-plane-attempts': 'Attempts made, retries included.',
  'x-control-plane-retries': 'Retries made.',
  'x-control-plane-fallback-used': '`true` when a fallback model answered.',
  'x-control-plane-latency-ms': 'Latency of the call, milliseconds.',
  'x-control-plane-cost-usd': 'Cost of the call, USD; `unpriced` for a model missing from the price table.',
  'x-control-plane-tokens-estimated': "`true` when the token counts are estimated, not the provider's.",
  'x-control-plane-safety-block': '`true` when a safety filter blocked the answer.',
  'x-control-plane-safety-block-reason': 'Why the answer was blocked (with `x-control-plane-safety-block: true`).',
  'x-control-plane-router-reason': 'Why the router chose the model (on a routed call, `model: "auto"`).',
  'x-control-plane-quality-score': 'Quality score of the answer, 0-1.',
  'x-control-plane-quality-label': 'Quality label of the answer.',
  'x-control-plane-prompt-injection-score': 'Prompt injection score of the prompt, 0-1.',
  'x-control-plane-prompt-injection-flagged': '`true` when the prompt scored as an injection.',
  'x-control-plane-pii-types': 'The kinds of PII found in the prompt, comma-separated (redacted before the provider).',
  'x-control-plane-cache': '`hit` when the answer came from the response cache (docs/cache.md): no model was called.',
  'x-control-plane-cache-age-s': 'On a cache hit: seconds since the answer was stored.',
  'x-control-plane-cache-saved-cost-usd':
    'On a cache hit: what the cached call cost, USD (what this hit saved); `unpriced` for an unpriced model.',
};

/** The control plane's facts about an answered call, as `x-control-plane-*` response headers. */
export function resultHeaders(result: LlmCallResult): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': result.promptId,
    'x-control-plane-prompt-id': result.promptId,
    'x-control-plane-provider': result.provider,
    'x-control-plane-simulated': String(result.simulated),
    'x-control-plane-model': headerValue(result.model),
    'x-control-plane-requested-model': headerValue(result.requestedModel),
    'x-control-plane-models-tried': headerValue(result.modelsTried.join(', ')),
    'x-control-plane-attempts': String(result.attempts),
    'x-control-plane-retries': String(result.retryCount),
    'x-control-plane-fallback-used': String(result.fallbackUsed),
    'x-control-plane-latency-ms': String(Math.round(result.latencyMs * 100) / 100),
    'x-control-plane-cost-usd': result.cost.costUsd === null ? 'unpriced' : String(result.cost.costUsd),
    'x-control-plane-tokens-estimated': String(result.usage.estimated),
    'x-control-plane-safety-block': String(result.safetyBlock !== undefined),
  };
  if (result.safetyBlock) headers['x-control-plane-safety-block-reason'] = headerValue(result.safetyBlock.reason);
  if (result.routing) headers['x-control-plane-router-reason'] = result.routing.reason;
  if (result.cache) {
    headers['x-control-plane-cache'] = 'hit';
    headers['x-control-plane-cache-age-s'] = String(result.cache.ageS);
    headers['x-control-plane-cache-saved-cost-usd'] =
      result.cache.savedCostUsd === null ? 'unpriced' : String(result.cache.savedCostUsd);
  }
  if (result.quality) {
    headers['x-control-plane-quality-score'] = String(Math.round(result.quality.overall * 1000) / 1000);
    headers['x-control-plane-quality-label'] = result.quality.label;
  }
  const inspection = result.inspection;
  if (inspection) {
    headers['x-control-plane-prompt-injection-score'] = String(
      Math.round(inspection.report.injection.score * 1000) / 1000,
    );
    headers['x-control-plane-prompt-injection-flagged'] = String(inspection.report.injection.flagged);
    headers['x-control-plane-pii-types'] = inspection.report.piiTypes.join(', ');
  }
  return headers;
}

/** The headers a stream can carry (sent before its answer): the call's id and the model that started it. */
export function streamHeaders(stream: LlmStream, provider: string, simulated: boolean): Record<string, string> {
  return {
    'x-request-id': stream.promptId,
    'x-control-plane-prompt-id': stream.promptId,
    'x-control-plane-provider': provider,
    'x-control-plane-simulated': String(simulated),
    'x-control-plane-model': headerValue(stream.model),
  };
}

export interface ChunkOptions {
  created: number;
  includeUsage: boolean;
  /** The `control_plane` field of the last chunk, for a caller who asked for it. */
  controlPlane?(result: LlmCallResult): LlmMetadataDto;
  /** The OpenAI error body of a failure after the stream started (sent as a `data:` event, as OpenAI does). */
  error(error: unknown): OpenAiErrorDto;
  /** The call answered: its last chunks are sent next. */
  answered?(result: LlmCallResult): void;
}

/**
 * The stream as `chat.completion.chunk` events: the role first, the text deltas, the tool calls (whole, at the end),
 * a model's refusal (whole, at the end), the finish reason, with `include_usage` a last chunk with the usage and no choices (every other chunk then says
 * `usage: null`), then `data: [DONE]`. A failure after the first event is one `data: {"error": ...}` event (the
 * openai SDK throws it as an APIError), and no `[DONE]`.
 */
export async function* chunkEvents(stream: LlmStream, options: ChunkOptions): AsyncGenerator<string> {
  const id = completionId(stream.promptId);
  const usageNull = options.includeUsage ? { usage: null } : {};
  const event = (model: string, choices: unknown[], extra: Record<string, unknown> = usageNull): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: options.created, model, system_fingerprint: null, choices, ...extra })}\n\n`;
  const choice = (delta: Record<string, unknown>, finish: string | null = null): unknown => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  // Held outside the loop: a stream closed after the role chunk, before the loop began, is still told (`finally`).
  const items = stream[Symbol.asyncIterator]();
  try {
    yield event(stream.model, [choice({ role: 'assistant', content: '' })]);
    for await (const item of { [Symbol.asyncIterator]: () => items }) {
      if (item.type === 'delta') {
        yield event(stream.model, [choice({ content: item.text })]);
        continue;
      }
      const result = item.result;
      options.answered?.(result);
      const calls = result.toolCalls ?? [];
      if (calls.length > 0) {
        const pieces = wireToolCalls(calls).map((call, index) => ({ index, ...call }));
        yield event(result.model, [choice({ tool_calls: pieces })]);
      }
      if (result.refusal !== undefined) yield event(result.model, [choice({ refusal: result.refusal })]);
      const extension = options.controlPlane ? { control_plane: options.controlPlane(result) } : {};
      const finish = choice({}, finishReason(result));
      if (!options.includeUsage) yield event(result.model, [finish], extension);
      else {
        yield event(result.model, [finish]);
        yield event(result.model, [], { usage: wireUsage(result.usage), ...extension });
      }
      yield 'data: [DONE]\n\n';
    }
  } catch (error) {
    yield `data: ${JSON.stringify(options.error(error))}\n\n`;
  } finally {
    await items.return?.();
  }
}
