import type { DogStatsdReceiver } from './support/dogstatsd-receiver';
import { FakeGeminiServer } from './support/fake-gemini-server';
import { type LlmBody, post, startWithTelemetry, type TelemetryStack } from './support/http';
import { ServiceProcess } from './support/service-process';
import { TraceAgentReceiver } from './support/trace-agent-receiver';

describe('LLM endpoints on the simulated provider (built service, loopback DogStatsD and trace agent)', () => {
  let stack: TelemetryStack;
  let statsd: DogStatsdReceiver;
  let agent: TraceAgentReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    stack = await startWithTelemetry({
      STATSD_FLUSH_INTERVAL_MS: '20',
      SIM_LATENCY_MEDIAN_MS: '20',
      STRESS_MAX_COST_USD: '0.05',
      // Every call's LLM Observability event (the tests below look for ordinary calls' events and evaluations).
      LLMOBS_KEEP: 'all',
    });
    ({ statsd, agent, service } = stack);
  });

  afterAll(() => stack?.stop());

  it('answers /qa from the simulated provider, saying so, with tokens and cost', async () => {
    const res = await post(`${service.url}/qa`, {
      question: 'What colour is the sky on Mars during the day?',
      document: 'Mars has a thin atmosphere. The sky on Mars is butterscotch during the day. Sunsets on Mars are blue.',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as LlmBody;
    expect(body.answer).toContain('butterscotch');
    expect(body.metadata).toMatchObject({
      provider: 'simulated',
      simulated: true,
      model: 'gemini-2.5-flash',
      tokens_estimated: true,
      retry_count: 0,
      fallback_used: false,
      safety_block: false,
      finish_reason: 'stop',
      cached_tokens: 0,
      reasoning_tokens: 0,
    });
    expect(body.metadata.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
    const m = body.metadata as { input_tokens: number; output_tokens: number; total_tokens: number; cost_usd: number };
    expect(m.total_tokens).toBe(m.input_tokens + m.output_tokens);
    expect(m.cost_usd).toBeCloseTo((m.input_tokens * 0.3 + m.output_tokens * 2.5) / 1e6, 12);
  });

  it('emits the LLM metrics once per call, with bounded tags only', async () => {
    const before = statsd.lines.length;
    const res = await post(`${service.url}/reason`, { prompt: 'Why do leaves change colour in autumn?' });
    const body = (await res.json()) as LlmBody;
    const lines = await statsd.waitFor((ls) =>
      ls.slice(before).some((l) => l.name === 'llm.request.count' && l.tags.includes('endpoint:reason')),
    );
    const mine = lines.slice(before).filter((l) => l.tags.includes('endpoint:reason'));
    const count = (name: string) => mine.filter((l) => l.name === name);
    expect(count('llm.request.count')).toHaveLength(1);
    expect(count('llm.request.latency_ms')).toHaveLength(1);
    expect(count('llm.request.latency_ms')[0]!.type).toBe('d');
    expect(count('llm.cost.usd')).toHaveLength(1);
    expect(count('llm.cost.usd')[0]!.type).toBe('c');
    expect(count('llm.cost.usd')[0]!.value).toBeCloseTo(body.metadata.cost_usd as number, 10);
    expect(count('llm.request.cost_usd')[0]!.type).toBe('d');
    expect(count('llm.tokens.input')[0]!.value).toBe(body.metadata.input_tokens);
    expect(count('llm.tokens.output')[0]!.value).toBe(body.metadata.output_tokens);
    expect(count('llm.tokens.total')[0]!.value).toBe(body.metadata.total_tokens);
    expect(count('llm.request.count')[0]!.tags).toEqual(
      expect.arrayContaining(['endpoint:reason', 'provider:simulated', 'model:gemini-2.5-flash', 'status:ok']),
    );
    for (const line of mine)
      for (const tag of line.tags)
        expect(tag).toMatch(
          /^(env|service|version|endpoint|provider|model|status|error_type|latency_slo|label|pii_type|action):[a-z0-9_.\-/:]+$/,
        );
    expect(statsd.lines.some((l) => l.tags.some((t) => t.includes(String(body.metadata.prompt_id))))).toBe(false);
  });

  it('traces each attempt with OpenTelemetry GenAI attributes, under the POST /reason request span', async () => {
    const res = await post(`${service.url}/reason`, { prompt: 'Name three prime numbers.' });
    const { metadata } = (await res.json()) as LlmBody;
    // The attempt span, not the call's workflow span (`llm.call`), which carries the prompt id too.
    const attempt = await agent.waitForSpan(
      (s) => s.name === 'llm.generate' && s.meta['llm.prompt_id'] === metadata.prompt_id,
    );
    expect(attempt.name).toMatch(/llm/);
    // "chat" per OpenTelemetry; with LLM Observability on, dd-trace writes its span kind ("llm") there.
    expect(['chat', 'llm']).toContain(attempt.meta['gen_ai.operation.name']);
    expect(attempt.meta).toMatchObject({
      // An outbound call: Datadog infers the provider as a downstream service.
      'span.kind': 'client',
      'peer.service': 'simulated',
      'gen_ai.provider.name': 'simulated',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'gen_ai.response.model': 'gemini-2.5-flash',
      'gen_ai.response.finish_reasons': '["STOP"]',
    });
    expect(Number(attempt.metrics['gen_ai.usage.input_tokens'] ?? attempt.meta['gen_ai.usage.input_tokens'])).toBe(
      metadata.input_tokens,
    );
    expect(Number(attempt.metrics['gen_ai.usage.output_tokens'] ?? attempt.meta['gen_ai.usage.output_tokens'])).toBe(
      metadata.output_tokens,
    );
    const request = await agent.waitForSpan((s) => s.resource === 'POST /reason');
    expect(request.meta['http.route']).toBe('/reason');
  });

  it('sends an LLM Observability span and quality evaluations for the call through the agent', async () => {
    const prompt = 'Which planet is known as the red planet?';
    await post(`${service.url}/reason`, { prompt });
    const span = await agent.waitForPayload(
      (p) => p.path.endsWith('/api/v2/llmobs') && p.body.toString('utf8').includes(prompt),
    );
    const body = span.body.toString('utf8');
    expect(body).toContain('"name":"llm.generate"');
    expect(body).toContain('gemini-2.5-flash');
    const evaluation = await agent.waitForPayload(
      (p) => p.path.includes('eval-metric') && p.body.toString('utf8').includes('"label":"quality_score"'),
    );
    expect(evaluation.body.toString('utf8')).toMatch(/"score_value":[0-9.]+/);
  });

  it("links each call's deferred log line to its own trace, not to the next call's", async () => {
    // The records of a call are made while the next call's upstream request is in flight: back-to-back calls.
    const before = service.stdout.length;
    const bodies: LlmBody[] = [];
    for (const prompt of ['Why is the sea salty?', 'Why is the sky blue?', 'Why do cats purr?']) {
      bodies.push((await (await post(`${service.url}/reason`, { prompt })).json()) as LlmBody);
    }
    for (const body of bodies) {
      const id = body.metadata.prompt_id;
      const line = await service.waitForLog(
        (l) => l.prompt_id === id && l.message === 'llm call completed',
        5000,
        before,
      );
      const span = await agent.waitForSpan((s) => s.name === 'llm.generate' && s.meta['llm.prompt_id'] === id);
      // dd-trace logs the 128-bit trace id in hex; a span carries its low 64 bits.
      const lowBits = BigInt(`0x${String(line.dd?.trace_id).slice(-16)}`);
      expect(lowBits).toBe(BigInt(String(span.trace_id)));
    }
  });

  it('writes one log line per call with the prompt and answer truncated, never the full answer', async () => {
    const before = service.stdout.length;
    const question = `Please explain ${'the history of the transistor and its impact on computing '.repeat(12)}`;
    const res = await post(`${service.url}/qa`, { question });
    const body = (await res.json()) as LlmBody;
    const line = await service.waitForLog(
      (l) => l.prompt_id === body.metadata.prompt_id && l.message === 'llm call completed',
      5000,
      before,
    );
    expect(String(line.prompt).length).toBeLessThanOrEqual(200 + 20);
    expect(String(line.prompt)).toMatch(/…\[\+\d+ chars\]$/);
    expect(line.dd?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const all = service.stdout.slice(before).join('\n');
    expect(all).not.toContain(question);
    expect(
      service
        .logs()
        .slice(before)
        .filter((l) => l.prompt_id === body.metadata.prompt_id),
    ).toHaveLength(1);
    // One line per successful call: the interceptor leaves it to the LLM call line, which carries the HTTP fields.
    expect(line.http).toEqual({ method: 'POST', route: '/qa', status_code: 200 });
    await new Promise((r) => setTimeout(r, 200));
    expect(
      service
        .logs()
        .slice(before)
        .filter((l) => l.handler === 'LlmController.qa'),
    ).toHaveLength(0);
  });

  it('negotiates the stream by the Accept header: any case streams, a weight of 0 or below JSON answers JSON', async () => {
    const typeOf = async (accept: string): Promise<string | null> => {
      const res = await post(`${service.url}/reason`, { prompt: 'Why do cats purr?' }, { accept });
      expect(res.status).toBe(200);
      await res.text();
      return res.headers.get('content-type');
    };
    expect(await typeOf('TEXT/EVENT-STREAM')).toMatch(/^text\/event-stream/);
    expect(await typeOf('text/event-stream;q=0')).toMatch(/^application\/json/);
    expect(await typeOf('text/event-stream;q=0.5, application/json')).toMatch(/^application\/json/);
  });

  it('streams /qa as Server-Sent Events with a final metadata event and a time-to-first-token metric', async () => {
    const res = await post(`${service.url}/qa`, { question: 'Why do cats purr?' }, { accept: 'text/event-stream' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((chunk) => ({
        event: /^event: (.*)$/m.exec(chunk)?.[1],
        data: JSON.parse(/^data: (.*)$/m.exec(chunk)![1]!) as Record<string, unknown>,
      }));
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThan(1);
    const done = events[events.length - 1]!;
    expect(done.event).toBe('done');
    const streamed = events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.text)
      .join('');
    expect(streamed).toBe((done.data as unknown as LlmBody).answer);
    expect((done.data as unknown as LlmBody).metadata.ttft_ms).toBeGreaterThan(0);
    await statsd.waitFor((ls) =>
      ls.some((l) => l.name === 'llm.time_to_first_token_ms' && l.tags.includes('endpoint:qa')),
    );
  });

  it('runs the origin drills, each visible in the metadata', async () => {
    const bad = (await (
      await post(`${service.url}/reason?simulate_bad_prompt=true`, { prompt: 'hello' })
    ).json()) as LlmBody;
    expect(bad.metadata).toMatchObject({ safety_block: true, safety_block_stage: 'prompt', drills: ['bad_prompt'] });
    expect(bad.answer).toBe('');
    const plain = (await (await post(`${service.url}/reason`, { prompt: 'hello there' })).json()) as LlmBody;
    const long =
      (await // As a Python client writes them (requests sends False/True): FastAPI took any case, so does this.
      (
        await post(`${service.url}/reason?simulate_long_context=True&simulate_retry=True&simulate_latency=False`, {
          prompt: 'hello there',
        })
      ).json()) as LlmBody;
    expect(long.metadata.drills).toEqual(['long_context', 'retry']);
    expect(long.metadata.input_tokens as number).toBeGreaterThan((plain.metadata.input_tokens as number) + 3000);
    expect(long.metadata.retry_count).toBe(1);
    const slow = (await (
      await post(`${service.url}/reason?simulate_latency=true`, { prompt: 'hello there' })
    ).json()) as LlmBody;
    expect(slow.metadata.latency_ms as number).toBeGreaterThanOrEqual(1000);
    await statsd.waitFor((ls) => ls.some((l) => l.name === 'llm.safety_block.count'));
  });

  it('guards /stress with the cost cap and the input size', async () => {
    const ok = await post(`${service.url}/stress`, { prompt: 'short prompt', repetitions: 3 });
    expect(ok.status).toBe(200);
    const capped = await post(`${service.url}/stress`, { prompt: 'x'.repeat(1000), repetitions: 100 });
    expect(capped.status).toBe(422);
    expect(capped.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await capped.json()) as Record<string, unknown>;
    expect(['COST_CAP_EXCEEDED', 'INPUT_TOO_LARGE']).toContain(problem.code);
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'repetitions' })]);
  });

  const rawPost = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('refuses a question or prompt of only whitespace (it was sent to the model and billed)', async () => {
    for (const [path, body, field] of [
      ['/qa', { question: '   ' }, 'question'],
      ['/reason', { prompt: '\n\t ' }, 'prompt'],
      ['/stress', { prompt: ' ', repetitions: 2 }, 'prompt'],
      // Invisible format characters only (zero-width space, joiner, soft hyphen, BOM): no text either.
      ['/reason', { prompt: '\u200b\u200d \u00ad\ufeff' }, 'prompt'],
    ] as const) {
      const res = await post(`${service.url}${path}`, body);
      expect(res.status).toBe(400);
      const problem = (await res.json()) as { code: string; errors: { field: string; reason: string }[] };
      expect(problem.errors).toEqual([
        { field, reason: `${field} must contain text, not only whitespace or invisible characters` },
      ]);
    }
    expect((await post(`${service.url}/reason`, { prompt: ' hi ' })).status).toBe(200);
  });

  it('answers bad input with 4xx problem+json naming the field and the reason, and a too-large body with 413', async () => {
    const bad = await post(`${service.url}/stress`, { prompt: '', repetitions: 0, extra: true });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { code: string; errors: { field: string; reason: string }[] };
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['extra', 'prompt', 'repetitions']);
    const notJson = await fetch(`${service.url}/qa`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"question": ',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const missing = await post(`${service.url}/reason`, {});
    expect(await missing.json()).toMatchObject({ errors: [{ field: 'prompt', reason: 'prompt is required' }] });
    const wrongType = await post(`${service.url}/reason`, { prompt: 42 });
    expect(await wrongType.json()).toMatchObject({ errors: [{ field: 'prompt', reason: 'prompt must be a string' }] });
    const array = await post(`${service.url}/reason`, [{ prompt: 'hi' }]);
    expect(array.status).toBe(400);
    expect(await array.json()).toMatchObject({
      errors: [{ field: 'body', reason: 'must be a JSON object, not an array' }],
    });
    const poisoned = await rawPost('/reason', '{"prompt":"hi","__proto__":{"admin":true}}');
    expect(poisoned.status).toBe(400);
    expect(await poisoned.json()).toMatchObject({ code: 'MALFORMED_REQUEST', errors: [{ field: 'body' }] });
    const broken = await rawPost('/reason', '{"prompt":"sk-live-0123456789abcdef" "x"}');
    const brokenText = await broken.text();
    expect(brokenText).toContain("expected ',' or '}' after property value at position 37");
    expect(brokenText).not.toContain('0123456789');
    // `curl -d` sends form-encoded bodies: a 415 naming the type, not a list of odd fields.
    const form = await rawPost('/reason', '{"prompt":"hi"}', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await form.json()).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      detail: expect.stringContaining("'application/x-www-form-urlencoded'") as string,
      errors: [{ field: 'content-type' }],
    });
    const text = await rawPost('/qa', 'what is 2+2?', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const gzip = await rawPost('/reason', '{"prompt":"hi"}', { 'content-encoding': 'gzip' });
    expect(gzip.status).toBe(415);
    expect(await gzip.json()).toMatchObject({ errors: [{ field: 'content-encoding' }] });
    const huge = await post(`${service.url}/qa`, { question: 'x', document: 'y'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await huge.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('LLM failures answer with the right status and context, never 200 with an empty answer', () => {
  const start = (env: Record<string, string>) =>
    new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      SIM_LATENCY_MEDIAN_MS: '5',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
      ...env,
    }).start();

  it('502 after retries on upstream errors, then 503 CIRCUIT_OPEN once the breaker opens', async () => {
    const service = await start({ SIM_ERROR_RATE: '1', LLM_MAX_RETRIES: '1', LLM_BREAKER_FAILURE_THRESHOLD: '4' });
    try {
      const res = await post(`${service.url}/reason`, { prompt: 'hi' });
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({
        code: 'UPSTREAM_ERROR',
        provider: 'simulated',
        model: 'gemini-2.5-flash',
        attempts: 2,
        lastUpstreamStatus: 500,
        errorType: 'server',
      });
      await post(`${service.url}/reason`, { prompt: 'hi' });
      const open = await post(`${service.url}/reason`, { prompt: 'hi' });
      expect(open.status).toBe(503);
      expect(open.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await open.json()).toMatchObject({ code: 'CIRCUIT_OPEN', attempts: 0 });
      const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
        dependencies: Record<string, { status: string }>;
      };
      expect(ready.dependencies.llmProvider!.status).toBe('degraded');
    } finally {
      await service.stop();
    }
  });

  it('502 empty_response when every answer is empty, on JSON and on SSE', async () => {
    const service = await start({ SIM_EMPTY_RATE: '1', LLM_MAX_RETRIES: '1' });
    try {
      const res = await post(`${service.url}/qa`, { question: 'Anything?' });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ code: 'UPSTREAM_ERROR', attempts: 2, errorType: 'empty_response' });
      const sse = await post(`${service.url}/reason`, { prompt: 'Anything?' }, { accept: 'text/event-stream' });
      expect(sse.status).toBe(502);
      expect(sse.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    } finally {
      await service.stop();
    }
  });

  it('504 when the upstream hangs past the per-attempt timeout', async () => {
    const service = await start({ SIM_TIMEOUT_RATE: '1', LLM_MAX_RETRIES: '0', LLM_TIMEOUT_MS: '200' });
    try {
      const started = Date.now();
      const res = await post(`${service.url}/qa`, { question: 'hi' });
      expect(res.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(10_000); // the 200 ms timeout, not the default 30 s
      expect(await res.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT', errorType: 'timeout', attempts: 1 });
    } finally {
      await service.stop();
    }
  });

  it('429 BUDGET_EXCEEDED with Retry-After once an enforced daily budget is spent', async () => {
    const service = await start({ BUDGET_POLICY: 'enforce', DAILY_BUDGET_USD: '0' });
    try {
      const res = await post(`${service.url}/qa`, { question: 'hi' });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toMatchObject({ code: 'BUDGET_EXCEEDED', dailyBudgetUsd: 0 });
    } finally {
      await service.stop();
    }
  });

  it('503 with Retry-After when the upstream keeps answering 429', async () => {
    const service = await start({ SIM_RATE_LIMIT_RATE: '1', LLM_MAX_RETRIES: '1', LLM_RETRY_MAX_MS: '2000' });
    try {
      const res = await post(`${service.url}/qa`, { question: 'hi' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        errorType: 'rate_limit',
        attempts: 2,
        lastUpstreamStatus: 429,
      });
    } finally {
      await service.stop();
    }
  });
});

describe('one error contract: the SSE error event and the JSON error response come from one builder', () => {
  let gemini: FakeGeminiServer;
  let agent: TraceAgentReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    gemini = await new FakeGeminiServer().start();
    agent = await new TraceAgentReceiver().start();
    service = await new ServiceProcess({
      DD_TRACE_AGENT_URL: agent.url,
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'test-gemini-key-123',
      LLM_BASE_URL: gemini.url,
      LLM_MODEL: 'gemini-2.5-flash',
      LLM_MAX_RETRIES: '0',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    await gemini?.close();
    await agent?.close();
  });

  it('answers the same upstream failure with the same problem over JSON and as the SSE error event', async () => {
    // The upstream fails with a 500: before any text for the JSON call, after the first text for the stream.
    gemini.enqueue({ type: 'stream_error', status: 500 });
    const json = await post(`${service.url}/qa`, { question: 'Why?' });
    expect(json.status).toBe(502);
    const viaJson = (await json.json()) as Record<string, unknown>;

    gemini.enqueue({ type: 'stream_error', status: 500, text: 'The answer begins and' });
    const sse = await post(`${service.url}/qa`, { question: 'Why?' }, { accept: 'text/event-stream' });
    expect(sse.status).toBe(200);
    const text = await sse.text();
    expect(text).toContain('event: delta');
    const viaSse = JSON.parse(/event: error\ndata: (.*)/.exec(text)![1]!) as Record<string, unknown>;

    const shared = ['type', 'title', 'status', 'code', 'instance'] as const;
    const pick = (p: Record<string, unknown>) => Object.fromEntries(shared.map((k) => [k, p[k]]));
    expect(pick(viaJson)).toEqual({
      type: 'urn:lrcp:problem:upstream-error',
      title: 'Upstream model provider failed',
      status: 502,
      code: 'UPSTREAM_ERROR',
      instance: '/qa',
    });
    expect(pick(viaSse)).toEqual(pick(viaJson));
    // Each carries its own request's trace id, in the same form; and the same members, in the same order.
    expect(viaJson.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(viaSse.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(viaSse.traceId).not.toBe(viaJson.traceId);
    expect(Object.keys(viaSse)).toEqual(Object.keys(viaJson));
    expect(viaSse).toMatchObject({ provider: 'gemini', errorType: 'server', lastUpstreamStatus: 500 });
    expect(viaSse.detail).toMatch(/^stream failed after the first token: /);
    // The stream's request span keeps the 200 its client saw, and is an error all the same, with the event's code:
    // APM's error rate of POST /qa counts it.
    const streamed = await agent.waitForSpan(
      (s) => s.name === 'web.request' && s.meta['http.status_code'] === '200' && s.meta['error.type'] !== undefined,
    );
    expect(streamed.error).toBe(1);
    expect(streamed.meta['error.type']).toBe('UPSTREAM_ERROR');
  });
});

describe('graceful shutdown', () => {
  it('finishes the calls in flight on SIGTERM, then exits', async () => {
    // A loopback Gemini server answering after 600 ms: the signal is sent once it holds the call (a fixed 150 ms
    // after sending it let a loaded runner signal before the call had arrived).
    const gemini = await new FakeGeminiServer().start();
    gemini.setDefault({ type: 'answer', text: 'A slow answer, but an answer.', delayMs: 600 });
    const service = await new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'test-gemini-key-123',
      LLM_BASE_URL: gemini.url,
      LLM_MODEL: 'gemini-2.5-flash',
      LLM_MAX_RETRIES: '0',
      // Far past stop()'s 10 s wait: an exit code says the stop ended with the call, not with the grace period.
      SHUTDOWN_GRACE_MS: '60000',
    }).start();
    try {
      const inFlight = post(`${service.url}/reason`, { prompt: 'a slow answer' });
      await gemini.waitForRequests(1, 30_000);
      const exited = service.stop();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as LlmBody).answer.length).toBeGreaterThan(0);
      // The app is closed, then the process exits with the conventional 128 + 15.
      expect(await exited).toBe(143);
      expect(service.stderr.join('')).not.toMatch(/Error/);
      // The call's log line is written while the app closes, into the asynchronous buffer: it reaches stdout
      // before the process exits (a re-raised SIGTERM used to kill it with the buffer unwritten).
      const line = service.logs().find((l) => l.message === 'llm call completed');
      expect(line).toMatchObject({ endpoint: 'reason', call_status: 'ok' });
    } finally {
      await service.kill();
      await gemini.close();
    }
  });
});

