/**
 * An instant mock LLM upstream on 127.0.0.1 for the overhead benchmark (not a test fake: it has no
 * scripting, no recording, and answers every call at once with a fixed, realistic body).
 *
 * - `POST /v1/chat/completions` (OpenAI-compatible): a `chat.completion` with `usage`.
 * - `POST /{v1|v1beta}/models/{model}:generateContent` (Gemini API) and the Vertex AI form
 *   `POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent`:
 *   a `GenerateContentResponse` with `usageMetadata` (cached and thoughts tokens included).
 * - Embeddings, as the service's off-path quality refinement calls them: `POST /v1/embeddings` (OpenAI) and
 *   `...models/{model}:batchEmbedContents|embedContent|predict` (Gemini API / Vertex), one vector per input
 *   text, with each model's default size (gemini-embedding-001: 3072, text-embedding-3-small: 1536).
 * - `GET /health`: 200.
 *
 * `--delay-ms N` (default 0) makes it a slow upstream: a chat completion is answered after N ms; with
 * `"stream": true` in the body it answers `text/event-stream` at once and spreads `--stream-chunks` content
 * chunks (default 10) evenly over the N ms, then a usage chunk and `data: [DONE]` (OpenAI's format). A
 * request whose client goes away has its timers cleared. Other routes stay instant.
 *
 * Bodies are built once per model and cached. Chat request bodies are drained but not parsed (the OpenAI
 * route reads `"model"` with a regular expression so the answer names the requested model); embeddings
 * requests are parsed to count their texts.
 *
 * Usage: `node bench/mock-upstream.ts [--port N]` (default 0: any free port). Prints one JSON line
 * `{"port":N}` on stdout once listening; stops on SIGTERM/SIGINT.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const ANSWER =
  'The request was handled by the mock upstream. It answers instantly so that the benchmark measures the ' +
  'overhead of the proxy in front of it, not the latency of a model.';

const GEMINI_PATH =
  /^\/(?:v1|v1beta|v1beta1)\/(?:projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/)?models\/([^/:]+):generateContent$/;
const EMBED_PATH =
  /^\/(?:v1|v1beta|v1beta1)\/(?:projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/)?models\/([^/:]+):(embedContent|batchEmbedContents|predict)$/;
const MODEL_FIELD = /"model"\s*:\s*"([^"]{1,200})"/;
const STREAM_FIELD = /"stream"\s*:\s*true/;

function numberArg(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index > 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`mock-upstream: ${name} needs a number >= 0`);
  return value;
}

const DELAY_MS = numberArg('--delay-ms', 0);
const STREAM_CHUNKS = Math.max(1, Math.round(numberArg('--stream-chunks', 10)));

/** The default output size of the embedding models the service uses, as the real APIs return them. */
function dimensionsOf(model: string): number {
  if (model.includes('gemini-embedding')) return 3072;
  if (model.includes('text-embedding-3-large')) return 3072;
  if (model.includes('text-embedding-3-small') || model.includes('ada-002')) return 1536;
  return 768;
}

/** A deterministic unit-ish vector printed with 9 decimals, about the size of a real API's JSON. */
const vectorCache = new Map<string, string>();
function vectorJson(model: string, index: number): string {
  const key = `${model}#${index % 8}`;
  let json = vectorCache.get(key);
  if (json === undefined) {
    const dims = dimensionsOf(model);
    const values: string[] = [];
    for (let i = 0; i < dims; i++) values.push((Math.sin(i * 12.9898 + index * 78.233) * 0.05).toFixed(9));
    json = `[${values.join(',')}]`;
    if (vectorCache.size < 200) vectorCache.set(key, json);
  }
  return json;
}

const embedBodies = new Map<string, Buffer>();
function embeddingBody(kind: string, model: string, count: number): Buffer {
  const key = `${kind}|${model}|${count}`;
  let body = embedBodies.get(key);
  if (body === undefined) {
    const vectors = Array.from({ length: count }, (_, i) => vectorJson(model, i));
    let json: string;
    if (kind === 'openai') {
      const data = vectors.map((v, i) => `{"object":"embedding","index":${i},"embedding":${v}}`).join(',');
      json = `{"object":"list","data":[${data}],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${12 * count},"total_tokens":${12 * count}}}`;
    } else if (kind === 'batchEmbedContents') {
      json = `{"embeddings":[${vectors.map((v) => `{"values":${v}}`).join(',')}]}`;
    } else if (kind === 'embedContent') {
      json = `{"embedding":{"values":${vectors[0] ?? '[]'}}}`;
    } else {
      const predictions = vectors.map(
        (v) => `{"embeddings":{"values":${v},"statistics":{"token_count":12,"truncated":false}}}`,
      );
      json = `{"predictions":[${predictions.join(',')}]}`;
    }
    body = Buffer.from(json);
    if (embedBodies.size < 200) embedBodies.set(key, body);
  }
  return body;
}

/** How many texts an embeddings request carries (OpenAI `input`, Gemini `requests`, Vertex `instances`). */
function embedCount(raw: string): number {
  try {
    const body = JSON.parse(raw) as { input?: unknown; requests?: unknown[]; instances?: unknown[] };
    if (Array.isArray(body.input)) return Math.max(1, body.input.length);
    if (Array.isArray(body.requests)) return Math.max(1, body.requests.length);
    if (Array.isArray(body.instances)) return Math.max(1, body.instances.length);
  } catch {
    // fall through: one embedding
  }
  return 1;
}

