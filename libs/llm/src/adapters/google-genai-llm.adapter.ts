import { createUndiciFetch, googleEndpoint, RESPONSE_LIMIT_HEADER } from '@app/common';
import { AppConfig } from '@app/config';
import {
  type Candidate,
  type GenerateContentConfig,
  type GenerateContentParameters,
  type GenerateContentResponse,
  type GenerateContentResponseUsageMetadata,
  GoogleGenAI,
  type GoogleGenAIOptions,
} from '@google/genai';
import type { AuthClient } from 'google-auth-library';
import { Agent } from 'undici';
import {
  type FinishReason,
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  LlmProviderError,
  type LlmStreamEvent,
  type LlmUsage,
  type SafetyBlock,
  type ToolCall,
} from '../ports/llm-provider.port';
import { geminiChat, toToolCall } from './google-genai-chat';
import { responseByteLimit } from './response-limit';
import {
  type AdapterFailure,
  classifyErrorBody,
  type ErrorContext,
  kindForStatus,
  retryAfterFrom,
  toProviderError,
} from './upstream-errors';
import { hideProject } from './google-project';
import { readUsage, responseFinishReason, responseModel } from './wire-values';

export type GoogleGenAiMode = 'vertex' | 'gemini';

export interface GoogleGenAiAdapterOptions {
  /**
   * Vertex mode only: the credentials to use instead of Application Default Credentials (tests pass an
   * OAuth2Client holding a fixed access token).
   */
  authClient?: AuthClient;
}

