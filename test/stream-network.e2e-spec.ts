import net from 'node:net';
import OpenAI from 'openai';
import type { FakeReply } from './support/fake-llm-server';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { ServiceProcess } from './support/service-process';

/**
 * Streamed answers under the network's conditions (docs/operations.md, "Streams"), on the built service with a
 * loopback OpenAI-compatible upstream: a model that thinks before its first token and between tokens behind a proxy
 * that closes idle connections (keep-alive pings), a failure after the response began, and a client that stops
 * reading without closing (the write timeout).
 */
describe('streams under network conditions (built service, loopback upstream)', () => {
  let upstream: FakeOpenAiServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    upstream = await new FakeOpenAiServer().start();
    service = await new ServiceProcess({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-4o-mini',
      LLM_MAX_RETRIES: '0',
      ML_REMOTE_EMBEDDINGS: 'false',
      DD_TRACE_ENABLED: 'false',
      SSE_KEEPALIVE_MS: '200',
      SSE_WRITE_TIMEOUT_MS: '1000',
      // A whole stream of 7 MB fits the response limit (8192 tokens × 1 KiB).
      LLM_MAX_OUTPUT_TOKENS: '8192',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  const sdk = (): OpenAI => new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });

  const streamText = async (path: string, body: unknown): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };

  /** The blocks of an SSE body (events and comments), in order. */
  const blocks = (text: string): string[] => text.split('\n\n').filter((b) => b !== '');

  it('pings while the model thinks, before its first token and between tokens, on /reason and /v1', async () => {
    // A model that thinks for 4 keep-alive intervals before its first token and 6 between tokens (3 were not enough on
    // a loaded CI runner: the service, starved for 600 ms, wrote the next token before its ping timer ran).
    const thinking: FakeReply = { type: 'answer', delayMs: 800, chunks: ['one ', 'two ', 'three'], chunkDelayMs: 1200 };

    upstream.enqueue(thinking);
    const reason = await streamText('/reason', { prompt: 'Think hard, then count to three.' });
    expect(reason.status).toBe(200);
    const events = blocks(reason.text);
    const firstDelta = events.findIndex((b) => b.startsWith('event: delta'));
    expect(events.slice(0, firstDelta).filter((b) => b === ': ping').length).toBeGreaterThanOrEqual(2);
    const deltas = events.map((b, i) => (b.startsWith('event: delta') ? i : -1)).filter((i) => i >= 0);
    expect(deltas).toHaveLength(3);
    expect(events.slice(deltas[1], deltas[2])).toContain(': ping');
    expect(events.at(-1)).toMatch(/^event: done\n/);
    expect(JSON.parse(events.at(-1)!.split('data: ')[1]!)).toMatchObject({ answer: 'one two three' });

    // /v1: the same pings, raw, and the official SDK reads through them.
    upstream.enqueue(thinking);
    const raw = await streamText('/v1/chat/completions', {
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Think hard, then count to three.' }],
    });
    const chunks = blocks(raw.text);
    expect(chunks[0]).toBe(': ping');
    expect(chunks.filter((b) => b === ': ping').length).toBeGreaterThanOrEqual(3);
    expect(chunks.at(-1)).toBe('data: [DONE]');

    upstream.enqueue(thinking);
    const stream = await sdk().chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Think hard, then count to three.' }],
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(text).toBe('one two three');
    expect(finish).toBe('stop');
  }, 60_000);

  it('answers a failure after the response began as the error event, on /reason and /v1 (the SDK raises it)', async () => {
    const before = service.stdout.length;
    const failing: FakeReply = { type: 'error', status: 500, delayMs: 800 };

    upstream.enqueue(failing);
    const reason = await streamText('/reason', { prompt: 'Think hard, then fail.' });
    expect(reason.status).toBe(200);
    const events = blocks(reason.text);
    expect(events[0]).toBe(': ping');
    expect(events.at(-1)).toMatch(/^event: error\n/);
    expect(JSON.parse(events.at(-1)!.split('data: ')[1]!)).toMatchObject({
      status: 502,
      code: 'UPSTREAM_ERROR',
      instance: '/reason',
    });

    upstream.enqueue(failing);
    const stream = await sdk().chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Think hard, then fail.' }],
    });
    const failure = await (async () => {
      try {
        for await (const chunk of stream) void chunk;
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).message).toContain('fake upstream error 500');

    // Each call recorded once, as the provider's failure.
    await service.waitForLog((l) => l.message === 'llm call failed' && l.endpoint === 'chat', 5000, before);
    const failed = service
      .logs()
      .slice(before)
      .filter((l) => l.message === 'llm call failed');
    expect(failed.filter((l) => l.endpoint === 'reason')).toHaveLength(1);
    expect(failed.filter((l) => l.endpoint === 'chat')).toHaveLength(1);
  }, 60_000);

  it('names a /v1 stream that fails before its first token, after its 200 began, by its prompt id', async () => {
    const before = service.stdout.length;
    upstream.enqueue({ type: 'error', status: 500, delayMs: 800 });
    const response = await fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'Think hard, then fail.' }],
      }),
    });
    expect(response.status).toBe(200);
    const events = blocks(await response.text());
    expect(events[0]).toBe(': ping');
    expect(events.at(-1)).toMatch(/^data: \{"error":/);
    // The 200 went out before the call failed: its headers are what names the call (docs/openai-compat.md).
    const promptId = response.headers.get('x-control-plane-prompt-id');
    expect(promptId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-request-id')).toBe(promptId);
    const failed = await service.waitForLog(
      (l) => l.message === 'llm call failed' && l.endpoint === 'chat',
      10_000,
      before,
    );
    expect(failed.prompt_id).toBe(promptId);
  }, 60_000);

  it('cuts a client that stops reading (write timeout): 499 client_abort, recorded with what it streamed', async () => {
    const before = service.stdout.length;
    // 7 MB of answer, sent as fast as the service reads it: more than the socket buffers between the service and
    // a client that reads nothing.
    upstream.enqueue({ type: 'answer', chunks: Array.from({ length: 7000 }, () => 'x'.repeat(999) + ' ') });
    const { port } = new URL(service.url);
    const body = JSON.stringify({ prompt: 'Write a very long essay.' });
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    // Never reads: the response backs up into the socket buffers, then into the service.
    socket.pause();
    socket.write(
      `POST /reason HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: text/event-stream\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    try {
      const line = await service.waitForLog(
        (l) => l.message === 'llm call abandoned by the client' && l.endpoint === 'reason',
        20_000,
        before,
      );
      expect(line).toMatchObject({
        level: 'info',
        status: 'info',
        call_status: 'aborted',
        error_type: 'client_abort',
        http: { route: '/reason', status_code: 499 },
      });
      expect(line.output_tokens as number).toBeGreaterThan(0);
      expect(
        service
          .logs()
          .slice(before)
          .some((l) => String(l.message).startsWith('stream client cut')),
      ).toBe(true);
      // That the provider is not read on for a reader that is behind is the unit spec's (provider-attempts.spec.ts):
      // here the kernel's socket buffers on loopback hold megabytes and blur what the service read.
    } finally {
      socket.destroy();
    }
  }, 60_000);
});
