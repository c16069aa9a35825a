import type { ServerResponse } from 'node:http';
import {
  FakeLlmServer,
  type FakeUsage,
  type RecordedRequest,
  type RenderableReply,
  type RouteMatch,
  sendJson,
  sendSse,
  splitText,
} from './fake-llm-server';
import type { FloodFormat } from './llm-adapter-helpers';

/** The chat-completions wire format of a `HostileUpstream` flood (a huge answer, an endless stream). */
export const OPENAI_FLOOD_FORMAT: FloodFormat = {
  jsonHead:
    '{"id":"chatcmpl-flood","object":"chat.completion","model":"flood","choices":[{"index":0,"message":{"role":"assistant","content":"',
  jsonTail: '"},"finish_reason":"stop"}]}',
  sseEvent: (text) =>
    JSON.stringify({
      id: 'chatcmpl-flood',
      object: 'chat.completion.chunk',
      model: 'flood',
      choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
    }),
};

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
};

/**
 * A loopback stand-in for an OpenAI-compatible server (Ollama, vLLM, llama.cpp server):
 * `POST /v1/chat/completions`, answering JSON, or SSE when the body has `stream: true` (with a final usage
 * chunk when `stream_options.include_usage` is set, then `data: [DONE]`). Anything else answers 404 and is
 * still recorded.
 *
 * ```ts
 * const openai = await new FakeOpenAiServer().start();   // OPENAI_BASE_URL / LLM_BASE_URL = openai.url
 * openai.enqueue({ type: 'answer', text: 'hi', usage: { prompt: 10, cached: 4, output: 3, reasoning: 2 } });
 * ```
 *
 * Wire format rendered from a `FakeReply`: `prompt_tokens` = prompt, `prompt_tokens_details.cached_tokens`,
 * `completion_tokens` = output + reasoning (OpenAI counts reasoning inside completion),
 * `completion_tokens_details.reasoning_tokens`, `total_tokens` = prompt + completion.
 * `prompt_block` answers HTTP 400 with error code `content_filter` (Azure OpenAI's prompt filter);
 * `candidate_block` finishes with `finish_reason: "content_filter"`.
 */
export class FakeOpenAiServer extends FakeLlmServer {
  protected route(method: string, path: string, _query: Record<string, string>, body: unknown): RouteMatch | undefined {
    if (method !== 'POST' || path !== '/v1/chat/completions') return undefined;
    const parsed = (body ?? {}) as { model?: unknown; stream?: unknown };
    return {
      api: 'openai',
      model: typeof parsed.model === 'string' ? parsed.model : undefined,
      stream: parsed.stream === true,
    };
  }

  protected async render(reply: RenderableReply, request: RecordedRequest, res: ServerResponse): Promise<void> {
    const id = `chatcmpl-fake-${this.nextId()}`;
    const created = Math.floor(Date.now() / 1000);
    const includeUsage =
      (request.body as { stream_options?: { include_usage?: unknown } } | undefined)?.stream_options?.include_usage ===
      true;
    const model = (reply.type === 'answer' ? reply.model : undefined) ?? request.model ?? 'unknown';
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
      JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra });
    const streamed = async (
      pieces: string[],
      finishReason: string,
      usage: FakeUsage | null,
      chunkDelayMs?: number,
    ): Promise<void> => {
      const events = [
        chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
        ...pieces.map((piece) => chunk([{ index: 0, delta: { content: piece }, finish_reason: null }])),
        chunk([{ index: 0, delta: {}, finish_reason: finishReason }]),
        ...(includeUsage && usage !== null ? [chunk([], { usage: wireUsage(usage) })] : []),
        '[DONE]',
      ];
      // The role-only chunk and the first content piece go out together; pauses come between content pieces.
      await sendSse(res, events, chunkDelayMs, 2);
    };
    const completion = (content: string | null, finishReason: string, usage: FakeUsage | null): unknown => ({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
      ...(usage !== null ? { usage: wireUsage(usage) } : {}),
    });

    switch (reply.type) {
      case 'answer': {
        const text = reply.text ?? `answer from ${request.model ?? 'unknown'}`;
        const usage = reply.usage === undefined ? { prompt: 12, output: 5 } : reply.usage;
        const finishReason = reply.finishReason ?? 'stop';
        if (request.stream) await streamed(reply.chunks ?? splitText(text), finishReason, usage, reply.chunkDelayMs);
        else sendJson(res, 200, completion(text, finishReason, usage));
        return;
      }
      case 'prompt_block':
        sendJson(res, 400, {
          error: {
            message: 'The prompt was filtered due to triggering the content management policy.',
            type: null,
            param: 'prompt',
            code: 'content_filter',
            status: 400,
          },
        });
        return;
      case 'candidate_block': {
        const usage = { prompt: 9, output: 0 };
        if (request.stream)
          await streamed(reply.text !== undefined ? splitText(reply.text) : [], 'content_filter', usage);
        else sendJson(res, 200, completion(reply.text ?? null, 'content_filter', usage));
        return;
      }
      case 'error':
        sendJson(
          res,
          reply.status,
          reply.body ?? {
            error: {
              message: `fake upstream error ${reply.status}`,
              type: ERROR_TYPES[reply.status] ?? 'server_error',
              code: null,
            },
          },
          { ...(reply.retryAfter !== undefined ? { 'retry-after': reply.retryAfter } : {}), ...reply.headers },
        );
        return;
      case 'stream_error': {
        const status = reply.status ?? 500;
        const error = {
          error: {
            message: `fake upstream error ${status}`,
            type: ERROR_TYPES[status] ?? 'server_error',
            code: status,
          },
        };
        if (!request.stream) {
          sendJson(res, status, error);
          return;
        }
        const pieces = splitText(reply.text ?? 'partial answer');
        await sendSse(res, [
          ...pieces.map((piece) => chunk([{ index: 0, delta: { content: piece }, finish_reason: null }])),
          JSON.stringify(error),
        ]);
        return;
      }
      case 'malformed':
        if (request.stream) await sendSse(res, ['{"id": "x", "choices": [ oops']);
        else sendJson(res, 200, '{"id": "x", "choices": [ {"message": oops');
        return;
    }
  }
}

function wireUsage(usage: FakeUsage): Record<string, unknown> {
  const completion = usage.output + (usage.reasoning ?? 0);
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: completion,
    total_tokens: usage.prompt + completion,
    ...(usage.cached !== undefined ? { prompt_tokens_details: { cached_tokens: usage.cached } } : {}),
    ...(usage.reasoning !== undefined ? { completion_tokens_details: { reasoning_tokens: usage.reasoning } } : {}),
  };
}