/** Candidate finish reasons that mean "the answer was withheld by a safety/policy filter". */
const CANDIDATE_SAFETY_REASONS = new Set([
  'SAFETY',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'RECITATION',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Vertex AI's pinned API version; the Gemini API's. Pinned so that GOOGLE_GENAI_API_VERSION cannot move them. */
const API_VERSION: Record<GoogleGenAiMode, string> = { vertex: 'v1beta1', gemini: 'v1beta' };

/**
 * Gemini models through Google's `@google/genai` SDK, in Vertex AI mode (project + location, Application
 * Default Credentials) or Gemini Developer API mode (API key). `LLM_BASE_URL` overrides the endpoint; without it,
 * Google's (`googleEndpoint`), never one from the SDK's own environment variables.
 *
 * - One SDK client per adapter; the model is passed per call, so concurrent requests never share model state.
 * - HTTP goes through a keep-alive undici `Agent` via `httpOptions.fetch` (see `createUndiciFetch`), which also
 *   recovers `Retry-After` on failures (the SDK's `ApiError` only keeps the status).
 * - The SDK retries nothing here: `httpOptions.retryOptions` is left unset, which in @google/genai 3.x means a
 *   single attempt. Retries, backoff and fallback belong to the LlmService.
 * - What is read of an answer is bounded by that fetch: each call sends its own limit (`responseByteLimit`, from
 *   its max output tokens, at most `LLM_MAX_RESPONSE_BYTES`) in the per-request `RESPONSE_LIMIT_HEADER`, which the
 *   fetch reads and never sends. Past it the connection is closed and the attempt fails as `invalid_response`.
 */
export class GoogleGenAiLlmAdapter extends LlmProvider {
  readonly name: 'vertex' | 'gemini';
  readonly simulated = false;
  /** Conversations, tools and both JSON modes are translated (`google-genai-chat.ts`). */
  override readonly capabilities = { tools: true, jsonObject: true, jsonSchema: true, seedBits: 32 as const };
  private readonly client: GoogleGenAI;
  private readonly agent: Agent;
  private readonly maxResponseBytes: number;

  constructor(config: AppConfig, mode: GoogleGenAiMode, options: GoogleGenAiAdapterOptions = {}) {
    super();
    this.name = mode;
    const { llm } = config;
    this.maxResponseBytes = llm.maxResponseBytes;
    this.agent = new Agent({
      connections: llm.maxConcurrency,
      keepAliveTimeout: 30_000,
      // A backstop only: the caller's signal enforces the per-attempt timeout first.
      headersTimeout: llm.timeoutMs + 5_000,
      bodyTimeout: llm.timeoutMs + 5_000,
    });
    const httpOptions = {
      fetch: createUndiciFetch(this.agent, hideProject(llm.vertex.project), { maxResponseBytes: llm.maxResponseBytes }),
      apiVersion: API_VERSION[mode],
      baseUrl: llm.baseUrl ?? googleEndpoint(mode, llm.vertex.location),
    };
    let clientOptions: GoogleGenAIOptions;
    if (mode === 'vertex') {
      if (llm.vertex.project === undefined) {
        throw new Error('the vertex LLM provider needs GOOGLE_CLOUD_PROJECT');
      }
      clientOptions = {
        vertexai: true,
        project: llm.vertex.project,
        location: llm.vertex.location,
        httpOptions,
        ...(options.authClient !== undefined
          ? // google-auth-library 11's client, handed to the SDK's (v10) GoogleAuth: only getRequestHeaders is used.
            { googleAuthOptions: { authClient: options.authClient as never } }
          : {}),
      };
    } else {
      const apiKey = llm.gemini.apiKey;
      if (apiKey === undefined) throw new Error('the gemini LLM provider needs GEMINI_API_KEY');
      clientOptions = { vertexai: false, apiKey: apiKey.reveal(), httpOptions };
    }
    this.client = new GoogleGenAI(clientOptions);
  }

  async generate(request: LlmGenerateRequest): Promise<LlmGenerateResult> {
    const context = this.errorContext(request);
    let response: GenerateContentResponse;
    try {
      response = await this.client.models.generateContent(this.parameters(request, request.signal));
    } catch (error) {
      throw toProviderError(error, context, sdkFailure);
    }
    const accumulator = new ResponseAccumulator(request.model);
    accumulator.add(response);
    return accumulator.result(context);
  }

  async *stream(request: LlmGenerateRequest): AsyncIterable<LlmStreamEvent> {
    const context = this.errorContext(request);
    // Our own abort joins the caller's: if the consumer stops early, the upstream body is released.
    const stop = new AbortController();
    const signal = AbortSignal.any([request.signal, stop.signal]);
    const accumulator = new ResponseAccumulator(request.model);
    let finished = false;
    try {
      let chunks: AsyncGenerator<GenerateContentResponse>;
      try {
        chunks = await this.client.models.generateContentStream(this.parameters(request, signal));
      } catch (error) {
        throw toProviderError(error, context, sdkFailure);
      }
      while (true) {
        let next: IteratorResult<GenerateContentResponse>;
        try {
          next = await chunks.next();
        } catch (error) {
          throw toProviderError(error, context, sdkFailure);
        }
        if (next.done) break;
        const delta = accumulator.add(next.value);
        if (delta !== '') yield { type: 'delta', text: delta };
      }
      // Gemini's last chunk carries the finish reason (or the prompt's block): a stream that ends cleanly without
      // one was cut (a proxy, a load balancer closing the response), and its text is not the whole answer.
      if (!accumulator.ended) {
        throw new LlmProviderError(
          'invalid_response',
          `${context.provider} ${context.model}: the stream ended before the answer finished (no finishReason)`,
          { provider: context.provider, model: context.model, status: 200 },
        );
      }
      finished = true;
      yield { type: 'done', result: accumulator.result(context) };
    } finally {
      if (!finished) stop.abort(new Error('stream consumer stopped'));
    }
  }

  /** Releases the keep-alive connections (call on shutdown). */
  override async close(): Promise<void> {
    await this.agent.close();
  }

  private parameters(request: LlmGenerateRequest, signal: AbortSignal): GenerateContentParameters {
    const chat = geminiChat(request, this.name);
    const config: GenerateContentConfig = {
      ...chat.config,
      abortSignal: signal,
      temperature: request.temperature,
      maxOutputTokens: request.maxOutputTokens,
      httpOptions: {
        headers: { [RESPONSE_LIMIT_HEADER]: String(responseByteLimit(request.maxOutputTokens, this.maxResponseBytes)) },
      },
    };
    return { model: request.model, contents: chat.contents, config };
  }

  private errorContext(request: LlmGenerateRequest): ErrorContext {
    return { provider: this.name, model: request.model, signal: request.signal };
  }
}

/** Folds one response, or the chunks of a stream, into a result. Streams repeat usage: the last one wins. */
class ResponseAccumulator {
  private text = '';
  private model: string;
  private usage: GenerateContentResponseUsageMetadata | undefined;
  private rawFinishReason: string | undefined;
  private promptBlockReason: string | undefined;
  private sawCandidate = false;
  private readonly toolCalls: ToolCall[] = [];

  constructor(requestedModel: string) {
    this.model = requestedModel;
  }

  /** Whether the response said it was complete: a candidate's finish reason, or the prompt's block. */
  get ended(): boolean {
    return this.rawFinishReason !== undefined || this.promptBlockReason !== undefined;
  }

  /** Returns the new answer text in this response/chunk. */
  add(response: GenerateContentResponse): string {
    if (response.modelVersion !== undefined) this.model = responseModel(response.modelVersion, this.model);
    if (response.usageMetadata) this.usage = response.usageMetadata;
    const blockReason = response.promptFeedback?.blockReason;
    if (blockReason) this.promptBlockReason = String(blockReason);
    const candidate: Candidate | undefined = response.candidates?.[0];
    if (candidate === undefined) return '';
    this.sawCandidate = true;
    this.rawFinishReason = responseFinishReason(candidate.finishReason) ?? this.rawFinishReason;
    let delta = '';
    for (const part of candidate.content?.parts ?? []) {
      if (typeof part.text === 'string' && part.thought !== true) delta += part.text;
      if (part.functionCall !== undefined) this.toolCalls.push(toToolCall(part.functionCall, part.thoughtSignature));
    }
    this.text += delta;
    return delta;
  }

  result(context: ErrorContext): LlmGenerateResult {
    const usage = toUsage(this.usage);
    let safetyBlock: SafetyBlock | undefined;
    let finishReason: FinishReason;
    let rawFinishReason = this.rawFinishReason;
    if (this.promptBlockReason !== undefined) {
      safetyBlock = { stage: 'prompt', reason: this.promptBlockReason };
      finishReason = 'safety';
      rawFinishReason ??= this.promptBlockReason;
    } else if (!this.sawCandidate) {
      throw new LlmProviderError(
        'invalid_response',
        `${context.provider} ${context.model}: the response had neither a candidate nor a prompt block`,
        { provider: context.provider, model: context.model, status: 200 },
      );
    } else if (rawFinishReason !== undefined && CANDIDATE_SAFETY_REASONS.has(rawFinishReason)) {
      safetyBlock = { stage: 'candidate', reason: rawFinishReason };
      finishReason = 'safety';
    } else {
      // Cut by the output limit, function calls or not: `length`, as OpenAI answers an answer it cut.
      const normalised = normaliseFinishReason(rawFinishReason);
      finishReason = this.toolCalls.length > 0 && normalised !== 'length' ? 'tool_calls' : normalised;
    }
    return {
      text: this.text,
      model: this.model,
      finishReason,
      ...(rawFinishReason !== undefined ? { rawFinishReason } : {}),
      ...(usage !== undefined ? { usage } : {}),
      ...(safetyBlock !== undefined ? { safetyBlock } : {}),
      ...(this.toolCalls.length > 0 ? { toolCalls: this.toolCalls } : {}),
    };
  }
}

function normaliseFinishReason(raw: string | undefined): FinishReason {
  if (raw === 'STOP') return 'stop';
  if (raw === 'MAX_TOKENS') return 'length';
  return 'other';
}

/**
 * Gemini usage → LlmUsage. `promptTokenCount` already includes `cachedContentTokenCount`; tool-use prompt
 * tokens are input too. `candidatesTokenCount` excludes `thoughtsTokenCount` (billed at the output rate), and
 * is left out when there is no answer (a blocked prompt): 0 then. Undefined (the service then estimates, and
 * says so) when `promptTokenCount` is missing or any count is not a non-negative integer.
 */
export function toUsage(metadata: GenerateContentResponseUsageMetadata | undefined): LlmUsage | undefined {
  if (metadata === undefined || metadata === null || typeof metadata !== 'object') return undefined;
  return readUsage((count) => {
    const prompt = count(metadata.promptTokenCount);
    const inputTokens = prompt + count(metadata.toolUsePromptTokenCount, 0);
    const outputTokens = count(metadata.candidatesTokenCount, 0);
    const reasoningTokens = count(metadata.thoughtsTokenCount, 0);
    return {
      inputTokens,
      outputTokens,
      reasoningTokens,
      cachedTokens: Math.min(count(metadata.cachedContentTokenCount, 0), prompt),
      totalTokens: count(metadata.totalTokenCount, inputTokens + outputTokens + reasoningTokens),
      estimated: false,
    };
  });
}

/** SDK failures that carry no HTTP status from our fetch: mid-stream error chunks (ApiError) and auth. */
function sdkFailure(error: unknown): AdapterFailure | undefined {
  // Duck-typed: errors from Node built-ins (fs, net) may come from another realm, where instanceof fails.
  if (error === null || typeof error !== 'object') return undefined;
  const {
    name,
    message = '',
    status,
    code,
    response,
  } = error as { name?: unknown; message?: unknown; status?: unknown; code?: unknown; response?: unknown };
  if (typeof message !== 'string') return undefined;
  if (name === 'ApiError' && typeof status === 'number') {
    // The SDK's message is `got status: <its status, INTERNAL>. <the error chunk as JSON>`: its code reads as a whole
    // answer's would.
    const chunk = /^got status: [^\s.]*\. (\{.*)$/s.exec(message)?.[1];
    const body = chunk !== undefined ? classifyErrorBody(status, chunk) : {};
    const retryAfterMs = chunk !== undefined ? retryAfterFrom({}, chunk) : undefined;
    return {
      kind: body.kind ?? kindForStatus(status),
      status,
      message: `the response carried an error (${status})`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(body.providerCode !== undefined ? { providerCode: body.providerCode } : {}),
      ...(body.param !== undefined ? { param: body.param } : {}),
    };
  }
  // The token server's answer (the metadata server on Google Cloud, Google's OAuth endpoint; the model's own go through
  // our fetch): its 5xx or 429 is a blip fetching the credentials, retried like a 5xx; its other 4xx refuses them.
  if (typeof status === 'number' && status >= 400 && typeof response === 'object') {
    const transient = status >= 500 || status === 429;
    return {
      kind: transient ? 'server' : 'auth',
      message: transient
        ? `Google credentials could not be fetched: the token server answered HTTP ${status}`
        : `the token server refused our Google credentials (HTTP ${status}: ${message.slice(0, 200)})`,
    };
  }
  // Application Default Credentials that cannot be found, read or refreshed (this runs before any request is
  // sent: an unreadable GOOGLE_APPLICATION_CREDENTIALS file surfaces as a bare ENOENT/EACCES).
  if (
    /default credentials|could not refresh access token|invalid_grant|unauthorized_client/i.test(message) ||
    code === 'ENOENT' ||
    code === 'EACCES' ||
    code === 'EISDIR'
  ) {
    return { kind: 'auth', message: `no usable Google credentials (${message.slice(0, 200)})` };
  }
  if (/incomplete json segment|exception parsing stream chunk/i.test(message)) {
    return { kind: 'invalid_response', message: 'unreadable response stream' };
  }
  return undefined;
}