const openAiBodies = new Map<string, Buffer>();
const geminiBodies = new Map<string, Buffer>();
let counter = 0;

function openAiBody(model: string): Buffer {
  let body = openAiBodies.get(model);
  if (body === undefined) {
    body = Buffer.from(
      JSON.stringify({
        id: 'chatcmpl-bench',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: 42,
          completion_tokens: 31,
          total_tokens: 73,
          prompt_tokens_details: { cached_tokens: 8 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      }),
    );
    if (openAiBodies.size < 100) openAiBodies.set(model, body);
  }
  return body;
}

function geminiBody(model: string): Buffer {
  let body = geminiBodies.get(model);
  if (body === undefined) {
    body = Buffer.from(
      JSON.stringify({
        candidates: [{ content: { role: 'model', parts: [{ text: ANSWER }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: {
          promptTokenCount: 42,
          cachedContentTokenCount: 8,
          candidatesTokenCount: 27,
          thoughtsTokenCount: 4,
          totalTokenCount: 73,
        },
        modelVersion: model,
        responseId: 'bench',
      }),
    );
    if (geminiBodies.size < 100) geminiBodies.set(model, body);
  }
  return body;
}

function send(res: http.ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

/** The answer cut into STREAM_CHUNKS pieces, each a `chat.completion.chunk` event, then usage and [DONE]. */
const streamEvents = new Map<string, Buffer[]>();
function streamBody(model: string): Buffer[] {
  let events = streamEvents.get(model);
  if (events === undefined) {
    const words = ANSWER.split(' ');
    const per = Math.ceil(words.length / STREAM_CHUNKS);
    const chunk = (delta: object, finish: string | null, usage?: object): Buffer =>
      Buffer.from(
        `data: ${JSON.stringify({
          id: 'chatcmpl-bench',
          object: 'chat.completion.chunk',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }],
          ...(usage ? { usage } : {}),
        })}\n\n`,
      );
    events = [];
    for (let i = 0; i < STREAM_CHUNKS; i++) {
      const piece = words.slice(i * per, (i + 1) * per).join(' ');
      const text = i === 0 ? piece : ` ${piece}`;
      events.push(chunk(i === 0 ? { role: 'assistant', content: text } : { content: text }, null));
    }
    const last = events.length - 1;
    events[last] = Buffer.concat([events[last]!, chunk({}, 'stop')]);
    events[last] = Buffer.concat([
      events[last],
      chunk({}, null, { prompt_tokens: 42, completion_tokens: 31, total_tokens: 73 }),
      Buffer.from('data: [DONE]\n\n'),
    ]);
    if (streamEvents.size < 100) streamEvents.set(model, events);
  }
  return events;
}

/** A slow answer: after DELAY_MS, or streamed over it; timers cleared when the client goes away. */
function slowChat(res: http.ServerResponse, model: string, stream: boolean): void {
  const timers = new Set<NodeJS.Timeout>();
  res.on('close', () => {
    for (const t of timers) clearTimeout(t);
  });
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  if (!stream) {
    later(DELAY_MS, () => send(res, 200, openAiBody(model)));
    return;
  }
  const events = streamBody(model);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const step = DELAY_MS / events.length;
  events.forEach((event, i) => {
    later(step * (i + 1), () => {
      if (i === events.length - 1) res.end(event);
      else res.write(event);
    });
  });
}

const NOT_FOUND = Buffer.from(JSON.stringify({ error: { code: 404, message: 'not found' } }));
const OK = Buffer.from('{"status":"ok"}');

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    counter++;
    const path = req.url?.split('?', 1)[0] ?? '';
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      const raw = Buffer.concat(chunks).toString('utf8');
      const model = MODEL_FIELD.exec(raw)?.[1] ?? 'unknown';
      const stream = STREAM_FIELD.test(raw);
      if (DELAY_MS > 0 || stream) slowChat(res, model, stream);
      else send(res, 200, openAiBody(model));
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      const raw = Buffer.concat(chunks).toString('utf8');
      const model = MODEL_FIELD.exec(raw)?.[1] ?? 'unknown';
      send(res, 200, embeddingBody('openai', model, embedCount(raw)));
      return;
    }
    const embed = req.method === 'POST' ? EMBED_PATH.exec(path) : null;
    if (embed) {
      const raw = Buffer.concat(chunks).toString('utf8');
      send(res, 200, embeddingBody(embed[2]!, decodeURIComponent(embed[1]!), embedCount(raw)));
      return;
    }
    const gemini = req.method === 'POST' ? GEMINI_PATH.exec(path) : null;
    if (gemini) {
      send(res, 200, geminiBody(decodeURIComponent(gemini[1]!)));
      return;
    }
    if (req.method === 'GET' && path === '/health') {
      send(res, 200, OK);
      return;
    }
    send(res, 404, NOT_FOUND);
  });
});
server.keepAliveTimeout = 60_000;

const portIndex = process.argv.indexOf('--port');
const port = portIndex > 0 ? Number(process.argv[portIndex + 1]) : 0;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});

const stop = (): void => {
  process.stderr.write(`mock-upstream: ${counter} requests served\n`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
