import { randomBytes } from 'node:crypto';
import {
  type Content,
  type FunctionCall,
  FunctionCallingConfigMode,
  type GenerateContentConfig,
  type Part,
  type ToolConfig,
} from '@google/genai';
import type { LlmProviderName } from '@app/config';
import {
  type ChatMessage,
  type LlmGenerateRequest,
  LlmProviderError,
  type ToolCall,
  type ToolChoice,
} from '../ports/llm-provider.port';

/**
 * A chat request in Gemini's terms (Vertex AI and the Gemini API alike), and Gemini's function calls back as tool
 * calls:
 * - system messages → `systemInstruction` (joined, in order); user → `user`; assistant → `model` (text and
 *   `functionCall` parts); tool → a `user` turn with a `functionResponse` part (its function's name; the output under
 *   `output`, parsed when it is JSON; the results of one turn's calls in the order of the calls); consecutive turns of
 *   one role are merged, as Gemini alternates them.
 * - `stop` → `stopSequences`, `top_p` → `topP`, `seed`, `presence_penalty` / `frequency_penalty` → `seed`,
 *   `presencePenalty` / `frequencyPenalty`; JSON mode → `responseMimeType: application/json`, with a schema
 *   `responseJsonSchema`; tools → `functionDeclarations` with `parametersJsonSchema`; tool choice → the function
 *   calling mode (`AUTO`, `NONE`, `ANY`, `ANY` with one allowed name).
 * - A function call's `thoughtSignature` (thinking models require it back with the call) rides in its tool call id
 *   after `SIGNATURE_MARK`, so a client that returns the id as it came returns the signature too.
 * - A function call's own `id` (when the model gives one) is the tool call id, and goes back as the `id` of the
 *   `functionCall` and of the `functionResponse` that answers it.
 */

/** Separates a tool call id from the thought signature carried in it. */
const SIGNATURE_MARK = '~ts~';

/**
 * The `contents` and the config fields of a request: its conversation, or its prompt. A conversation with no content
 * at all (its only user message `""`: Gemini takes no empty part) is the caller's `bad_request`, refused before
 * sending. The SDK refused it itself ("contents are required"), which read as an unreadable answer: a 502 that counted
 * towards the model's circuit, so three such calls opened it for every caller.
 */
export function geminiChat(
  request: LlmGenerateRequest,
  provider: LlmProviderName,
): {
  contents: Content[] | string;
  config: GenerateContentConfig;
} {
  const config: GenerateContentConfig = {};
  const systems: string[] = [];
  if (request.systemInstruction !== undefined) systems.push(request.systemInstruction);
  let contents: Content[] | string = request.prompt;
  if (request.messages !== undefined) {
    contents = [];
    for (const message of inCallOrder(request.messages)) {
      if (message.role === 'system') systems.push(message.content);
      else appendTurn(contents, message.role === 'assistant' ? 'model' : 'user', partsOf(message));
    }
    if (contents.length === 0) {
      throw new LlmProviderError('bad_request', `${provider} ${request.model}: the messages hold no content to send`, {
        provider,
        model: request.model,
        param: 'messages',
      });
    }
  }
  if (systems.length > 0) config.systemInstruction = systems.join('\n\n');
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.seed !== undefined) config.seed = request.seed;
  if (request.presencePenalty !== undefined) config.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) config.frequencyPenalty = request.frequencyPenalty;
  if (request.stopSequences !== undefined) config.stopSequences = [...request.stopSequences];
  const format = request.responseFormat;
  if (format !== undefined) {
    config.responseMimeType = 'application/json';
    if (format.type === 'json_schema' && format.schema !== undefined) config.responseJsonSchema = format.schema;
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    config.tools = [
      {
        functionDeclarations: request.tools.map((tool) => ({
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          ...(tool.parameters !== undefined ? { parametersJsonSchema: tool.parameters } : {}),
        })),
      },
    ];
  }
  if (request.toolChoice !== undefined) config.toolConfig = toolConfig(request.toolChoice);
  return { contents, config };
}

