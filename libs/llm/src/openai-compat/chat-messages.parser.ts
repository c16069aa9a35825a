import { type FieldProblem, headOf } from '@app/common';
import type { ChatMessage, ToolCall } from '../ports/llm-provider.port';
import { unsupported } from './openai-compat.errors';

/**
 * The problems found in a request, each with the path of its field (`messages[2].content`), reported together as one
 * 400; an unsupported feature (an image part, a role no provider takes) is thrown at once (`unsupported`).
 */
export class Issues {
  readonly problems: FieldProblem[] = [];

  add(field: string, reason: string): undefined {
    this.problems.push({ field, reason: `${field} ${reason}` });
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A function name as OpenAI (and Gemini) take it. */
export const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
const KEYS: Record<string, ReadonlySet<string>> = {
  system: new Set(['role', 'content', 'name']),
  user: new Set(['role', 'content', 'name']),
  // An answer appended to the conversation as it came back carries the answer's own fields: `annotations` (OpenAI's
  // answers), `parsed` (the openai SDK's stream helper and `parse()` add it), `audio` and `function_call` (null).
  assistant: new Set([
    'role',
    'content',
    'name',
    'tool_calls',
    'refusal',
    'annotations',
    'parsed',
    'audio',
    'function_call',
  ]),
  // `name` is not in OpenAI's tool message type, but its API takes it and LangChain sends it on every tool message
  // (the tool's name): refused, every agent built on langchain-openai failed at its first tool result.
  tool: new Set(['role', 'content', 'tool_call_id', 'name']),
};

/**
 * The messages of a request as the pipeline takes them: `developer` is a system message; content parts must be text
 * (joined by a newline); an assistant message may carry only tool calls; a tool message must answer a tool call of an
 * earlier assistant message (its function's name is looked up, as Gemini needs it). `name` (on any role, tool messages
 * included) is accepted and not sent, and so are an echoed answer's `annotations` and `parsed` (output, derived
 * from its content).
 */
export function parseMessages(
  raw: readonly unknown[],
  issues: Issues,
  options: { textToolArguments?: boolean } = {},
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const calls = new Map<string, string>();
  raw.forEach((value, index) => {
    const at = `messages[${index}]`;
    if (!isRecord(value)) return issues.add(at, 'must be an object');
    const role = value.role;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      if (role === 'function')
        throw unsupported(`${at}.role`, `${at}.role: the deprecated function role is not supported: use tool`, true);
      return issues.add(`${at}.role`, 'must be one of system, developer, user, assistant, tool');
    }
    const kind = role === 'developer' ? 'system' : (role as ChatMessage['role']);
    for (const key of Object.keys(value)) {
      if (!KEYS[kind]!.has(key)) issues.add(`${at}.${key}`, `is not a field of a ${role} message`);
    }
    if (value.name !== undefined && typeof value.name !== 'string') issues.add(`${at}.name`, 'must be a string');
    const toolCalls =
      kind === 'assistant'
        ? parseToolCalls(value.tool_calls, `${at}.tool_calls`, issues, options.textToolArguments === true)
        : undefined;
    // Tool calls given, valid or not: the message's own problem is reported once, not again as "content is
    // required" here and "not the id of a tool call" on the tool messages that answer them.
    const callsGiven = kind === 'assistant' && Array.isArray(value.tool_calls) && value.tool_calls.length > 0;
    if (callsGiven && toolCalls === undefined) registerCallIds(value.tool_calls as unknown[], calls);
    const content = parseContent(value.content, `${at}.content`, issues, callsGiven);
    if (content === undefined) return;
    if (kind === 'assistant') {
      if (value.refusal !== undefined && value.refusal !== null) {
        throw unsupported(`${at}.refusal`, `${at}.refusal: assistant refusals cannot be sent back to the model`, true);
      }
      if (value.audio !== undefined && value.audio !== null) {
        throw unsupported(`${at}.audio`, `${at}.audio: audio answers cannot be sent back to the model`, true);
      }
      if (value.function_call !== undefined && value.function_call !== null) {
        throw unsupported(
          `${at}.function_call`,
          `${at}.function_call: the deprecated function calling is not supported: use tool_calls`,
          true,
        );
      }
      if (value.annotations !== undefined && value.annotations !== null && !Array.isArray(value.annotations)) {
        return issues.add(`${at}.annotations`, 'must be an array');
      }
      for (const call of toolCalls ?? []) calls.set(call.id, call.name);
      messages.push({ role: 'assistant', content, ...(toolCalls !== undefined ? { toolCalls } : {}) });
    } else if (kind === 'tool') {
      const id = value.tool_call_id;
      if (typeof id !== 'string' || id === '') return issues.add(`${at}.tool_call_id`, 'is required');
      const name = calls.get(id);
      if (name === undefined)
        return issues.add(`${at}.tool_call_id`, 'must be the id of a tool call of an earlier assistant message');
      messages.push({ role: 'tool', content, toolCallId: id, toolName: name });
    } else {
      messages.push({ role: kind, content });
    }
  });
  if (issues.problems.length === 0 && !messages.some((m) => m.role !== 'system')) {
    issues.add('messages', 'must hold at least one user, assistant or tool message');
  }
  return messages;
}

/** The ids of tool calls refused for another field: the tool messages answering them are not refused again. */
function registerCallIds(raw: readonly unknown[], calls: Map<string, string>): void {
  for (const call of raw) {
    if (isRecord(call) && typeof call.id === 'string' && call.id !== '') calls.set(call.id, '');
  }
}

/** Text, or text parts joined; `''` for an assistant message that only calls tools; undefined when invalid. */
function parseContent(value: unknown, at: string, issues: Issues, hasToolCalls: boolean): string | undefined {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return hasToolCalls ? '' : issues.add(at, 'is required');
  if (!Array.isArray(value)) return issues.add(at, 'must be a string or an array of content parts');
  const texts: string[] = [];
  value.forEach((part, index) => {
    const where = `${at}[${index}]`;
    if (!isRecord(part)) return issues.add(where, 'must be an object');
    if (part.type !== 'text') {
      if (typeof part.type !== 'string') return issues.add(`${where}.type`, 'is required');
      throw unsupported(
        `${where}.type`,
        `${where}.type: ${headOf(part.type, 40)} content is not supported: this gateway sends text only`,
        true,
      );
    }
    if (typeof part.text !== 'string') return issues.add(`${where}.text`, 'must be a string');
    texts.push(part.text);
  });
  return texts.join('\n');
}

/**
 * An assistant message's tool calls: function calls with an id, a name and arguments, the JSON text of an object
 * unless the provider takes any text (`textToolArguments`: OpenAI-compatible servers). Before, malformed arguments were
 * refused on every provider: a local model's `{'city': 'Paris'}` (or a call cut by max_tokens), which the gateway
 * had answered, could not be sent back with the tool's error, and the agent's conversation was stuck on a 400.
 */
function parseToolCalls(value: unknown, at: string, issues: Issues, textArguments: boolean): ToolCall[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return issues.add(at, 'must be an array');
  const calls: ToolCall[] = [];
  value.forEach((call, index) => {
    const where = `${at}[${index}]`;
    if (!isRecord(call)) return issues.add(where, 'must be an object');
    if (call.type !== 'function') return issues.add(`${where}.type`, 'must be function');
    if (typeof call.id !== 'string' || call.id === '') return issues.add(`${where}.id`, 'is required');
    // The tool messages answer a call by its id: two calls of one id cannot both be answered (the last one took the
    // results of both, Gemini sent them as that call's function's).
    if (calls.some((earlier) => earlier.id === call.id)) {
      return issues.add(`${where}.id`, 'is the id of an earlier call of this message: each call needs its own');
    }
    const fn = call.function;
    if (!isRecord(fn) || typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
      return issues.add(`${where}.function.name`, 'must be a function name (letters, digits, _ and -, at most 64)');
    }
    if (typeof fn.arguments !== 'string') return issues.add(`${where}.function.arguments`, 'must be a string');
    if (!textArguments && !isJsonObjectText(fn.arguments)) {
      return issues.add(`${where}.function.arguments`, 'must be the JSON text of an object');
    }
    calls.push({ id: call.id, name: fn.name, arguments: fn.arguments });
  });
  return calls.length > 0 ? calls : undefined;
}

function isJsonObjectText(text: string): boolean {
  try {
    return isRecord(JSON.parse(text));
  } catch {
    return false;
  }
}
