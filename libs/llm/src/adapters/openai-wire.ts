import { randomBytes } from 'node:crypto';
import {
  type ChatMessage,
  type FinishReason,
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProviderError,
  type LlmUsage,
  type ToolCall,
} from '../ports/llm-provider.port';
import { type ErrorContext, kindForStatus, upstreamMessage } from './upstream-errors';
import { readUsage, responseFinishReason, responseModel } from './wire-values';

/**
 * The OpenAI chat-completions wire format as the OpenAI-compatible adapter speaks it: the request body built from an
 * `LlmGenerateRequest` (a prompt, or a conversation with tools and JSON mode), and the answer (JSON or stream chunks)
 * read back into an `LlmGenerateResult`, usage (cached and reasoning tokens) and tool calls included.
 */

/** The parts of an OpenAI chat-completions usage object this adapter reads. */
export interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** A tool call as a message carries it, or (streamed) a piece of one, by `index`. */
interface WireToolCall {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface WireChoice {
  message?: { content?: string | null; refusal?: string | null; tool_calls?: WireToolCall[] | null };
  delta?: { content?: string | null; refusal?: string | null; tool_calls?: WireToolCall[] | null };
  finish_reason?: string | null;
}

export interface WireCompletion {
  model?: string;
  choices?: WireChoice[];
  usage?: WireUsage | null;
  error?: { message?: string; code?: unknown; status?: unknown } | string;
}

/**
 * Whether `model` is one of the reasoning models named by `prefixes` (OPENAI_REASONING_MODELS): the prefix itself, or
 * it followed by `-`, `.`, `:` or `@` (`o3`, `o4-mini`, `gpt-5.1`, `gpt-5-mini-2025-08-07`; not `o1x`, `gpt-50`).
 */
export function isReasoningModel(model: string, prefixes: readonly string[]): boolean {
  return prefixes.some(
    (prefix) => model === prefix || (model.startsWith(prefix) && '-.:@'.includes(model.charAt(prefix.length))),
  );
}

/**
 * The request body: the conversation (or the prompt, after the system instruction) and the generation settings.
 * Output limit: `max_tokens` (what Ollama, vLLM and llama.cpp read), or for a `reasoning` model (OpenAI's o-series
 * and gpt-5 family, which refuse `max_tokens`) `max_completion_tokens`; such a model takes only its default
 * temperature, so the configured LLM_TEMPERATURE is not sent to it (a caller's own temperature is, and the upstream
 * judges it).
 */
export function chatRequestBody(
  request: LlmGenerateRequest,
  stream: boolean,
  reasoning = false,
): Record<string, unknown> {
  const messages: unknown[] = [];
  if (request.messages !== undefined) messages.push(...request.messages.map(wireMessage));
  else {
    if (request.systemInstruction !== undefined) messages.push({ role: 'system', content: request.systemInstruction });
    messages.push({ role: 'user', content: request.prompt });
  }
  const format = request.responseFormat;
  return {
    model: request.model,
    messages,
    ...(reasoning && request.temperatureDefaulted === true ? {} : { temperature: request.temperature }),
    ...(reasoning ? { max_completion_tokens: request.maxOutputTokens } : { max_tokens: request.maxOutputTokens }),
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.presencePenalty !== undefined ? { presence_penalty: request.presencePenalty } : {}),
    ...(request.frequencyPenalty !== undefined ? { frequency_penalty: request.frequencyPenalty } : {}),
    ...(request.stopSequences !== undefined ? { stop: request.stopSequences } : {}),
    ...(format?.type === 'json_object' ? { response_format: { type: 'json_object' } } : {}),
    ...(format?.type === 'json_schema'
      ? {
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              ...(format.description !== undefined ? { description: format.description } : {}),
              ...(format.schema !== undefined ? { schema: format.schema } : {}),
              ...(format.strict !== undefined ? { strict: format.strict } : {}),
            },
          },
        }
      : {}),
    ...(request.tools !== undefined
      ? {
          tools: request.tools.map((tool) => ({
            type: 'function',
            function: {
              name: tool.name,
              ...(tool.description !== undefined ? { description: tool.description } : {}),
              ...(tool.parameters !== undefined ? { parameters: tool.parameters } : {}),
              ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
            },
          })),
        }
      : {}),
    ...(request.toolChoice !== undefined
      ? {
          tool_choice:
            typeof request.toolChoice === 'string'
              ? request.toolChoice
              : { type: 'function', function: { name: request.toolChoice.name } },
        }
      : {}),
    ...(request.parallelToolCalls === false && request.tools !== undefined && request.tools.length > 0
      ? { parallel_tool_calls: false }
      : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

function wireMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return message.toolCalls !== undefined && message.toolCalls.length > 0
        ? {
            role: 'assistant',
            content: message.content === '' ? null : message.content,
            tool_calls: message.toolCalls.map((call) => ({
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            })),
          }
        : { role: 'assistant', content: message.content };
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
  }
}

export function parseJson(text: string): WireCompletion {
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object') throw new SyntaxError('expected a JSON object');
  return parsed;
}

/**
 * The tool calls of a streamed answer, from their pieces: each delta names its call by `index`, the first piece
 * brings the id and name, later ones append to the arguments. A name (or id) a later piece gives again replaces the
 * call's, as the openai SDK takes it: some servers repeat them in every piece, which were appended into
 * `get_weatherget_weather`.
 */
export class ToolCallPieces {
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();