/**
 * The messages with each run of tool messages in the order of the calls they answer (those of the assistant message
 * before them; a result of no call of it keeps its place after them). Gemini pairs a `functionResponse` with its
 * `functionCall` by position when they carry no id (a call the model gave none; names alone cannot tell two calls of
 * one function apart): before, results sent back in another order than the calls' (an app answering the quicker call
 * first) were each taken as the other's, `get_weather` of Paris answered with Rome's weather.
 */
function inCallOrder(messages: readonly ChatMessage[]): ChatMessage[] {
  const ordered: ChatMessage[] = [];
  let calls: readonly ToolCall[] = [];
  for (let at = 0; at < messages.length;) {
    const message = messages[at]!;
    if (message.role !== 'tool') {
      if (message.role === 'assistant') calls = message.toolCalls ?? [];
      ordered.push(message);
      at += 1;
      continue;
    }
    let end = at;
    while (end < messages.length && messages[end]!.role === 'tool') end += 1;
    const position = (m: ChatMessage): number => {
      const index = calls.findIndex((call) => call.id === m.toolCallId);
      return index < 0 ? calls.length : index;
    };
    // Array.prototype.sort is stable: results of the same position (none of a call) keep their order.
    ordered.push(...messages.slice(at, end).sort((a, b) => position(a) - position(b)));
    at = end;
  }
  return ordered;
}

function toolConfig(choice: ToolChoice): ToolConfig {
  if (choice === 'auto') return { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } };
  if (choice === 'none') return { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } };
  if (choice === 'required') return { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } };
  return { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: [choice.name] } };
}

function partsOf(message: ChatMessage): Part[] {
  if (message.role === 'tool') {
    const id = modelCallId(message.toolCallId);
    return [
      {
        functionResponse: {
          ...(id !== undefined ? { id } : {}),
          name: message.toolName ?? '',
          response: { output: parsedOutput(message.content) },
        },
      },
    ];
  }
  const parts: Part[] = message.content !== '' ? [{ text: message.content }] : [];
  for (const call of message.toolCalls ?? []) {
    const { signature } = splitCallId(call.id);
    const id = modelCallId(call.id);
    parts.push({
      functionCall: {
        ...(id !== undefined ? { id } : {}),
        name: call.name,
        args: JSON.parse(call.arguments) as Record<string, unknown>,
      },
      ...(signature !== undefined ? { thoughtSignature: signature } : {}),
    });
  }
  return parts;
}

/** The id this adapter gives a function call the model gave none (`toToolCall`). */
const GENERATED_ID = /^call_[0-9a-f]{16}$/;

/**
 * The model's own id of a call (its `functionCall.id`, without the thought signature carried after it), sent back on
 * the call and on its `functionResponse` so that the model pairs them by id (the API says a response carries the id
 * of the call it answers); undefined for an id this adapter made up, which the model never gave. Before, neither was
 * sent back: the model's id reached the app and stopped there.
 */
function modelCallId(callId: string | undefined): string | undefined {
  if (callId === undefined) return undefined;
  const { id } = splitCallId(callId);
  return id === '' || GENERATED_ID.test(id) ? undefined : id;
}

/** Gemini alternates user and model turns: a message of the same role as the last turn joins it. */
function appendTurn(contents: Content[], role: 'user' | 'model', parts: Part[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last?.role === role) last.parts = [...(last.parts ?? []), ...parts];
  else contents.push({ role, parts });
}

/** A tool's output as Gemini takes it: the JSON value when the text is JSON, else the text. */
function parsedOutput(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return content;
  }
}

/**
 * A function call of the answer as a tool call: Gemini's id (or a new one, `call_` and 16 hex digits), its thought
 * signature in the id.
 */
export function toToolCall(call: FunctionCall, signature: string | undefined): ToolCall {
  const base = call.id !== undefined && call.id !== '' ? call.id : `call_${randomBytes(8).toString('hex')}`;
  return {
    id: signature !== undefined && signature !== '' ? `${base}${SIGNATURE_MARK}${signature}` : base,
    name: call.name ?? '',
    arguments: JSON.stringify(call.args ?? {}),
  };
}

function splitCallId(id: string): { id: string; signature?: string } {
  const at = id.indexOf(SIGNATURE_MARK);
  return at < 0 ? { id } : { id: id.slice(0, at), signature: id.slice(at + SIGNATURE_MARK.length) };
}
