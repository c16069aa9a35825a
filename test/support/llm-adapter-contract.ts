import type { LlmErrorKind, LlmProvider } from '../../libs/llm/src/ports/llm-provider.port';
import type { FakeLlmServer } from './fake-llm-server';
import {
  closedPort,
  collectStream,
  type FloodFormat,
  HostileUpstream,
  type LoopbackAdapter,
  providerFailure,
  requestFor,
  useLoopbackAdapter,
  waitFor,
} from './llm-adapter-helpers';

/** An upstream HTTP status, the error kind it maps to, and whether that kind is retryable. */
export type StatusCase = readonly [status: number, kind: LlmErrorKind, retryable: boolean];

/** What differs between the real adapters; the fake servers share one `FakeReply` API, so faults are enqueued alike. */
export interface AdapterFailureSetup<S extends FakeLlmServer, A extends LlmProvider> {
  /** `details.provider` of the adapter's errors. */
  provider: string;
  /** The model of the default request. */
  model: string;
  /** Three models sent concurrently; the fake server answers `answer from <model>`. */
  concurrentModels: readonly string[];
  /** Where a request for `model` must go on the fake server. */
  requestPath(model: string): RegExp;
  startServer(): Promise<S>;
  /** An adapter pointed at `baseUrl`, closed by the suite. */
  makeAdapter(baseUrl: string): A;
  /** Statuses this adapter maps on top of the common table. */
  extraStatuses?: readonly StatusCase[];
  /** The adapter's wire format, for the flood of a hostile upstream (a huge answer, an endless stream). */
  floodFormat: FloodFormat;
}

const MIB = 1024 * 1024;

const COMMON_STATUSES: readonly StatusCase[] = [
  [500, 'server', true],
  [503, 'server', true],
  [502, 'server', true],
  [504, 'timeout', true],
  [408, 'timeout', true],
  [401, 'auth', false],
  [403, 'auth', false],
  [404, 'not_found', false],
  [400, 'bad_request', false],
];

/**
 * The failure, timeout and connection suite every real (SDK-backed) LLM adapter must pass against its loopback
 * fake server. `adapterSpecific` declares the adapter's own cases in the same block, with the same server and adapter.
 */
