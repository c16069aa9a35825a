import { Injectable } from '@nestjs/common';
import { headOf, RequestValidationError } from '@app/common';
import { AppConfig } from '@app/config';
import { type ChatCallOptions, type LlmCallInput, NO_DRILLS } from '../llm-call.types';
import { conversationText } from '../pipeline/chat-text';
import { LlmProvider, type ResponseFormat, type ToolChoice, type ToolDefinition } from '../ports/llm-provider.port';
import type { ChatCompletionRequestDto } from './chat-completion.dto';
import { FUNCTION_NAME, isRecord, Issues, parseMessages } from './chat-messages.parser';
import { ModelCatalog } from './model-catalog';
import { modelNotFound, unsupported } from './openai-compat.errors';

/** A chat request, mapped: the pipeline's input and how the answer is sent back. */
export interface ChatCall {
  input: LlmCallInput;
  /** The name the request used (a model of the chain or an alias). */
  requestedModel: string;
  stream: boolean;
  /** With `stream`: the final usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
}

/**
 * The OpenAI parameters the gateway does not translate, with the values it takes them at: null (OpenAI's "not
 * given") and, for some, the value that asks for just what the gateway does (OpenAI's default). Any other value is
 * refused, naming the parameter: never ignored.
 */
const UNTRANSLATED: Readonly<Record<string, { accepted: readonly unknown[]; why: string }>> = {
  logprobs: { accepted: [false], why: 'log probabilities are not returned: only false or null' },
  top_logprobs: { accepted: [], why: 'log probabilities are not returned: only null' },
  logit_bias: { accepted: [{}], why: 'token biases are not translated: only {} or null' },
  store: { accepted: [false], why: 'nothing is stored for distillation or evals: only false or null' },
  modalities: { accepted: [['text']], why: 'the answer is text: only ["text"] or null' },
  service_tier: { accepted: [], why: 'service tiers are not translated: only null' },
  reasoning_effort: { accepted: [], why: 'reasoning effort is not translated: only null' },
  verbosity: { accepted: [], why: 'verbosity is not translated: only null' },
  audio: { accepted: [], why: 'audio output is not served: only null' },
  prediction: { accepted: [], why: 'predicted outputs are not translated: only null' },
  safety_identifier: { accepted: [], why: 'not translated (use user): only null' },
  prompt_cache_key: { accepted: [], why: 'prompt cache keys are not translated: only null' },
};

/**
 * The fields of the nested objects the gateway translates. Any other is refused, naming its path: a misspelt
 * `json_schema.schema` or `function.parameters` dropped would let the model answer without the schema or the
 * parameters (OpenAI refuses them too).
 */
const NESTED_FIELDS = {
  response_format: ['type', 'json_schema'],
  json_schema: ['name', 'description', 'schema', 'strict'],
  tool: ['type', 'function'],
  function: ['name', 'description', 'parameters', 'strict'],
  tool_choice: ['type', 'function'],
  tool_choice_function: ['name'],
} as const;

/** Adds a problem for each field of `value` that is not one of `known` (`at.<field> is not a field of <what>`). */
function unknownFields(
  value: Record<string, unknown>,
  known: readonly string[],
  at: string,
  what: string,
  issues: Issues,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) issues.add(`${at}.${headOf(key, 64)}`, `is not a field of ${what}`);
  }
}

/** A boolean, or absent (null too): anything else is refused, not taken as false. */
function optionalBoolean(value: unknown, at: string, issues: Issues): void {
  if (value !== undefined && value !== null && typeof value !== 'boolean') issues.add(at, 'must be a boolean');
}

const MAX_STOP_SEQUENCES = 4;
const MAX_METADATA_PAIRS = 16;

/**
 * Maps a `/v1/chat/completions` body onto the pipeline's input (`LlmCallInput` with its `chat` options), checking
 * what the validation pipe cannot: the nested fields (each problem naming its path), the model (404 when it is not
 * served), and what the configured provider can translate (tools, JSON modes: refused with a clear 400 when it
 * cannot, never dropped).
 */
@Injectable()
export class ChatRequestMapper {
  constructor(
    private readonly config: AppConfig,
    private readonly catalog: ModelCatalog,
    private readonly provider: LlmProvider,
  ) {}

