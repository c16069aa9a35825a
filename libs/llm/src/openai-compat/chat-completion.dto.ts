import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ApiInteger, IsInteger } from '@app/common';
import { LlmMetadataDto } from '../dto/llm-response.dto';

const OBJECT = { type: 'object', additionalProperties: true } as const;

/**
 * `POST /v1/chat/completions`, as the OpenAI Chat Completions API takes it. The fields listed here are accepted;
 * any other is refused (400, `param` naming it), never ignored. Nested fields (messages, tools, tool_choice,
 * response_format, stop, stream_options, metadata) are checked field by field, each refusal naming its path
 * (`messages[1].content[0].type`).
 *
 * The OpenAI parameters this gateway does not translate (`frequency_penalty` to `prompt_cache_key`, last) are taken
 * only at a value that asks for nothing more than what it does: null, or OpenAI's default where the gateway behaves
 * so (`presence_penalty: 0`, `store: false`); clients send them so. Any other value is refused (400
 * `unsupported_parameter`), never ignored.
 */
export class ChatCompletionRequestDto {
  /** A model of the chain (LLM_MODEL, LLM_FALLBACK_MODELS) or an alias (LLM_MODEL_ALIASES): GET /v1/models. */
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  model!: string;

  /**
   * The conversation: `system` (or `developer`), `user`, `assistant` (text and/or `tool_calls`) and `tool` messages.
   * Content is a string or an array of `{type: "text", text}` parts; other part types (images, audio, files) are
   * refused.
   */
  @ApiProperty({ type: 'array', items: OBJECT })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(512)
  messages!: unknown[];

  /** Sampling temperature, 0-2 (default LLM_TEMPERATURE). */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number | null;

  /** Nucleus sampling, 0-1. */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  top_p?: number | null;

  /** Output token limit (at most LLM_MAX_OUTPUT_TOKENS, its default). */
  @IsOptional()
  @IsInteger()
  @Min(1)
  max_tokens?: number | null;

  /** Output token limit (OpenAI's newer name for `max_tokens`). */
  @IsOptional()
  @IsInteger()
  @Min(1)
  max_completion_tokens?: number | null;

  /** Up to 4 sequences where the model stops (left out of the answer). */
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }] })
  @Allow()
  stop?: unknown;

  /** Number of choices: only 1 is served. */
  @IsOptional()
  @IsInteger()
  @Min(1)
  @Max(128)
  n?: number | null;

  /** Stream the answer as Server-Sent Events (`chat.completion.chunk`), ending with `data: [DONE]`. */
  @IsOptional()
  @IsBoolean()
  stream?: boolean | null;

  /** With `stream`: `{include_usage: true}` adds a final chunk with the usage (empty `choices`) before `[DONE]`. */
  @ApiPropertyOptional(OBJECT)
  @IsOptional()
  @IsObject()
  stream_options?: Record<string, unknown> | null;

  /** The end user's id: sent to OpenAI-compatible upstreams, recorded on the call's LLM Observability span. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string | null;

  /** Up to 16 string pairs, recorded on the call's LLM Observability span (never in metrics tags). */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown> | null;

  /** `{type: "text"}`, `{type: "json_object"}` or `{type: "json_schema", json_schema: {name, schema, strict}}`. */
  @ApiPropertyOptional(OBJECT)
  @IsOptional()
  @IsObject()
  response_format?: Record<string, unknown> | null;

  /** Functions the model may call: `{type: "function", function: {name, description, parameters, strict}}`. */
  @ApiPropertyOptional({ type: 'array', items: OBJECT })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  tools?: unknown[] | null;

  /** `none`, `auto`, `required`, or `{type: "function", function: {name}}`. */
  @ApiPropertyOptional({ oneOf: [{ type: 'string', enum: ['none', 'auto', 'required'] }, OBJECT] })
  @Allow()
  tool_choice?: unknown;

  /** Penalises tokens by how often they already appear, -2 to 2 (Gemini `frequencyPenalty`). */
  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  frequency_penalty?: number | null;

  /** Penalises tokens that already appear, -2 to 2 (Gemini `presencePenalty`). */
  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  presence_penalty?: number | null;

  /** Only false or null: log probabilities are not returned (`logprobs: null` in the answer). */
  @ApiPropertyOptional({ type: 'boolean', nullable: true, enum: [false, null] })
  @Allow()
  logprobs?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'integer', nullable: true, enum: [null] })
  @Allow()
  top_logprobs?: unknown;

  /** Only an empty object or null. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: false, maxProperties: 0, nullable: true })
  @Allow()
  logit_bias?: unknown;

  /**
   * Seeded sampling, best effort as at OpenAI (the same seed and parameters should give the same answer): an integer,
   * passed to the provider (Gemini `seed`, which takes a 32-bit integer); the simulated provider seeds its answer with it.
   */
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    nullable: true,
    minimum: -Number.MAX_SAFE_INTEGER,
    maximum: Number.MAX_SAFE_INTEGER,
  })
  @IsOptional()
  @IsInt()
  @Min(-Number.MAX_SAFE_INTEGER)
  @Max(Number.MAX_SAFE_INTEGER)
  seed?: number | null;

  /** Only false or null: nothing is stored for OpenAI's distillation or evals. */
  @ApiPropertyOptional({ type: 'boolean', nullable: true, enum: [false, null] })
  @Allow()
  store?: unknown;

  /** true or null (the default): several tool calls may come back; false: at most one (the first the model made). */
  @ApiPropertyOptional({ type: 'boolean', nullable: true })
  @Allow()
  parallel_tool_calls?: unknown;

  /** Only `["text"]` or null. */
  @ApiPropertyOptional({ type: 'array', items: { type: 'string', enum: ['text'] }, nullable: true })
  @Allow()
  modalities?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'string', nullable: true, enum: [null] })
  @Allow()
  service_tier?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'string', nullable: true, enum: [null] })
  @Allow()
  reasoning_effort?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'string', nullable: true, enum: [null] })
  @Allow()
  verbosity?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, enum: [null] })
  @Allow()
  audio?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, enum: [null] })
  @Allow()
  prediction?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'string', nullable: true, enum: [null] })
  @Allow()
  safety_identifier?: unknown;

  /** Only null. */
  @ApiPropertyOptional({ type: 'string', nullable: true, enum: [null] })
  @Allow()
  prompt_cache_key?: unknown;
}