export function describeAdapterFailureContract<S extends FakeLlmServer, A extends LlmProvider>(
  name: string,
  setup: AdapterFailureSetup<S, A>,
  adapterSpecific?: (context: LoopbackAdapter<S, A>) => void,
): void {
  describe(`${name}: failures, timeouts, connections`, () => {
    const context = useLoopbackAdapter(setup.startServer, setup.makeAdapter);
    const request = requestFor(setup.model);
    const { model, provider } = setup;

    it('maps 429 with Retry-After in seconds to a retryable rate_limit with retryAfterMs, sent once (no SDK retry)', async () => {
      context.server.enqueue({ type: 'error', status: 429, retryAfter: '7' });
      const error = await providerFailure(context.adapter.generate(request()));
      expect(error).toMatchObject({
        kind: 'rate_limit',
        retryable: true,
        details: { provider, model, status: 429, retryAfterMs: 7_000 },
      });
      expect(error.message).toContain('fake upstream error 429');
      expect(context.server.requests).toHaveLength(1);
    });

    it('reads Retry-After given as an HTTP date', async () => {
      context.server.enqueue({ type: 'error', status: 429, retryAfter: new Date(Date.now() + 30_000).toUTCString() });
      const error = await providerFailure(context.adapter.generate(request()));
      expect(error.kind).toBe('rate_limit');
      expect(error.details.retryAfterMs).toBeGreaterThan(28_000);
      expect(error.details.retryAfterMs).toBeLessThanOrEqual(30_000);
    });

    it('maps 429 on a stream request the same way', async () => {
      context.server.enqueue({ type: 'error', status: 429, retryAfter: '2' });
      const error = await providerFailure(collectStream(context.adapter.stream(request())));
      expect(error).toMatchObject({ kind: 'rate_limit', details: { status: 429, retryAfterMs: 2_000 } });
    });

    it.each([...COMMON_STATUSES, ...(setup.extraStatuses ?? [])])(
      'maps HTTP %i to %s (retryable: %s), sending it once',
      async (status, kind, retryable) => {
        context.server.enqueue({ type: 'error', status });
        const error = await providerFailure(context.adapter.generate(request()));
        expect(error).toMatchObject({ kind, retryable, details: { status, model } });
        expect(error.details.retryAfterMs).toBeUndefined();
        expect(context.server.requests).toHaveLength(1);
      },
    );

    it.each([
      [500, 'server'],
      [429, 'rate_limit'],
    ] as const)(
      'maps an error event (code %i) in the middle of a stream to %s, after the deltas',
      async (status, kind) => {
        context.server.enqueue({ type: 'stream_error', text: 'partial answer', status });
        const deltas: string[] = [];
        const error = await providerFailure(
          (async () => {
            for await (const event of context.adapter.stream(request())) {
              if (event.type === 'delta') deltas.push(event.text);
            }
          })(),
        );
        expect(deltas.join('')).toBe('partial answer');
        expect(error).toMatchObject({ kind, details: { status } });
      },
    );

    it('times out a slow answer through the AbortSignal, within a bounded time, and cancels the upstream call', async () => {
      context.server.enqueue({ type: 'answer', delayMs: 10_000 });
      const started = performance.now();
      const error = await providerFailure(
        context.adapter.generate(request({ signal: AbortSignal.timeout(250), timeoutMs: 250 })),
      );
      expect(error).toMatchObject({ kind: 'timeout', retryable: true });
      expect(performance.now() - started).toBeLessThan(2_000);
      await waitFor(() => context.server.requests[0]?.outcome === 'client_closed');
    });

    it('times out a stream that stalls after its first delta', async () => {
      context.server.enqueue({ type: 'answer', chunks: ['first ', 'second'], chunkDelayMs: 10_000 });
      const deltas: string[] = [];
      const started = performance.now();
      const stalled = context.adapter.stream(request({ signal: AbortSignal.timeout(300), timeoutMs: 300 }));
      const error = await providerFailure(
        (async () => {
          for await (const event of stalled) if (event.type === 'delta') deltas.push(event.text);
        })(),
      );
      expect(deltas).toEqual(['first ']);
      expect(error.kind).toBe('timeout');
      expect(performance.now() - started).toBeLessThan(2_000);
    });

    it('tells a caller abort (client gone) from a timeout', async () => {
      context.server.enqueue({ type: 'hang' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('client disconnected')), 100);
      const error = await providerFailure(context.adapter.generate(request({ signal: controller.signal })));
      expect(error).toMatchObject({ kind: 'aborted', retryable: false });
    });

    it('maps a 200 with an unreadable body to invalid_response (JSON and SSE)', async () => {
      context.server.enqueue({ type: 'malformed' });
      expect((await providerFailure(context.adapter.generate(request()))).kind).toBe('invalid_response');
      context.server.enqueue({ type: 'malformed' });
      expect((await providerFailure(collectStream(context.adapter.stream(request())))).kind).toBe('invalid_response');
    });

    it('maps a dropped connection to connection', async () => {
      context.server.enqueue({ type: 'reset' });
      const error = await providerFailure(context.adapter.generate(request()));
      expect(error).toMatchObject({ kind: 'connection', retryable: true });
    });

    it('releases the upstream stream when the consumer stops early', async () => {
      context.server.enqueue({ type: 'answer', chunks: ['a', 'b', 'c'], chunkDelayMs: 200 });
      for await (const event of context.adapter.stream(request())) {
        expect(event).toEqual({ type: 'delta', text: 'a' });
        break;
      }
      await waitFor(() => context.server.requests[0]?.outcome === 'client_closed');
    });

    it('sends concurrent requests for different models, each with its own model and path (no shared model state)', async () => {
      context.server.setDefault((req) => ({ type: 'answer', text: `answer from ${req.model}`, delayMs: 30 }));
      const models = setup.concurrentModels;
      const calls = Array.from({ length: 4 * models.length }, (_, i) => models[i % models.length]!);

      const results = await Promise.all(
        calls.map((each, i) =>
          i % 2 === 0
            ? context.adapter.generate(request({ model: each }))
            : collectStream(context.adapter.stream(request({ model: each }))).then(({ result }) => result),
        ),
      );

      results.forEach((result, i) => {
        expect(result.text).toBe(`answer from ${calls[i]}`);
        expect(result.model).toBe(calls[i]);
      });
      for (const each of models) {
        const paths = context.server.requests.filter((r) => r.model === each).map((r) => r.path);
        expect(paths).toHaveLength(4);
        for (const path of paths) expect(path).toMatch(setup.requestPath(each));
      }
    });

    it('keeps connections alive across calls (sequential calls reuse pooled sockets, streams included)', async () => {
      const fresh = setup.makeAdapter(context.server.url);
      try {
        await fresh.generate(request());
        await collectStream(fresh.stream(request()));
        await fresh.generate(request());
        await collectStream(fresh.stream(request()));
      } finally {
        await fresh.close();
      }
      expect(context.server.requests).toHaveLength(4);
      // undici may open a second socket when a call starts before the previous one's socket is released;
      // the later calls must reuse those sockets rather than open new ones.
      const ports = context.server.requests.map((r) => r.remotePort);
      expect(new Set(ports.slice(0, 2)).has(ports[2])).toBe(true);
      expect(new Set(ports.slice(0, 2)).has(ports[3])).toBe(true);
    });

    it('sends every request to loopback only', async () => {
      await context.adapter.generate(request());
      await collectStream(context.adapter.stream(request()));
      for (const sent of context.server.requests) {
        expect(sent.remoteAddress).toMatch(/^(127\.|::ffff:127\.|::1$)/);
        expect(sent.headers.host).toBe(`127.0.0.1:${context.server.port}`);
      }
    });

    it('maps a refused connection to connection (generate and stream)', async () => {
      const refused = setup.makeAdapter(`http://127.0.0.1:${await closedPort()}`);
      try {
        const error = await providerFailure(refused.generate(request()));
        expect(error).toMatchObject({ kind: 'connection', retryable: true, details: { provider } });
        expect(error.message).toContain('ECONNREFUSED');
        expect((await providerFailure(collectStream(refused.stream(request())))).kind).toBe('connection');
      } finally {
        await refused.close();
      }
    });

    describe('an upstream that answers without end (a runaway generation, a base URL on the wrong host)', () => {
      // The default request asks for 256 output tokens: its limit is the 1 MiB floor.
      const limit = MIB;
      let hostile: HostileUpstream;
      let adapter: A;
      beforeAll(async () => {
        hostile = await new HostileUpstream(setup.floodFormat).start();
        adapter = setup.makeAdapter(hostile.url);
      });
      afterEach(() => {
        hostile.requests.length = 0;
      });
      afterAll(async () => {
        await adapter.close();
        await hostile.close();
      });

      /** The flood's one request was cut short by the adapter, long before its end. */
      async function expectCutShort(): Promise<void> {
        await waitFor(() => hostile.requests[0]?.outcome === 'client_closed');
        expect(hostile.requests).toHaveLength(1);
        // What the adapter read (≤ its limit) plus what the two sockets' buffers held when it closed.
        expect(hostile.requests[0]!.sentBytes).toBeLessThan(limit + 16 * MIB);
      }

      it('fails a 200 MB JSON answer as invalid_response at its limit, within a bounded time, and closes the connection', async () => {
        hostile.serve({ kind: 'json', bytes: 200 * MIB });
        const started = performance.now();
        const error = await providerFailure(adapter.generate(request()));
        expect(error).toMatchObject({ kind: 'invalid_response', retryable: false, details: { provider, model } });
        expect(error.message).toMatch(/exceeded 1048576 bytes.*LLM_MAX_RESPONSE_BYTES/);
        // A hang guard, well under the test's 30 s: that it stopped reading early is what expectCutShort checks (the
        // bytes the server sent), not a time a loaded CI runner cannot promise (7.6 s once for about 1 s here).
        expect(performance.now() - started).toBeLessThan(15_000);
        await expectCutShort();
      });

      it('fails a JSON answer whose content-length is over the limit before reading it', async () => {
        hostile.serve({ kind: 'json', bytes: 200 * MIB, declareLength: true });
        const error = await providerFailure(adapter.generate(request()));
        expect(error.kind).toBe('invalid_response');
        await expectCutShort();
      });

      it('fails an endless stream as invalid_response after the deltas within the limit, and closes the connection', async () => {
        hostile.serve({ kind: 'sse' });
        let text = 0;
        const started = performance.now();
        const error = await providerFailure(
          (async () => {
            for await (const event of adapter.stream(request())) if (event.type === 'delta') text += event.text.length;
          })(),
        );
        expect(error).toMatchObject({ kind: 'invalid_response', retryable: false, details: { provider, model } });
        expect(error.message).toMatch(/exceeded 1048576 bytes.*LLM_MAX_RESPONSE_BYTES/);
        expect(text).toBeGreaterThan(0);
        expect(text).toBeLessThanOrEqual(limit);
        // A hang guard, well under the test's 30 s: that it stopped reading early is what expectCutShort checks (the
        // bytes the server sent), not a time a loaded CI runner cannot promise (7.6 s once for about 1 s here).
        expect(performance.now() - started).toBeLessThan(15_000);
        await expectCutShort();
      });

      it('fails an endless stream whose one event never ends (no line break) the same way', async () => {
        hostile.serve({ kind: 'sse', unterminated: true });
        const error = await providerFailure(collectStream(adapter.stream(request())));
        expect(error.kind).toBe('invalid_response');
        await expectCutShort();
      });

      it('fails a stream request answered with a 200 MB JSON body the same way', async () => {
        hostile.serve({ kind: 'json', bytes: 200 * MIB });
        const error = await providerFailure(collectStream(adapter.stream(request())));
        expect(error.kind).toBe('invalid_response');
        await expectCutShort();
      });

      it('scales the limit with the call: more max output tokens read more (1 KiB per token)', async () => {
        hostile.serve({ kind: 'json', bytes: 200 * MIB });
        const error = await providerFailure(adapter.generate(request({ maxOutputTokens: 4096 })));
        expect(error.message).toContain(`exceeded ${4 * MIB} bytes`);
      });

      it('answers the next call normally: an answer within the limit is read whole', async () => {
        hostile.serve({ kind: 'json', bytes: 200 * MIB });
        await providerFailure(adapter.generate(request()));
        hostile.serve({ kind: 'json', bytes: limit - 1024 });
        const result = await adapter.generate(request());
        expect(result.text).toMatch(/^a+$/);
        expect(result.text.length).toBeGreaterThan(limit - 2048);
      });
    });

    adapterSpecific?.(context);
  });
}
