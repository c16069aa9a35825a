import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { type LlmBody, post, startWithTelemetry, type TelemetryStack } from './support/http';

/**
 * Issue #18, the model router (docs/router.md), on the built service: a loopback OpenAI-compatible provider receives
 * the routed model in each request; the decision shows in `metadata.routing`, `llm.router.decision.count`, the
 * request's APM span (a real dd-trace payload), `GET /llm/router`; bad constraints are a 400 naming the field.
 */
const CHEAP = 'gpt-4o-mini';
const MIDDLE = 'gpt-4.1-mini';
const STRONG = 'gpt-4.1';
const EASY = { question: 'What is the capital of France?' };
const HARD = { prompt: 'Write a function that solves 3x + 5 = 20 step by step and explain why it works.' };

describe('model router on the built service (ROUTER_MODE=rules)', () => {
  let upstream: FakeOpenAiServer;
  let stack: TelemetryStack;
  let dir: string;

  beforeAll(async () => {
    upstream = await new FakeOpenAiServer().start();
    upstream.setDefault({ type: 'answer', text: 'Paris is the capital of France.', usage: { prompt: 20, output: 8 } });
    dir = mkdtempSync(join(tmpdir(), 'router-e2e-'));
    stack = await startWithTelemetry({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: MIDDLE,
      LLM_MAX_RETRIES: '0',
      ML_REMOTE_EMBEDDINGS: 'false',
      ROUTER_MODE: 'rules',
      ROUTER_CANDIDATES: `${CHEAP},${MIDDLE},${STRONG}`,
      DATA_DIR: dir,
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends an easy question to the cheapest candidate and a hard prompt to the strongest, and says why', async () => {
    const easy = await post(`${stack.service.url}/qa`, EASY);
    expect(easy.status).toBe(200);
    const easyBody = (await easy.json()) as LlmBody;
    expect(easyBody.metadata).toMatchObject({
      model: CHEAP,
      requested_model: CHEAP,
      fallback_used: false,
      routing: {
        mode: 'rules',
        selected_model: CHEAP,
        candidates_considered: [CHEAP, MIDDLE, STRONG],
        predicted_quality: null,
        predicted_latency_ms: null,
        explored: false,
        reason: 'rules',
        constraints: { min_quality: 0.5 },
      },
    });
    const hard = (await (await post(`${stack.service.url}/reason`, HARD)).json()) as LlmBody;
    expect(hard.metadata).toMatchObject({ model: STRONG, routing: { selected_model: STRONG, reason: 'rules' } });
    // What the provider was asked for, on the wire.
    expect(upstream.requests.map((r) => r.model)).toEqual([CHEAP, STRONG]);

    await stack.statsd.waitFor((lines) => lines.filter((l) => l.name === 'llm.router.decision.count').length >= 2);
    expect(stack.statsd.named('llm.router.decision.count').map((l) => l.tags)).toEqual([
      expect.arrayContaining(['endpoint:qa', `model:${CHEAP}`, 'reason:rules']),
      expect.arrayContaining(['endpoint:reason', `model:${STRONG}`, 'reason:rules']),
    ]);
    const span = await stack.agent.waitForSpan((s) => s.meta['llm.router.selected_model'] === STRONG);
    expect(span.meta).toMatchObject({ 'llm.router.mode': 'rules', 'llm.router.reason': 'rules' });

    const status = await fetch(`${stack.service.url}/llm/router`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      mode: 'rules',
      active: true,
      candidates: [CHEAP, MIDDLE, STRONG],
      predictor: { loaded: expect.any(Boolean) },
      decisions: { windowS: 3600, total: 2 },
    });
  }, 60_000);

  it('lets a request tighten its constraints, never loosen them', async () => {
    const before = upstream.requests.length;
    // A cost bound that only the cheapest candidate fits steps the hard prompt down.
    const capped = (await (
      await post(`${stack.service.url}/reason`, { ...HARD, routing: { max_cost_usd: 0.0004, min_quality: 0.4 } })
    ).json()) as LlmBody;
    expect(capped.metadata.routing).toMatchObject({
      selected_model: CHEAP,
      constraints: { max_cost_usd: 0.0004, min_quality: 0.5 }, // 0.4 would loosen the default: the default holds
    });
    expect(upstream.requests.slice(before).map((r) => r.model)).toEqual([CHEAP]);
  });

  it('routes /v1/chat/completions with model "auto" and lists auto and the candidates in /v1/models', async () => {
    const models = (await (await fetch(`${stack.service.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining([CHEAP, MIDDLE, STRONG, 'auto']));
    const before = upstream.requests.length;
    const res = await post(`${stack.service.url}/v1/chat/completions`, {
      model: 'auto',
      messages: [{ role: 'user', content: HARD.prompt }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-control-plane-model')).toBe(STRONG);
    expect(res.headers.get('x-control-plane-router-reason')).toBe('rules');
    expect(((await res.json()) as { model: string }).model).toBe(STRONG);
    // A named model is the caller's choice: not routed.
    const named = await post(`${stack.service.url}/v1/chat/completions`, {
      model: CHEAP,
      messages: [{ role: 'user', content: HARD.prompt }],
    });
    expect(named.status).toBe(200);
    expect(named.headers.get('x-control-plane-router-reason')).toBeNull();
    await named.text();
    expect(upstream.requests.slice(before).map((r) => r.model)).toEqual([STRONG, CHEAP]);
  });

  it('refuses a provider fault drill with a real provider (409): a drill never touches real calls', async () => {
    const res = await post(`${stack.service.url}/llm/drills/faults`, { error_rate: 1 });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'FAULT_DRILL_UNAVAILABLE' });
  });

  it('answers bad constraints with a 400 naming the field and the reason', async () => {
    const cases: [unknown, string][] = [
      [{ min_quality: 2 }, 'routing.min_quality'],
      [{ max_latency_ms: -5 }, 'routing.max_latency_ms'],
      [{ max_cost_usd: 'cheap' }, 'routing.max_cost_usd'],
      [{ speed: 'fast' }, 'routing.speed'],
      ['fast', 'routing'],
    ];
    for (const [routing, field] of cases) {
      const res = await post(`${stack.service.url}/qa`, { ...EASY, routing });
      expect(res.status).toBe(400);
      const problem = (await res.json()) as { errors: { field: string; reason: string }[] };
      expect(problem.errors.map((e) => e.field)).toContain(field);
    }
  });
});

describe('model router on the built service (ROUTER_MODE=learned, simulated model profiles)', () => {
  const CANDIDATES = 'gemini-2.5-flash-lite,gemini-2.5-flash,gemini-2.5-pro';
  const dirs: string[] = [];
  const stacks: TelemetryStack[] = [];
  const start = async (env: Record<string, string>): Promise<TelemetryStack> => {
    const dir = mkdtempSync(join(tmpdir(), 'router-learned-e2e-'));
    dirs.push(dir);
    const stack = await startWithTelemetry({
      DD_TRACE_ENABLED: 'false',
      SIM_MODEL_PROFILES: 'true',
      // The profiles' latencies (seconds for the thinking models) scaled down 35 times.
      SIM_LATENCY_MEDIAN_MS: '10',
      ROUTER_MODE: 'learned',
      ROUTER_CANDIDATES: CANDIDATES,
      ROUTER_EXPLORATION: '0',
      DATA_DIR: dir,
      ...env,
    });
    stacks.push(stack);
    return stack;
  };

  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('routes by the committed model: predictions in metadata.routing, the predictor in GET /llm/router', async () => {
    const { service } = await start({});
    const status = (await (await fetch(`${service.url}/llm/router`)).json()) as {
      predictor: { loaded: boolean; trainedOn: number; models: string[]; confidence?: number };
    };
    expect(status.predictor).toMatchObject({ loaded: true, models: CANDIDATES.split(',') });
    expect(status.predictor.trainedOn).toBeGreaterThanOrEqual(500);
    const bodies: LlmBody[] = [];
    for (const body of [
      EASY,
      { question: 'Summarise the notice.', document: 'The library closes at 6 pm on Friday.' },
    ]) {
      const res = await post(`${service.url}/qa`, body);
      expect(res.status).toBe(200);
      bodies.push((await res.json()) as LlmBody);
    }
    for (const body of bodies) {
      const routing = body.metadata.routing as Record<string, unknown>;
      expect(routing).toMatchObject({ mode: 'learned', explored: false, constraints: { min_quality: 0.5 } });
      expect(['cheapest_meeting_constraints', 'best_predicted']).toContain(routing.reason);
      expect(routing.predicted_quality).toEqual(expect.any(Number));
      expect(routing.predicted_latency_ms).toEqual(expect.any(Number));
      expect(routing.predicted_cost_usd).toEqual(expect.any(Number));
      expect(body.metadata.model).toBe(routing.selected_model);
    }
  }, 60_000);

  it('serves the rules and says so while the model has less history than ROUTER_MIN_HISTORY', async () => {
    const { service } = await start({ ROUTER_MIN_HISTORY: '100000000' });
    const body = (await (await post(`${service.url}/qa`, EASY)).json()) as LlmBody;
    expect(body.metadata.routing).toMatchObject({
      mode: 'learned',
      reason: 'cold_start',
      selected_model: 'gemini-2.5-flash-lite',
      predicted_quality: null,
    });
  }, 60_000);
});