  map(body: ChatCompletionRequestDto, signal?: AbortSignal): ChatCall {
    const model = this.catalog.resolve(body.model);
    if (model === undefined) throw modelNotFound(body.model);
    if (body.n !== undefined && body.n !== null && body.n !== 1) {
      throw unsupported('n', `n: only one choice (n = 1) is served, not ${body.n}`, true);
    }
    refuseUntranslated(body);
    const issues = new Issues();
    const messages = parseMessages(body.messages, issues, {
      textToolArguments: this.provider.capabilities.textToolArguments === true,
    });
    const stream = body.stream === true;
    const includeUsage = this.streamOptions(body, stream, issues);
    const chat: ChatCallOptions = {
      model,
      ...(this.catalog.routed(body.model) ? { routed: true } : {}),
      messages,
      ...defined('temperature', body.temperature),
      ...defined('topP', body.top_p),
      ...defined('seed', body.seed),
      // 0 is OpenAI's default and no penalty: not sent (some Gemini models refuse any penalty field).
      ...defined('presencePenalty', body.presence_penalty || undefined),
      ...defined('frequencyPenalty', body.frequency_penalty || undefined),
      ...defined('maxOutputTokens', this.maxTokens(body, issues)),
      ...defined('stopSequences', stops(body.stop, issues)),
      ...defined('responseFormat', responseFormat(body.response_format, issues)),
      ...defined('tools', tools(body.tools, issues)),
      ...defined('user', body.user),
      ...defined('metadata', metadata(body.metadata, issues)),
    };
    const choice = toolChoice(body.tool_choice, chat.tools, issues);
    if (choice !== undefined) chat.toolChoice = choice;
    optionalBoolean(body.parallel_tool_calls, 'parallel_tool_calls', issues);
    if (body.parallel_tool_calls === false) chat.parallelToolCalls = false;
    if (issues.problems.length > 0) throw new RequestValidationError(issues.problems);
    this.assertTranslatable(chat);
    const users = messages.filter((m) => m.role === 'user');
    const prompt = conversationText(messages);
    return {
      input: {
        endpoint: 'chat',
        userText: users[users.length - 1]?.content ?? prompt,
        prompt,
        drills: NO_DRILLS,
        signal,
        chat,
      },
      requestedModel: body.model,
      stream,
      includeUsage,
    };
  }

  private maxTokens(body: ChatCompletionRequestDto, issues: Issues): number | undefined {
    const limit = this.config.llm.maxOutputTokens;
    const legacy = body.max_tokens ?? undefined;
    const current = body.max_completion_tokens ?? undefined;
    if (legacy !== undefined && current !== undefined && legacy !== current) {
      return issues.add('max_tokens', 'and max_completion_tokens differ: give one of them');
    }
    const value = current ?? legacy;
    const param = current !== undefined ? 'max_completion_tokens' : 'max_tokens';
    if (value !== undefined && value > limit)
      return issues.add(param, `must not be greater than ${limit} (LLM_MAX_OUTPUT_TOKENS)`);
    return value;
  }

  private streamOptions(body: ChatCompletionRequestDto, stream: boolean, issues: Issues): boolean {
    const options = body.stream_options ?? undefined;
    if (options === undefined) return false;
    if (!stream) return issues.add('stream_options', 'is only allowed when stream is true') ?? false;
    for (const key of Object.keys(options)) {
      if (key === 'include_usage') continue;
      // The stream carries no obfuscation field: false (or null) asks for just that.
      if (key === 'include_obfuscation' && (options[key] === false || options[key] === null)) continue;
      if (key === 'include_obfuscation') {
        throw unsupported(
          'stream_options.include_obfuscation',
          'stream_options.include_obfuscation: this gateway does not obfuscate its stream; only false or null',
        );
      }
      issues.add(`stream_options.${key}`, 'is not supported');
    }
    const include = options.include_usage;
    if (include !== undefined && include !== null && typeof include !== 'boolean') {
      issues.add('stream_options.include_usage', 'must be a boolean');
    }
    return include === true;
  }

  private assertTranslatable(chat: ChatCallOptions): void {
    const { name, capabilities } = this.provider;
    const seedBits = capabilities.seedBits;
    if (chat.seed !== undefined && seedBits === 32 && (chat.seed < -(2 ** 31) || chat.seed >= 2 ** 31)) {
      throw unsupported('seed', `seed: the ${name} provider takes a 32-bit integer seed, not ${chat.seed}`, true);
    }
    if (chat.tools !== undefined && !capabilities.tools) {
      throw unsupported('tools', `tools: the ${name} provider (LLM_PROVIDER) cannot call tools`);
    }
    const format = chat.responseFormat?.type;
    if (format === 'json_object' && !capabilities.jsonObject) {
      throw unsupported('response_format', `response_format: the ${name} provider has no JSON mode`, true);
    }
    if (format === 'json_schema' && !capabilities.jsonSchema) {
      throw unsupported('response_format', `response_format: the ${name} provider cannot follow a JSON schema`, true);
    }
  }
}

/** Refuses the first untranslated parameter set to a value other than those it is taken at (UNTRANSLATED). */
function refuseUntranslated(body: ChatCompletionRequestDto): void {
  const fields = body as unknown as Record<string, unknown>;
  for (const [param, { accepted, why }] of Object.entries(UNTRANSLATED)) {
    const value = fields[param];
    if (value === undefined || value === null || accepted.some((ok) => sameJson(ok, value))) continue;
    throw unsupported(param, `${param}: this gateway does not translate it; ${why}`);
  }
}

/** Equal as JSON values (the accepted values are numbers, booleans, {} and ["text"]). */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `{ [key]: value }` when the value is set, else nothing (optional fields stay absent, never undefined). */
function defined<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === undefined || value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

