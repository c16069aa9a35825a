import { MAX_ERROR_BODY_BYTES, readBounded, readLimited, UpstreamConnectionError } from '@app/common';
import { AppConfig, type Secret } from '@app/config';
import { type Dispatcher, Pool } from 'undici';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  LlmProvider,
  LlmProviderError,
  type LlmStreamEvent,
} from '../ports/llm-provider.port';
import {
  buildResult,
  chatRequestBody,
  completionResult,
  isContentFilterError,
  isReasoningModel,
  parseJson,
  streamError,
  ToolCallPieces,
  type WireUsage,
} from './openai-wire';
import { responseByteLimit } from './response-limit';
import { sseData } from './sse-data';
import { type ErrorContext, toProviderError, upstreamHttpError } from './upstream-errors';
import { responseFinishReason, responseModel } from './wire-values';

export { toUsage } from './openai-wire';

/**
 * Any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp server, OpenAI itself):
 * `POST {base}/v1/chat/completions`, JSON or SSE (`stream: true` with `stream_options.include_usage`).
 *
 * - Base URL: `LLM_BASE_URL`, else `OPENAI_BASE_URL`. Both `http://host:11434` and `http://host:11434/v1`
 *   (the OpenAI SDK convention) work: `/v1` is not doubled.
 * - `Authorization: Bearer OPENAI_API_KEY` only when a key is configured.
 * - One keep-alive undici `Pool` per adapter (size `LLM_MAX_CONCURRENCY`); `close()` releases it.
 * - Sends `max_tokens` (what Ollama, vLLM and llama.cpp read), not OpenAI's newer `max_completion_tokens`, except to
 *   a reasoning model (OPENAI_REASONING_MODELS: OpenAI's o-series and gpt-5 family refuse `max_tokens`), which gets
 *   `max_completion_tokens` and no temperature unless the caller gave one (they refuse any but their default).
 * - A chat call's conversation, tools, tool choice, JSON mode, stop sequences, `top_p` and `user` go as they came
 *   (`openai-wire.ts`); tool calls come back from a JSON answer or from a stream's pieces.
 * - Safety: `finish_reason: content_filter` (or a `refusal`) is a candidate block; an HTTP 400 whose error
 *   code is `content_filter` (Azure OpenAI's prompt filter) is a prompt block.
 * - What is read of an answer is bounded (`responseByteLimit`: from the call's max output tokens, at most
 *   `LLM_MAX_RESPONSE_BYTES`), a JSON body and a whole stream alike: past it the connection is closed and the
 *   attempt fails as `invalid_response`.
 */
export class OpenAiCompatibleLlmAdapter extends LlmProvider {
  readonly name = 'openai' as const;
  readonly simulated = false;
  /** Tools, tool choice and both JSON modes go to the server as they came (it refuses what its model cannot do). */
  override readonly capabilities = {
    tools: true,
    jsonObject: true,
    jsonSchema: true,
    textToolArguments: true as const,
  };
  private readonly pool: Pool;
  private readonly path: string;
  private readonly apiKey: Secret | undefined;
  private readonly maxResponseBytes: number;
  private readonly reasoningModels: readonly string[];

  constructor(config: AppConfig) {
    super();
    const { llm } = config;
    const base = llm.baseUrl ?? llm.openai.baseUrl;
    if (base === undefined) throw new Error('the openai LLM provider needs OPENAI_BASE_URL (or LLM_BASE_URL)');
    const url = new URL(base);
    const prefix = url.pathname.replace(/\/+$/, '');
    // The base URL's query goes with every call: gateways that version by query (Azure OpenAI's `?api-version=`)
    // answered 404 or 400 to calls that had lost it.
    this.path = `${prefix.endsWith('/v1') ? prefix : `${prefix}/v1`}/chat/completions${url.search}`;
    this.apiKey = llm.openai.apiKey;
    this.maxResponseBytes = llm.maxResponseBytes;
    this.reasoningModels = llm.openai.reasoningModels;
    this.pool = new Pool(url.origin, {
      connections: llm.maxConcurrency,
      keepAliveTimeout: 30_000,
      // A backstop only: the caller's signal enforces the per-attempt timeout first.
      headersTimeout: llm.timeoutMs + 5_000,
      bodyTimeout: llm.timeoutMs + 5_000,
    });
  }

