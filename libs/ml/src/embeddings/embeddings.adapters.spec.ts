import { OAuth2Client } from 'google-auth-library';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemoryMetrics } from '@app/telemetry';
import { testConfig } from '../../../../test/support/app-config';
import { OPENAI_FLOOD_FORMAT } from '../../../../test/support/fake-openai-server';
import { HostileUpstream, waitFor } from '../../../../test/support/llm-adapter-helpers';
import { QualityRefiner } from '../quality/quality-refiner';
import { createEmbeddingsPort } from './embeddings.factory';
import { EmbeddingsError, OfflineEmbeddingsAdapter } from './embeddings.port';
import { GenAiEmbeddingsAdapter } from './genai-embeddings.adapter';
import { HashedNgramEmbedder } from './hashed-ngram-embedder';
import { MAX_EMBEDDINGS_RESPONSE_BYTES, OpenAiEmbeddingsAdapter } from './openai-embeddings.adapter';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A loopback server speaking the OpenAI, Gemini and Vertex embedding APIs with deterministic vectors. */
class FakeEmbeddingsServer {
  readonly seen: Seen[] = [];
  status = 200;
  private server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      if (this.status !== 200) {
        res.statusCode = this.status;
        res.end(JSON.stringify({ error: { code: this.status, message: 'quota', status: 'RESOURCE_EXHAUSTED' } }));
        return;
      }
      const vec = (text: string): number[] => [text.length % 7, text.includes('tower') ? 1 : 0, 1];
      const url = req.url ?? '';
      if (url.endsWith('/embeddings')) {
        const input = body.input as string[];
        res.end(JSON.stringify({ data: input.map((t, index) => ({ index, embedding: vec(t) })).reverse() }));
      } else if (url.includes(':batchEmbedContents')) {
        const requests = body.requests as Array<{ content: { parts: Array<{ text: string }> } }>;
        res.end(JSON.stringify({ embeddings: requests.map((r) => ({ values: vec(r.content.parts[0]!.text) })) }));
      } else if (url.includes(':predict')) {
        const instances = body.instances as Array<{ content: string }>;
        res.end(JSON.stringify({ predictions: instances.map((i) => ({ embeddings: { values: vec(i.content) } })) }));
      } else if (url.includes(':embedContent')) {
        res.end(JSON.stringify({ embedding: { values: [1, 2, 3] } }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('embedding adapters', () => {
  let server: FakeEmbeddingsServer;
  beforeAll(async () => {
    server = await new FakeEmbeddingsServer().start();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.seen.length = 0;
    server.status = 200;
  });

  it('OpenAI-compatible: POST /v1/embeddings with the model and bearer key, results in input order', async () => {
    const adapter = new OpenAiEmbeddingsAdapter({
      baseUrl: `${server.url}/v1`,
      apiKey: 'sk-test-abcdefghijklmnop',
      model: 'text-embedding-3-small',
      timeoutMs: 2000,
    });
    const [a, b] = await adapter.embed(['the tower', 'x']);
    expect(Array.from(a!)).toEqual([2, 1, 1]);
    expect(Array.from(b!)).toEqual([1, 0, 1]);
    expect(server.seen[0]).toMatchObject({
      method: 'POST',
      url: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', input: ['the tower', 'x'] },
    });
    expect(server.seen[0]!.headers.authorization).toBe('Bearer sk-test-abcdefghijklmnop');
    expect(adapter.remote).toBe(true);
    await adapter.close();
  });

  it('OpenAI-compatible: HTTP errors become EmbeddingsError with the status', async () => {
    server.status = 429;
    const adapter = new OpenAiEmbeddingsAdapter({ baseUrl: server.url, model: 'm', timeoutMs: 2000 });
    await expect(adapter.embed(['a'])).rejects.toMatchObject({ name: 'EmbeddingsError', status: 429 });
    expect(server.seen[0]!.url).toBe('/v1/embeddings');
    await adapter.close();
  });

  it('Gemini through @google/genai: batchEmbedContents with the API key', async () => {
    const adapter = new GenAiEmbeddingsAdapter({
      model: 'gemini-embedding-001',
      timeoutMs: 2000,
      apiKey: 'test-gemini-key',
      baseUrl: server.url,
    });
    const vectors = await adapter.embed(['the tower', 'abc']);
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [2, 1, 1],
      [3, 0, 1],
    ]);
    expect(server.seen[0]!.url).toMatch(/models\/gemini-embedding-001:batchEmbedContents/);
    expect(server.seen[0]!.headers['x-goog-api-key']).toBe('test-gemini-key');
    expect(adapter.name).toBe('gemini:gemini-embedding-001');
  });

  it('Vertex AI through @google/genai: project/location path with the OAuth token', async () => {
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'ya29.test-token', expiry_date: Date.now() + 3_600_000 });
    const adapter = new GenAiEmbeddingsAdapter({
      model: 'text-embedding-005',
      timeoutMs: 2000,
      vertex: { project: 'test-project-42', location: 'europe-west4' },
      baseUrl: server.url,
      authClient,
    });
    const vectors = await adapter.embed(['the tower']);
    expect(Array.from(vectors[0]!)).toEqual([2, 1, 1]);
    expect(server.seen[0]!.url).toMatch(
      /projects\/test-project-42\/locations\/europe-west4\/publishers\/google\/models\/text-embedding-005:predict/,
    );
    expect(server.seen[0]!.headers.authorization).toBe('Bearer ya29.test-token');
  });

  it("without a base URL calls Google's endpoint, never the SDK's GOOGLE_VERTEX_BASE_URL / GOOGLE_GEMINI_BASE_URL", async () => {
    // The SDK reads them from the process environment when given no base URL: prompts and answers (what is embedded)
    // and the credentials would go to a host no setting names. Google's host is refused by the test's loopback guard.
    const saved = { vertex: process.env.GOOGLE_VERTEX_BASE_URL, gemini: process.env.GOOGLE_GEMINI_BASE_URL };
    process.env.GOOGLE_VERTEX_BASE_URL = server.url;
    process.env.GOOGLE_GEMINI_BASE_URL = server.url;
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'ya29.test-token', expiry_date: Date.now() + 3_600_000 });
    const adapters = [
      new GenAiEmbeddingsAdapter({ model: 'gemini-embedding-001', timeoutMs: 2000, apiKey: 'test-gemini-key' }),
      new GenAiEmbeddingsAdapter({
        model: 'text-embedding-005',
        timeoutMs: 2000,
        vertex: { project: 'test-project-42', location: 'europe-west4' },
        authClient,
      }),
    ];
    try {
      for (const adapter of adapters) {
        const error = await adapter.embed(['the tower']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).toMatch(
          /generativelanguage\.googleapis\.com|europe-west4-aiplatform\.googleapis\.com/,
        );
      }
      expect(server.seen).toHaveLength(0);
    } finally {
      await Promise.all(adapters.map((adapter) => adapter.close()));
      for (const [name, value] of [
        ['GOOGLE_VERTEX_BASE_URL', saved.vertex],
        ['GOOGLE_GEMINI_BASE_URL', saved.gemini],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('Gemini errors become EmbeddingsError', async () => {
    server.status = 503;
    const adapter = new GenAiEmbeddingsAdapter({
      model: 'gemini-embedding-001',
      timeoutMs: 2000,
      apiKey: 'test-gemini-key',
      baseUrl: server.url,
    });
    const error = await adapter.embed(['a']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingsError);
    expect((error as EmbeddingsError).status).toBe(503);
    expect(server.seen).toHaveLength(1);
  });

  describe('an upstream answering 200 MB (a runaway or misrouted server)', () => {
    let hostile: HostileUpstream;
    beforeAll(async () => {
      hostile = (await new HostileUpstream(OPENAI_FLOOD_FORMAT).start()).serve({
        kind: 'json',
        bytes: 200 * 1024 * 1024,
      });
    });
    afterEach(() => {
      hostile.requests.length = 0;
    });
    afterAll(() => hostile.close());

    async function expectCutShort(): Promise<void> {
      await waitFor(() => hostile.requests[0]?.outcome === 'client_closed');
      expect(hostile.requests[0]!.sentBytes).toBeLessThan(MAX_EMBEDDINGS_RESPONSE_BYTES + 16 * 1024 * 1024);
    }

    it('OpenAI-compatible: fails with EmbeddingsError at the limit and closes the connection', async () => {
      const adapter = new OpenAiEmbeddingsAdapter({ baseUrl: hostile.url, model: 'm', timeoutMs: 5000 });
      try {
        const error = await adapter.embed(['a']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EmbeddingsError);
        expect((error as Error).message).toContain(`exceeded ${MAX_EMBEDDINGS_RESPONSE_BYTES} bytes`);
        await expectCutShort();
      } finally {
        await adapter.close();
      }
    });

    it('Gemini through @google/genai: the same', async () => {
      const adapter = new GenAiEmbeddingsAdapter({
        model: 'gemini-embedding-001',
        timeoutMs: 5000,
        apiKey: 'test-gemini-key',
        baseUrl: hostile.url,
      });
      try {
        const error = await adapter.embed(['a']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EmbeddingsError);
        expect((error as Error).message).toContain(`exceeded ${MAX_EMBEDDINGS_RESPONSE_BYTES} bytes`);
        await expectCutShort();
      } finally {
        await adapter.close();
      }
    });
  });

  it('picks the adapter from the configured provider; offline by default or when disabled', () => {
    const offline = new HashedNgramEmbedder();
    expect(createEmbeddingsPort(testConfig(), offline)).toBeInstanceOf(OfflineEmbeddingsAdapter);
    expect(
      createEmbeddingsPort(testConfig({ LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'test-gemini-key' }), offline).name,
    ).toBe('gemini:gemini-embedding-001');
    expect(
      createEmbeddingsPort(testConfig({ LLM_PROVIDER: 'vertex', GOOGLE_CLOUD_PROJECT: 'test-project-42' }), offline)
        .name,
    ).toBe('vertex:gemini-embedding-001');
    expect(
      createEmbeddingsPort(
        testConfig({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: server.url, ML_EMBEDDINGS_MODEL: 'nomic-embed-text' }),
        offline,
      ).name,
    ).toBe('openai:nomic-embed-text');
    expect(
      createEmbeddingsPort(
        testConfig({ LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'test-gemini-key', ML_REMOTE_EMBEDDINGS: 'false' }),
        offline,
      ).remote,
    ).toBe(false);
  });
});

describe('QualityRefiner', () => {
  let server: FakeEmbeddingsServer;
  beforeAll(async () => {
    server = await new FakeEmbeddingsServer().start();
  });
  afterAll(() => server.close());

  it('records the remote relevance after the call, off the response path', async () => {
    const metrics = new InMemoryMetrics();
    const refiner = new QualityRefiner(
      new OpenAiEmbeddingsAdapter({ baseUrl: server.url, model: 'm', timeoutMs: 2000 }),
      metrics,
    );
    const results: number[] = [];
    expect(
      refiner.submit('How tall is the tower?', 'The tower is 330 m.', ['endpoint:qa'], (r) =>
        results.push(r.relevance),
      ),
    ).toBe(true);
    expect(metrics.recorded).toEqual([]); // nothing happened synchronously
    await refiner.drain();
    expect(results).toHaveLength(1);
    expect(metrics.named('llm.quality.remote_relevance')).toEqual([
      { type: 'distribution', name: 'llm.quality.remote_relevance', value: expect.any(Number), tags: ['endpoint:qa'] },
    ]);
    expect(refiner.completed).toBe(1);
  });

  it('is disabled with the offline embedder, bounds work in flight and swallows failures', async () => {
    const metrics = new InMemoryMetrics();
    expect(
      new QualityRefiner(new OfflineEmbeddingsAdapter(new HashedNgramEmbedder()), metrics).submit('q', 'a', []),
    ).toBe(false);
    server.status = 500;
    const refiner = new QualityRefiner(
      new OpenAiEmbeddingsAdapter({ baseUrl: server.url, model: 'm', timeoutMs: 2000 }),
      metrics,
    );
    const accepted = Array.from({ length: 20 }, () => refiner.submit('q', 'a', [])).filter(Boolean).length;
    expect(accepted).toBe(16);
    expect(refiner.dropped).toBe(4);
    await refiner.drain();
    expect(refiner.failed).toBe(16);
    expect(metrics.recorded).toEqual([]);
    server.status = 200;
  });
});