/** A tool call of the answer. */
export class ChatToolCallDto {
  id!: string;
  type!: 'function';
  @ApiProperty({ type: 'object', properties: { name: { type: 'string' }, arguments: { type: 'string' } } })
  function!: { name: string; arguments: string };
}

/** The answer message. */
export class ChatCompletionMessageDto {
  role!: 'assistant';
  /** The answer's text; null when it only calls tools. */
  @ApiProperty({ type: 'string', nullable: true })
  content!: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  refusal!: string | null;
  tool_calls?: ChatToolCallDto[];
}

export class ChatCompletionChoiceDto {
  @ApiInteger()
  index!: number;
  message!: ChatCompletionMessageDto;
  /** stop, length, tool_calls or content_filter. */
  finish_reason!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  logprobs!: null;
}

/** Token usage; `completion_tokens` includes the reasoning tokens, as OpenAI counts them. */
export class ChatCompletionUsageDto {
  @ApiInteger()
  prompt_tokens!: number;
  @ApiInteger()
  completion_tokens!: number;
  @ApiInteger()
  total_tokens!: number;
  @ApiProperty({ type: 'object', properties: { cached_tokens: { type: 'integer' } } })
  prompt_tokens_details!: { cached_tokens: number };
  @ApiProperty({ type: 'object', properties: { reasoning_tokens: { type: 'integer' } } })
  completion_tokens_details!: { reasoning_tokens: number };
}

/**
 * A chat completion (`object: chat.completion`). The control plane's own facts are in the `x-control-plane-*`
 * response headers; `control_plane` is present only when the request sent `x-control-plane-metadata: true`.
 */
export class ChatCompletionResponseDto {
  /** `chatcmpl-` and the call's prompt id. */
  id!: string;
  object!: 'chat.completion';
  @ApiInteger()
  created!: number;
  /** The model of the chain that answered. */
  model!: string;
  choices!: ChatCompletionChoiceDto[];
  usage!: ChatCompletionUsageDto;
  @ApiProperty({ type: 'string', nullable: true })
  system_fingerprint!: null;
  control_plane?: LlmMetadataDto;
}

export class ModelDto {
  id!: string;
  object!: 'model';
  @ApiInteger()
  created!: number;
  /** The provider (LLM_PROVIDER). */
  owned_by!: string;
}

/** The models served: the chain and the aliases. */
export class ModelListDto {
  object!: 'list';
  data!: ModelDto[];
}

/** The OpenAI error body of every `/v1` failure. */
export class OpenAiErrorDto {
  @ApiProperty({
    type: 'object',
    properties: {
      message: { type: 'string' },
      type: { type: 'string' },
      param: { type: 'string', nullable: true },
      code: { type: 'string', nullable: true },
    },
    required: ['message', 'type', 'param', 'code'],
  })
  error!: { message: string; type: string; param: string | null; code: string | null };
}
