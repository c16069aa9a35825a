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

/** The Gemini / Vertex wire format of a `HostileUpstream` flood (a huge answer, an endless stream). */
export const GEMINI_FLOOD_FORMAT: FloodFormat = {
  jsonHead: '{"candidates":[{"content":{"role":"model","parts":[{"text":"',
  jsonTail: '"}]},"finishReason":"STOP","index":0}],"modelVersion":"flood"}',
  sseEvent: (text) =>
    JSON.stringify({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }],
      modelVersion: 'flood',
    }),
};

const VERTEX_PATH =
  /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const GEMINI_PATH = /^\/(v1|v1beta)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * A loopback stand-in for Vertex AI and the Gemini Developer API (`generateContent` and
 * `streamGenerateContent?alt=sse`), for tests of the `@google/genai` adapters and of the whole service.
 *
 * Routes (anything else answers 404 and is still recorded):
 * - Vertex: `POST /{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
 *   and `...:streamGenerateContent?alt=sse`
 * - Gemini API: `POST /{v1|v1beta}/models/{model}:generateContent` and `...:streamGenerateContent?alt=sse`
 *
 * Point the SDK at it with `httpOptions.baseUrl = server.url` (in the service: `LLM_BASE_URL`).
 *
 * ```ts
 * const gemini = await new FakeGeminiServer().start();
 * gemini.enqueue({ type: 'error', status: 429, retryAfter: '3' }, { type: 'answer', text: 'hi' });
 * // ... call the service / adapter ...
 * expect(gemini.requests[0]?.model).toBe('gemini-2.5-flash');
 * expect(gemini.requests[0]?.headers.authorization).toBe('Bearer test-token');
 * await gemini.close();
 * ```
 *
 * Wire format rendered from a `FakeReply`: `usageMetadata.promptTokenCount` = prompt (cached included),
 * `cachedContentTokenCount`, `candidatesTokenCount` = output, `thoughtsTokenCount` = reasoning,
 * `totalTokenCount` = prompt + output + reasoning. A stream sends partial usage (prompt only) on early chunks
 * and the full usage with the finish reason on the last one, like the Gemini API.
 */
export class FakeGeminiServer extends FakeLlmServer {
  protected route(method: string, path: string): RouteMatch | undefined {
    if (method !== 'POST') return undefined;
    const vertex = VERTEX_PATH.exec(path);
    if (vertex !== null) {
      const [, apiVersion, project, location, model, verb] = vertex;
      return { api: 'vertex', model, stream: verb === 'streamGenerateContent', apiVersion, project, location };
    }
    const gemini = GEMINI_PATH.exec(path);
    if (gemini !== null) {
      const [, apiVersion, model, verb] = gemini;
      return { api: 'gemini', model, stream: verb === 'streamGenerateContent', apiVersion };
    }
    return undefined;
  }

  protected async render(reply: RenderableReply, request: RecordedRequest, res: ServerResponse): Promise<void> {
    const modelVersion = (reply.type === 'answer' ? reply.model : undefined) ?? request.model ?? 'unknown';
    const responseId = `fake-${this.nextId()}`;
    const envelope = (extra: Record<string, unknown>): string => JSON.stringify({ ...extra, modelVersion, responseId });
    switch (reply.type) {
      case 'answer': {
        const text = reply.text ?? `answer from ${request.model ?? 'unknown'}`;
        const usage = reply.usage === undefined ? { prompt: 12, output: 5 } : reply.usage;
        const finishReason = reply.finishReason ?? 'STOP';
        const thoughtPart = reply.thoughts !== undefined ? [{ text: reply.thoughts, thought: true }] : [];
        if (!request.stream) {
          sendJson(res, 200, {
            candidates: [{ content: { role: 'model', parts: [...thoughtPart, { text }] }, finishReason, index: 0 }],
            ...(usage !== null ? { usageMetadata: usageMetadata(usage) } : {}),
            modelVersion,
            responseId,
          });
          return;
        }
        const chunks = reply.chunks ?? splitText(text);
        const events = chunks.map((chunk, i) => {
          const last = i === chunks.length - 1;
          const parts = i === 0 ? [...thoughtPart, { text: chunk }] : [{ text: chunk }];
          return envelope({
            candidates: [{ content: { role: 'model', parts }, index: 0, ...(last ? { finishReason } : {}) }],
            ...(usage !== null ? { usageMetadata: last ? usageMetadata(usage) : partialUsage(usage) } : {}),
          });
        });
        if (events.length === 0) {
          events.push(
            envelope({
              candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, index: 0, finishReason }],
              ...(usage !== null ? { usageMetadata: usageMetadata(usage) } : {}),
            }),
          );
        }
        await sendSse(res, events, reply.chunkDelayMs, reply.immediateChunks);
        return;
      }
      case 'prompt_block': {
        const body = {
          promptFeedback: {
            blockReason: reply.reason ?? 'SAFETY',
            safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }],
          },
          usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
        };
        if (request.stream) await sendSse(res, [envelope(body)]);
        else sendJson(res, 200, { ...body, modelVersion, responseId });
        return;
      }
      case 'candidate_block': {
        const blocked = {
          candidates: [
            {
              finishReason: reply.reason ?? 'SAFETY',
              index: 0,
              safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true }],
              ...(reply.text !== undefined && !request.stream
                ? { content: { role: 'model', parts: [{ text: reply.text }] } }
                : {}),
            },
          ],
          usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 0, totalTokenCount: 9 },
        };
        if (!request.stream) {
          sendJson(res, 200, { ...blocked, modelVersion, responseId });
          return;
        }
        const before = reply.text !== undefined ? splitText(reply.text) : [];
        await sendSse(res, [
          ...before.map((chunk) =>
            envelope({ candidates: [{ content: { role: 'model', parts: [{ text: chunk }] }, index: 0 }] }),
          ),
          envelope(blocked),
        ]);
        return;
      }
      case 'error': {
        const details =
          reply.retryDelay !== undefined
            ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: reply.retryDelay }]
            : undefined;
        const body = reply.body ?? {
          error: {
            code: reply.status,
            message: `fake upstream error ${reply.status}`,
            status: STATUS_NAMES[reply.status] ?? 'UNKNOWN',
            ...(details !== undefined ? { details } : {}),
          },
        };
        sendJson(res, reply.status, body, {
          ...(reply.retryAfter !== undefined ? { 'retry-after': reply.retryAfter } : {}),
          ...reply.headers,
        });
        return;
      }
      case 'stream_error': {
        const status = reply.status ?? 500;
        const error = {
          error: { code: status, message: `fake upstream error ${status}`, status: STATUS_NAMES[status] ?? 'UNKNOWN' },
        };
        if (!request.stream) {
          sendJson(res, status, error);
          return;
        }
        const before = splitText(reply.text ?? 'partial answer');
        await sendSse(res, [
          ...before.map((chunk) =>
            envelope({ candidates: [{ content: { role: 'model', parts: [{ text: chunk }] }, index: 0 }] }),
          ),
          JSON.stringify(error),
        ]);
        return;
      }
      case 'malformed':
        if (request.stream) await sendSse(res, ['{"candidates": [ {"content": oops']);
        else sendJson(res, 200, '{"candidates": [ {"content": {"parts": [ oops');
        return;
    }
  }
}

function usageMetadata(usage: FakeUsage): Record<string, number> {
  const reasoning = usage.reasoning ?? 0;
  return {
    promptTokenCount: usage.prompt,
    ...(usage.cached !== undefined ? { cachedContentTokenCount: usage.cached } : {}),
    candidatesTokenCount: usage.output,
    ...(usage.reasoning !== undefined ? { thoughtsTokenCount: usage.reasoning } : {}),
    totalTokenCount: usage.prompt + usage.output + reasoning,
  };
}

function partialUsage(usage: FakeUsage): Record<string, number> {
  return { promptTokenCount: usage.prompt, totalTokenCount: usage.prompt };
}
