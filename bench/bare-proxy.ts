/**
 * The floor of the overhead benchmark: the least a Node service can do for `POST /reason`. node:http and
 * an undici `Pool`, no framework, no telemetry. It reads the body (bounded), validates
 * `{prompt: string(1..5000)}` (400 otherwise), forwards an OpenAI-style chat completion to the upstream,
 * reads the answer and its usage, and replies `{answer, metadata}`. For the slow-upstream and streaming
 * scenarios it also passes `POST /v1/chat/completions` through as it is (the body forwarded unread, the
 * answer's status, content type and bytes piped back as they come: a stream stays a stream), the floor of an
 * OpenAI-compatible gateway. The upstream pool has no connection cap (a slow upstream with 2,000 calls in
 * flight needs 2,000 connections; at the instant upstream's 50 connections nothing changes).
 *
 * Usage: `node bench/bare-proxy.ts --upstream http://127.0.0.1:PORT [--port N]`. Prints `{"port":N}` on
 * stdout once listening; `GET /health` answers 200; stops on SIGTERM/SIGINT.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const MAX_BODY = 1024 * 1024;
const MODEL = 'gemini-2.5-flash';

function arg(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

const upstream = arg('--upstream');
if (upstream === undefined) throw new Error('bare-proxy: --upstream http://127.0.0.1:PORT is required');
const pool = new Pool(new URL(upstream).origin, { connections: null, keepAliveTimeout: 30_000 });

interface Completion {
  model?: string;
  choices?: { message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

function reply(res: http.ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function reason(raw: string, res: http.ServerResponse): Promise<void> {
  let prompt: unknown;
  try {
    prompt = (JSON.parse(raw) as { prompt?: unknown }).prompt;
  } catch {
    reply(res, 400, { title: 'Bad Request', detail: 'body is not JSON' });
    return;
  }
  if (typeof prompt !== 'string' || prompt.length < 1 || prompt.length > 5000) {
    reply(res, 400, { title: 'Bad Request', errors: [{ field: 'prompt', message: 'a string of 1 to 5000 chars' }] });
    return;
  }
  const started = performance.now();
  const upstreamResponse = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: prompt }], max_tokens: 2048 }),
  });
  const text = await upstreamResponse.body.text();
  if (upstreamResponse.statusCode !== 200) {
    reply(res, 502, { title: 'Bad Gateway', upstream_status: upstreamResponse.statusCode });
    return;
  }
  const completion = JSON.parse(text) as Completion;
  const choice = completion.choices?.[0];
  reply(res, 200, {
    answer: choice?.message?.content ?? '',
    metadata: {
      provider: 'openai',
      model: completion.model ?? MODEL,
      latency_ms: performance.now() - started,
      input_tokens: completion.usage?.prompt_tokens ?? null,
      output_tokens: completion.usage?.completion_tokens ?? null,
      total_tokens: completion.usage?.total_tokens ?? null,
      finish_reason: choice?.finish_reason ?? null,
    },
  });
}

/** `POST /v1/chat/completions` passed through: nothing parsed, the answer piped back as it arrives. */
async function passThrough(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const upstreamResponse = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: req,
    signal: abort.signal,
  });
  const contentType = upstreamResponse.headers['content-type'];
  res.writeHead(upstreamResponse.statusCode, typeof contentType === 'string' ? { 'content-type': contentType } : {});
  await pipeline(upstreamResponse.body, res);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    reply(res, 200, { status: 'ok' });
    return;
  }
  if (req.method === 'POST' && req.url === '/v1/chat/completions') {
    passThrough(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 502, { title: 'Bad Gateway', detail: String(error) });
      else res.destroy();
    });
    return;
  }
  if (req.method !== 'POST' || req.url !== '/reason') {
    req.resume();
    reply(res, 404, { title: 'Not Found' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY) {
      reply(res, 413, { title: 'Payload Too Large' });
      return;
    }
    reason(Buffer.concat(chunks).toString('utf8'), res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 502, { title: 'Bad Gateway', detail: String(error) });
    });
  });
});
server.keepAliveTimeout = 60_000;

const port = Number(arg('--port') ?? 0);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});

const stop = (): void => {
  server.closeAllConnections();
  server.close(() => {
    void pool.close().finally(() => process.exit(0));
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