  async generate(request: LlmGenerateRequest): Promise<LlmGenerateResult> {
    const context = this.errorContext(request);
    try {
      const response = await this.send(request, false);
      const blocked = await this.failIfNotOk(response, request);
      if (blocked !== undefined) return blocked;
      const text = await readLimited(response.body, this.responseLimit(request), response.headers);
      return completionResult(parseJson(text), request.model, context);
    } catch (error) {
      throw toProviderError(error, context);
    }
  }

  async *stream(request: LlmGenerateRequest): AsyncIterable<LlmStreamEvent> {
    const context = this.errorContext(request);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.send(request, true);
      const blocked = await this.failIfNotOk(response, request);
      if (blocked !== undefined) {
        yield { type: 'done', result: blocked };
        return;
      }
    } catch (error) {
      throw toProviderError(error, context);
    }
    const contentType = String(response.headers['content-type'] ?? '');
    if (!contentType.includes('text/event-stream')) {
      // The server ignored `stream: true` and answered in one piece.
      let result: LlmGenerateResult;
      try {
        const body = await readLimited(response.body, this.responseLimit(request), response.headers);
        result = completionResult(parseJson(body), request.model, context);
      } catch (error) {
        throw toProviderError(error, context);
      }
      if (result.text !== '') yield { type: 'delta', text: result.text };
      yield { type: 'done', result };
      return;
    }

    let text = '';
    let model = request.model;
    let usage: WireUsage | undefined;
    let rawFinishReason: string | undefined;
    let refusal = '';
    const toolCalls = new ToolCallPieces();
    let sawDone = false;
    let ended = false;
    try {
      for await (const data of sseData(response.body, this.responseLimit(request))) {
        if (sawDone) continue; // keep reading to the end so the connection is reused
        if (data === '[DONE]') {
          sawDone = true;
          continue;
        }
        const chunk = parseJson(data);
        if (chunk.error !== undefined) throw streamError(chunk.error, context);
        if (chunk.model !== undefined) model = responseModel(chunk.model, model);
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice === undefined) continue;
        rawFinishReason = responseFinishReason(choice.finish_reason) ?? rawFinishReason;
        if (typeof choice.delta?.refusal === 'string') refusal += choice.delta.refusal;
        toolCalls.add(choice.delta?.tool_calls);
        const delta = choice.delta?.content;
        if (typeof delta === 'string' && delta !== '') {
          text += delta;
          yield { type: 'delta', text: delta };
        }
      }
      ended = true;
    } catch (error) {
      throw toProviderError(error, context);
    } finally {
      if (!ended) response.body.destroy();
    }
    if (!sawDone && rawFinishReason === undefined) {
      throw new LlmProviderError(
        'invalid_response',
        `openai ${request.model}: the stream ended before the answer finished`,
        { provider: 'openai', model: request.model, status: response.statusCode },
      );
    }
    yield {
      type: 'done',
      result: buildResult(text, model, rawFinishReason, usage, refusal, toolCalls.result(context)),
    };
  }

  /** Releases the keep-alive connections (call on shutdown). */
  override async close(): Promise<void> {
    await this.pool.close();
  }

  private send(request: LlmGenerateRequest, stream: boolean): Promise<Dispatcher.ResponseData> {
    const body = chatRequestBody(request, stream, isReasoningModel(request.model, this.reasoningModels));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey.reveal()}`;
    return this.pool
      .request({ path: this.path, method: 'POST', headers, body: JSON.stringify(body), signal: request.signal })
      .catch((error: unknown) => {
        throw request.signal.aborted ? error : new UpstreamConnectionError(error);
      });
  }

  /** Throws `UpstreamHttpError` for a non-2xx answer; returns the result of a prompt blocked by a filter. */
  private async failIfNotOk(
    response: Dispatcher.ResponseData,
    request: LlmGenerateRequest,
  ): Promise<LlmGenerateResult | undefined> {
    const { statusCode, headers, body } = response;
    if (statusCode >= 200 && statusCode < 300) return undefined;
    const text = await readBounded(body, MAX_ERROR_BODY_BYTES);
    if (statusCode === 400 && isContentFilterError(text)) {
      return {
        text: '',
        model: request.model,
        finishReason: 'safety',
        rawFinishReason: 'content_filter',
        safetyBlock: { stage: 'prompt', reason: 'content_filter' },
      };
    }
    throw upstreamHttpError(statusCode, headers, text);
  }

  private responseLimit(request: LlmGenerateRequest): number {
    return responseByteLimit(request.maxOutputTokens, this.maxResponseBytes);
  }

  private errorContext(request: LlmGenerateRequest): ErrorContext {
    return { provider: this.name, model: request.model, signal: request.signal };
  }
}