describe('LLMOBS_SAMPLE_RATE=0 (built service, real dd-trace, loopback agent)', () => {
  let stack: TelemetryStack;

  beforeAll(async () => {
    stack = await startWithTelemetry({
      STATSD_FLUSH_INTERVAL_MS: '20',
      SIM_LATENCY_MEDIAN_MS: '5',
      LLMOBS_SAMPLE_RATE: '0',
    });
  });

  afterAll(() => stack?.stop());

  it('keeps the APM attempt span with its GenAI attributes and sends nothing to LLM Observability', async () => {
    const prompt = 'Which moon of Jupiter is the largest?';
    const res = await post(`${stack.service.url}/reason`, { prompt });
    const { metadata } = (await res.json()) as LlmBody;
    const attempt = await stack.agent.waitForSpan((s) => s.meta['llm.prompt_id'] === metadata.prompt_id);
    expect(attempt.meta).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gemini-2.5-flash',
      'span.kind': 'client',
      'peer.service': 'simulated',
    });
    // The LLM Observability writer flushes every second: wait past two flushes.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const llmobs = stack.agent.payloads.filter((p) => p.path.includes('llmobs') || p.path.includes('eval-metric'));
    expect(llmobs.filter((p) => p.body.toString('utf8').includes(prompt))).toEqual([]);
    expect(llmobs.filter((p) => p.body.toString('utf8').includes(String(metadata.prompt_id)))).toEqual([]);
  });
});
