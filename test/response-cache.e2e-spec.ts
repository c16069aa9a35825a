import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TEST_API_KEYS, TEST_AUTH_ENV } from './support/api-keys';
import { DogStatsdReceiver } from './support/dogstatsd-receiver';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { type LlmBody, post } from './support/http';
import { PostgresTestServer } from './support/postgres-server';
import { ServiceProcess } from './support/service-process';

/**
 * Issue #18, the response cache (CACHE_MODE=exact, docs/cache.md), on the built service against a loopback
 * OpenAI-compatible provider whose requests are counted: the same /qa twice is answered once upstream, the second
 * time from the cache (`metadata.cache`, zero tokens, the hit's metrics); a burst of identical calls is answered once
 * upstream; and two replicas on one PostgreSQL share the entries.
 */
const QUESTION = { question: 'What colour is the sky on Mars?', document: 'The sky on Mars is butterscotch by day.' };
const ANSWER = 'Butterscotch by day, blue at sunset.';

describe('response cache (CACHE_MODE=exact) on the built service', () => {
  let upstream: FakeOpenAiServer;
  let statsd: DogStatsdReceiver;
  const pg = new PostgresTestServer();
  const dirs: string[] = [];
  const running: ServiceProcess[] = [];

  const start = async (env: Record<string, string>): Promise<ServiceProcess> => {
    const dir = mkdtempSync(join(tmpdir(), 'response-cache-e2e-'));
    dirs.push(dir);
    const service = new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: String(statsd.port),
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-4o-mini',
      LLM_MAX_RETRIES: '0',
      CACHE_MODE: 'exact',
      // Only the chat completions are counted: no sampled re-scoring with the provider's embeddings.
      ML_REMOTE_EMBEDDINGS: 'false',
      DATA_DIR: dir,
      ...env,
    });
    running.push(service);
    return service.start();
  };

  beforeAll(async () => {
    ServiceProcess.assertBuilt();
    upstream = await new FakeOpenAiServer().start();
    statsd = await new DogStatsdReceiver().start();
  });

  afterAll(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
    await upstream?.close();
    await statsd?.close();
    pg.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    upstream.reset();
    upstream.setDefault({ type: 'answer', text: ANSWER, usage: { prompt: 1000, output: 500 } });
  });

  it('answers the same /qa twice with one provider request: the second from the cache, with its metrics', async () => {
    const service = await start({});
    const first = await post(`${service.url}/qa`, QUESTION);
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as LlmBody;
    expect(firstBody.metadata.cache).toBeUndefined();
    const costUsd = Number(firstBody.metadata.cost_usd);
    expect(costUsd).toBeGreaterThan(0);

    const second = await post(`${service.url}/qa`, QUESTION);
    expect(second.status).toBe(200);
    const body = (await second.json()) as LlmBody;
    expect(body.answer).toBe(ANSWER);
    expect(body.metadata.cache).toEqual({ hit: true, age_s: expect.any(Number), saved_cost_usd: costUsd });
    expect(body.metadata).toMatchObject({ input_tokens: 0, output_tokens: 0, cost_usd: 0, attempts: 0 });
    expect(body.metadata.quality).toEqual(firstBody.metadata.quality);
    expect(upstream.requests).toHaveLength(1);

    await statsd.waitFor((lines) => lines.some((l) => l.name === 'llm.cache.saved_cost_usd'));
    expect(statsd.named('llm.cache.hit')[0]!.tags).toEqual(
      expect.arrayContaining(['endpoint:qa', 'model:gpt-4o-mini']),
    );
    expect(statsd.named('llm.cache.miss')).toHaveLength(1);
    expect(statsd.named('llm.cache.saved_cost_usd')[0]!.value).toBeCloseTo(costUsd, 9);

    // A stream bypasses the cache (docs/cache.md): it goes upstream.
    const streamed = await post(`${service.url}/qa`, QUESTION, { accept: 'text/event-stream' });
    expect(await streamed.text()).toContain('event: done');
    expect(upstream.requests).toHaveLength(2);

    // /v1/chat/completions goes through the same cache: the same request twice, one upstream request more.
    const before = upstream.requests.length;
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Name a red planet.' }], temperature: 0 };
    const cacheHeaders: (string | null)[][] = [];
    for (let i = 0; i < 2; i++) {
      const res = await post(`${service.url}/v1/chat/completions`, chat);
      expect(res.status).toBe(200);
      await res.json();
      cacheHeaders.push(
        ['', '-age-s', '-saved-cost-usd'].map((suffix) => res.headers.get(`x-control-plane-cache${suffix}`)),
      );
    }
    expect(upstream.requests.length - before).toBe(1);
    // The body is OpenAI's, so a hit says so in headers (docs/openai-compat.md, "The control plane's facts").
    expect(cacheHeaders[0]).toEqual([null, null, null]);
    expect(cacheHeaders[1]).toEqual([
      'hit',
      expect.stringMatching(/^\d+(\.\d+)?$/),
      expect.stringMatching(/^[\d.e-]+$/),
    ]);
    await service.stop();
  });

  it("keeps one API key's answers from another (CACHE_SCOPE=key, the default), on /qa and /v1", async () => {
    const service = await start(TEST_AUTH_ENV);
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Name a blue planet.' }], temperature: 0 };
    const cacheOf = async (path: string, body: object, key: string): Promise<unknown> => {
      const res = await post(`${service.url}${path}`, body, as(key));
      expect(res.status).toBe(200);
      const json = (await res.json()) as { metadata?: { cache?: unknown } };
      return json.metadata?.cache;
    };
    expect(await cacheOf('/qa', QUESTION, TEST_API_KEYS.invoke)).toBeUndefined();
    expect(await cacheOf('/qa', QUESTION, TEST_API_KEYS.all)).toBeUndefined();
    expect(upstream.requests).toHaveLength(2);
    expect(await cacheOf('/qa', QUESTION, TEST_API_KEYS.invoke)).toMatchObject({ hit: true });
    expect(await cacheOf('/qa', QUESTION, TEST_API_KEYS.all)).toMatchObject({ hit: true });
    expect(upstream.requests).toHaveLength(2);
    for (const key of [TEST_API_KEYS.invoke, TEST_API_KEYS.all, TEST_API_KEYS.invoke]) {
      await cacheOf('/v1/chat/completions', chat, key);
    }
    expect(upstream.requests).toHaveLength(4);
    await service.stop();
  });

  it('asks the provider once for a burst of identical /v1 calls: the others are served the first one’s answer', async () => {
    const service = await start({});
    upstream.setDefault({ type: 'answer', text: ANSWER, usage: { prompt: 1000, output: 500 }, delayMs: 500 });
    const chat = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Name a ringed planet.' }],
      temperature: 0,
    };
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => post(`${service.url}/v1/chat/completions`, chat)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
      choices: { message: { content: string } }[];
    }[];
    expect(bodies.map((b) => b.choices[0]!.message.content)).toEqual(Array(8).fill(ANSWER));
    expect(responses.filter((r) => r.headers.get('x-control-plane-cache') === 'hit')).toHaveLength(7);
    expect(upstream.requests).toHaveLength(1);
    await service.stop();
  });

  it('shares entries across two replicas on one PostgreSQL: the second replica hits the first one’s answer', async () => {
    await pg.start();
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE cache_replicas');
    await admin.end();
    const url = pg.url.replace(/\/postgres$/, '/cache_replicas');
    const [a, b] = await Promise.all([start({ DATABASE_URL: url }), start({ DATABASE_URL: url })]);
    const first = await post(`${a.url}/qa`, QUESTION);
    expect(first.status).toBe(200);
    expect(((await first.json()) as LlmBody).metadata.cache).toBeUndefined();
    // The entry is stored just after the answer, off the response path.
    let hit: LlmBody | undefined;
    for (let i = 0; i < 40 && hit?.metadata.cache === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      hit = (await (await post(`${b.url}/qa`, QUESTION)).json()) as LlmBody;
    }
    expect(hit?.metadata.cache).toMatchObject({ hit: true });
    expect(hit?.answer).toBe(ANSWER);
    expect(upstream.requests).toHaveLength(1);
  }, 60_000);
});