  add(pieces: readonly WireToolCall[] | null | undefined): void {
    for (const piece of pieces ?? []) {
      const index = typeof piece.index === 'number' ? piece.index : this.calls.size;
      let call = this.calls.get(index);
      if (call === undefined) {
        call = { id: '', name: '', arguments: '' };
        this.calls.set(index, call);
      }
      if (typeof piece.id === 'string' && piece.id !== '') call.id = piece.id;
      if (typeof piece.function?.name === 'string' && piece.function.name !== '') call.name = piece.function.name;
      if (typeof piece.function?.arguments === 'string') call.arguments += piece.function.arguments;
    }
  }

  result(context: ErrorContext): ToolCall[] {
    return [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => checkedCall(call, context));
  }
}

/**
 * A tool call must have a name; its arguments default to `{}` (some servers send none for a function without), its id
 * to a new one (some servers send none): unique, as the tool messages answering two calls of one function must
 * name each.
 */
function checkedCall(call: WireToolCall['function'] & { id?: string }, context: ErrorContext): ToolCall {
  const name = call.name;
  if (typeof name !== 'string' || name === '') {
    throw new LlmProviderError('invalid_response', `${context.provider} ${context.model}: a tool call has no name`, {
      provider: context.provider,
      model: context.model,
      status: 200,
    });
  }
  const args = typeof call.arguments === 'string' && call.arguments !== '' ? call.arguments : '{}';
  const id = call.id !== undefined && call.id !== '' ? call.id : `call_${randomBytes(8).toString('hex')}`;
  return { id, name, arguments: args };
}

export function completionResult(
  completion: WireCompletion,
  requestedModel: string,
  context: ErrorContext,
): LlmGenerateResult {
  if (completion.error !== undefined) throw streamError(completion.error, context);
  const choice = completion.choices?.[0];
  if (choice === undefined) {
    throw new LlmProviderError('invalid_response', `openai ${requestedModel}: the response had no choices`, {
      provider: 'openai',
      model: requestedModel,
      status: 200,
    });
  }
  const content: unknown = choice.message?.content;
  if (content !== undefined && content !== null && typeof content !== 'string') {
    throw new LlmProviderError('invalid_response', `openai ${requestedModel}: the answer's content is not text`, {
      provider: 'openai',
      model: requestedModel,
      status: 200,
    });
  }
  const rawCalls = choice.message?.tool_calls;
  const toolCalls = Array.isArray(rawCalls)
    ? rawCalls.map((call) => checkedCall({ ...call.function, id: call.id }, context))
    : [];
  return buildResult(
    content ?? '',
    responseModel(completion.model, requestedModel),
    responseFinishReason(choice.finish_reason),
    completion.usage ?? undefined,
    typeof choice.message?.refusal === 'string' ? choice.message.refusal : undefined,
    toolCalls,
  );
}

export function buildResult(
  text: string,
  model: string,
  rawFinishReason: string | undefined,
  wireUsage: WireUsage | undefined,
  refusal: string | undefined,
  toolCalls: readonly ToolCall[] = [],
): LlmGenerateResult {
  const refused = refusal !== undefined && refusal !== '';
  const usage = toUsage(wireUsage);
  const filtered = rawFinishReason === 'content_filter';
  let finishReason: FinishReason;
  if (filtered || refused) finishReason = 'safety';
  // Cut by the output limit, tool calls or not: a call's arguments may be cut too (OpenAI answers `length` so).
  else if (rawFinishReason === 'length') finishReason = 'length';
  else if (toolCalls.length > 0) finishReason = 'tool_calls';
  else if (rawFinishReason === 'stop') finishReason = 'stop';
  else finishReason = 'other';
  return {
    text,
    model,
    finishReason,
    ...(rawFinishReason !== undefined ? { rawFinishReason } : {}),
    ...(usage !== undefined ? { usage } : {}),
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
    ...(refused ? { refusal } : {}),
    ...(filtered || refused
      ? { safetyBlock: { stage: 'candidate', reason: filtered ? 'content_filter' : 'refusal' } }
      : {}),
  };
}

/**
 * OpenAI usage → LlmUsage. `completion_tokens` includes `reasoning_tokens`, so output = completion − reasoning:
 * reasoning is reported apart (and priced at the output rate) without being counted twice. Undefined (the
 * service then estimates, and says so) when the prompt or completion count is missing or any count is not a
 * non-negative integer.
 */
export function toUsage(usage: WireUsage | null | undefined): LlmUsage | undefined {
  if (usage === undefined || usage === null || typeof usage !== 'object') return undefined;
  return readUsage((count) => {
    const input = count(usage.prompt_tokens);
    const completion = count(usage.completion_tokens);
    const reasoning = Math.min(count(usage.completion_tokens_details?.reasoning_tokens, 0), completion);
    return {
      inputTokens: input,
      outputTokens: completion - reasoning,
      reasoningTokens: reasoning,
      cachedTokens: Math.min(count(usage.prompt_tokens_details?.cached_tokens, 0), input),
      totalTokens: count(usage.total_tokens, input + completion),
      estimated: false,
    };
  });
}

export function isContentFilterError(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return parsed.error?.code === 'content_filter';
  } catch {
    return false;
  }
}

/** An error object inside a 200 body or an SSE event (vLLM and llama.cpp send these mid-stream). */
export function streamError(error: NonNullable<WireCompletion['error']>, context: ErrorContext): LlmProviderError {
  const message = typeof error === 'string' ? error : (error.message ?? 'error in the response');
  const code = typeof error === 'string' ? undefined : (error.code ?? error.status);
  const status = typeof code === 'number' && code >= 400 && code < 600 ? code : undefined;
  return new LlmProviderError(
    status !== undefined ? kindForStatus(status) : 'server',
    `${context.provider} ${context.model}: ${upstreamMessage(JSON.stringify({ error: { message } }))}`,
    { provider: context.provider, model: context.model, ...(status !== undefined ? { status } : {}) },
  );
}