function stops(value: unknown, issues: Issues): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length > MAX_STOP_SEQUENCES || list.some((s) => typeof s !== 'string' || s === '')) {
    return issues.add('stop', `must be a non-empty string or an array of at most ${MAX_STOP_SEQUENCES} of them`);
  }
  return list.length > 0 ? (list as string[]) : undefined;
}

function responseFormat(value: Record<string, unknown> | null | undefined, issues: Issues): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  unknownFields(value, NESTED_FIELDS.response_format, 'response_format', 'response_format', issues);
  if (value.type === 'text') return undefined;
  if (value.type === 'json_object') return { type: 'json_object' };
  if (value.type !== 'json_schema')
    return issues.add('response_format.type', 'must be text, json_object or json_schema');
  const spec = value.json_schema;
  if (!isRecord(spec)) return issues.add('response_format.json_schema', 'is required');
  unknownFields(spec, NESTED_FIELDS.json_schema, 'response_format.json_schema', 'json_schema', issues);
  optionalBoolean(spec.strict, 'response_format.json_schema.strict', issues);
  if (typeof spec.name !== 'string' || !FUNCTION_NAME.test(spec.name)) {
    return issues.add('response_format.json_schema.name', 'must be a name (letters, digits, _ and -, at most 64)');
  }
  if (spec.schema !== undefined && !isRecord(spec.schema))
    return issues.add('response_format.json_schema.schema', 'must be an object');
  if (spec.description !== undefined && typeof spec.description !== 'string') {
    return issues.add('response_format.json_schema.description', 'must be a string');
  }
  return {
    type: 'json_schema',
    name: spec.name,
    ...(typeof spec.description === 'string' ? { description: spec.description } : {}),
    ...(isRecord(spec.schema) ? { schema: spec.schema } : {}),
    ...(typeof spec.strict === 'boolean' ? { strict: spec.strict } : {}),
  };
}

function tools(value: unknown[] | null | undefined, issues: Issues): ToolDefinition[] | undefined {
  if (value === undefined || value === null || value.length === 0) return undefined;
  const out: ToolDefinition[] = [];
  value.forEach((tool, index) => {
    const at = `tools[${index}]`;
    if (!isRecord(tool)) return issues.add(at, 'must be an object');
    unknownFields(tool, NESTED_FIELDS.tool, at, 'a tool', issues);
    if (tool.type !== 'function') {
      throw unsupported(`${at}.type`, `${at}.type: only function tools are supported`, true);
    }
    const fn = tool.function;
    if (!isRecord(fn) || typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
      return issues.add(`${at}.function.name`, 'must be a function name (letters, digits, _ and -, at most 64)');
    }
    unknownFields(fn, NESTED_FIELDS.function, `${at}.function`, 'a function tool', issues);
    optionalBoolean(fn.strict, `${at}.function.strict`, issues);
    if (fn.parameters !== undefined && !isRecord(fn.parameters))
      return issues.add(`${at}.function.parameters`, 'must be an object');
    if (fn.description !== undefined && typeof fn.description !== 'string') {
      return issues.add(`${at}.function.description`, 'must be a string');
    }
    if (out.some((t) => t.name === fn.name)) return issues.add(`${at}.function.name`, 'is given twice');
    out.push({
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      ...(isRecord(fn.parameters) ? { parameters: fn.parameters } : {}),
      ...(typeof fn.strict === 'boolean' ? { strict: fn.strict } : {}),
    });
  });
  return out;
}

function toolChoice(
  value: unknown,
  declared: readonly ToolDefinition[] | undefined,
  issues: Issues,
): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (declared === undefined) return issues.add('tool_choice', 'is only allowed when tools are given');
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  if (isRecord(value) && value.type === 'function') {
    unknownFields(value, NESTED_FIELDS.tool_choice, 'tool_choice', 'tool_choice', issues);
    if (isRecord(value.function)) {
      unknownFields(value.function, NESTED_FIELDS.tool_choice_function, 'tool_choice.function', 'tool_choice', issues);
    }
  }
  const name =
    isRecord(value) && value.type === 'function' && isRecord(value.function) ? value.function.name : undefined;
  if (typeof name !== 'string') {
    return issues.add('tool_choice', 'must be none, auto, required or {"type": "function", "function": {"name": ...}}');
  }
  if (!declared.some((t) => t.name === name))
    return issues.add('tool_choice.function.name', 'must name one of the tools');
  return { name };
}

function metadata(
  value: Record<string, unknown> | null | undefined,
  issues: Issues,
): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_PAIRS)
    return issues.add('metadata', `must have at most ${MAX_METADATA_PAIRS} keys`);
  for (const [key, item] of entries) {
    if (key.length > 64 || typeof item !== 'string' || item.length > 512) {
      return issues.add(`metadata.${headOf(key, 64)}`, 'must be a string of at most 512 characters (key at most 64)');
    }
  }
  return value as Record<string, string>;
}
