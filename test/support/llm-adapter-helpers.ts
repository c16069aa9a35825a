import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Client } from 'google-auth-library';
import { GoogleGenAiLlmAdapter, type GoogleGenAiMode } from '../../libs/llm/src/adapters/google-genai-llm.adapter';
import { OpenAiCompatibleLlmAdapter } from '../../libs/llm/src/adapters/openai-compatible-llm.adapter';
import {
  type LlmGenerateRequest,
  type LlmGenerateResult,
  type LlmProvider,
  LlmProviderError,
  type LlmStreamEvent,
} from '../../libs/llm/src/ports/llm-provider.port';
import { testConfig } from './app-config';
import type { FakeLlmServer } from './fake-llm-server';

/** A generate request for adapter tests, with a 5 s timeout signal. */
export function llmRequest(model: string, overrides: Partial<LlmGenerateRequest> = {}): LlmGenerateRequest {
  return {
    model,
    prompt: 'What is two plus two?',
    systemInstruction: 'Answer briefly.',
    temperature: 0.2,
    maxOutputTokens: 256,
    signal: AbortSignal.timeout(5_000),
    timeoutMs: 5_000,
    ...overrides,
  };
}

/** A request builder for one model: `requestFor('llama3.2:3b')({ signal })`. */
export function requestFor(model: string): (overrides?: Partial<LlmGenerateRequest>) => LlmGenerateRequest {
  return (overrides = {}) => llmRequest(model, overrides);
}

/** Polls `predicate` every 10 ms until it holds (throws after `timeoutMs`: a hang guard, 10 s for a loaded runner). */
export async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads a provider stream: its deltas, and its one `done` result (fails on a second or a missing one). */
export async function collectStream(
  events: AsyncIterable<LlmStreamEvent>,
): Promise<{ deltas: string[]; result: LlmGenerateResult }> {
  const deltas: string[] = [];
  let result: LlmGenerateResult | undefined;
  for await (const event of events) {
    if (event.type === 'delta') deltas.push(event.text);
    else {
      if (result !== undefined) throw new Error('the stream sent a second done event');
      result = event.result;
    }
  }
  if (result === undefined) throw new Error('the stream ended without a done event');
  return { deltas, result };
}

/** The LlmProviderError a call rejects with (anything else is rethrown; success fails the test). */
export async function providerFailure(promise: Promise<unknown>): Promise<LlmProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlmProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A port on 127.0.0.1 with nothing listening. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The server and adapter of a describe block; read them inside tests (they are set in `beforeAll`). */
export interface LoopbackAdapter<S extends FakeLlmServer, A extends LlmProvider> {
  readonly server: S;
  readonly adapter: A;
}

/**
 * Starts a fake server and an adapter pointed at it for the enclosing describe block: the server's queue and
 * recorded requests are reset after each test, both are closed after the block.
 */
export function useLoopbackAdapter<S extends FakeLlmServer, A extends LlmProvider>(
  startServer: () => Promise<S>,
  makeAdapter: (baseUrl: string) => A,
): LoopbackAdapter<S, A> {
  const context = {} as { server: S; adapter: A };
  beforeAll(async () => {
    context.server = await startServer();
    context.adapter = makeAdapter(context.server.url);
  });
  afterEach(() => {
    context.server.reset();
  });
  afterAll(async () => {
    await context.adapter.close();
    await context.server.close();
  });
  return context;
}

/** The settings the Google GenAI adapter tests run with. */
export const GEMINI_TEST = {
  project: 'test-project-42',
  location: 'europe-west4',
  accessToken: 'ya29.test-access-token',
  apiKey: 'test-gemini-api-key',
} as const;

/** A Google GenAI adapter (vertex with a fixed OAuth token, gemini with an API key); no baseUrl = Google's endpoint. */
export function geminiAdapter(mode: GoogleGenAiMode, baseUrl: string | undefined): GoogleGenAiLlmAdapter {
  const config = testConfig({
    LLM_PROVIDER: mode,
    ...(baseUrl !== undefined ? { LLM_BASE_URL: baseUrl } : {}),
    GOOGLE_CLOUD_PROJECT: GEMINI_TEST.project,
    GOOGLE_CLOUD_LOCATION: GEMINI_TEST.location,
    GEMINI_API_KEY: GEMINI_TEST.apiKey,
    LLM_TIMEOUT_MS: '2000',
  });
  if (mode !== 'vertex') return new GoogleGenAiLlmAdapter(config, mode, {});
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: GEMINI_TEST.accessToken, expiry_date: Date.now() + 3_600_000 });
  return new GoogleGenAiLlmAdapter(config, mode, { authClient });
}

/** The bearer key the OpenAI-compatible adapter tests send. */
export const OPENAI_TEST_API_KEY = 'sk-test-openai-compatible';

/** An OpenAI-compatible adapter (LLM_PROVIDER=openai, 2 s timeout) with these settings on top. */
export function openAiAdapter(env: Record<string, string>): OpenAiCompatibleLlmAdapter {
  return new OpenAiCompatibleLlmAdapter(testConfig({ LLM_PROVIDER: 'openai', LLM_TIMEOUT_MS: '2000', ...env }));
}

/** How a hostile upstream dresses its flood in one provider's wire format. */
export interface FloodFormat {
  /** A JSON answer is `jsonHead`, then filler text (`a`...), then `jsonTail`: valid JSON of any size. */
  jsonHead: string;
  jsonTail: string;
  /** One streamed chunk carrying `text` as answer text (the `data:` payload of one SSE event). */
  sseEvent(text: string): string;
}

/**
 * What a `HostileUpstream` answers every request with:
 * - `json`: a 200 JSON answer of `bytes` bytes (chunked, or with its `content-length` when `declareLength`);
 * - `sse`: a 200 event stream that never ends, 1000 characters of answer text per event (with `unterminated`:
 *   one `data:` line that never ends, no event is ever complete).
 */
export type Flood = { kind: 'json'; bytes: number; declareLength?: boolean } | { kind: 'sse'; unterminated?: boolean };

/** One request a hostile upstream answered. */
export interface FloodRecord {
  path: string;
  /** Body bytes written so far (accepted by the socket; the client may not have read them all). */
  sentBytes: number;
  /** `client_closed` once the client closed the connection before the answer was complete. */
  outcome: 'pending' | 'completed' | 'client_closed';
}

const FILLER = Buffer.alloc(64 * 1024, 'a');

/**
 * A loopback upstream that answers every request (any path, any method) with a flood: a huge JSON body or an endless
 * stream, generated lazily with back-pressure (nothing of it is held in memory: one 64 KiB filler buffer is written
 * again and again, and only while the socket drains). It stops when the client closes the connection.
 */
export class HostileUpstream {
  readonly requests: FloodRecord[] = [];
  private flood: Flood = { kind: 'sse' };
  private readonly server = http.createServer((req, res) => {
    req.resume();
    req.once('end', () => this.answer(req.url ?? '/', res));
  });

  constructor(private readonly format: FloodFormat) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Sets what the next requests get. */
  serve(flood: Flood): this {
    this.flood = flood;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(path: string, res: http.ServerResponse): void {
    const record: FloodRecord = { path, sentBytes: 0, outcome: 'pending' };
    this.requests.push(record);
    res.once('finish', () => (record.outcome = 'completed'));
    res.once('close', () => {
      if (record.outcome === 'pending') record.outcome = 'client_closed';
    });
    const flood = this.flood;
    // The pieces come from a generator: nothing is built before the socket wants it.
    let pieces: Iterator<Buffer>;
    if (flood.kind === 'json') {
      const head = Buffer.from(this.format.jsonHead);
      const tail = Buffer.from(this.format.jsonTail);
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(flood.declareLength === true ? { 'content-length': String(flood.bytes) } : {}),
      });
      pieces = jsonPieces(head, tail, flood.bytes);
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      pieces = flood.unterminated === true ? endless(Buffer.from('data: '), FILLER) : endless(sseEvent(this.format));
    }
    const pump = (): void => {
      for (;;) {
        if (res.destroyed) return;
        const next = pieces.next();
        if (next.done === true) {
          res.end();
          return;
        }
        record.sentBytes += next.value.length;
        if (!res.write(next.value)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }
}

function sseEvent(format: FloodFormat): Buffer {
  return Buffer.from(`data: ${format.sseEvent('a'.repeat(1000))}\n\n`);
}

function* jsonPieces(head: Buffer, tail: Buffer, bytes: number): Iterator<Buffer> {
  yield head;
  let left = bytes - head.length - tail.length;
  while (left > 0) {
    const piece = left >= FILLER.length ? FILLER : FILLER.subarray(0, left);
    left -= piece.length;
    yield piece;
  }
  yield tail;
}

function* endless(first: Buffer, repeated: Buffer = first): Iterator<Buffer> {
  yield first;
  for (;;) yield repeated;
}
