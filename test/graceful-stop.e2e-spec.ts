import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type LlmBody, post } from './support/http';
import { FakeGeminiServer } from './support/fake-gemini-server';
import { ServiceProcess } from './support/service-process';

/** The service's settings for the Gemini API at a loopback stand-in. */
const atGemini = (gemini: FakeGeminiServer): Record<string, string> => ({
  LLM_PROVIDER: 'gemini',
  GEMINI_API_KEY: 'test-gemini-key-123',
  LLM_BASE_URL: gemini.url,
  LLM_MODEL: 'gemini-2.5-flash',
  LLM_MAX_RETRIES: '0',
  LLM_TIMEOUT_MS: '120000',
});

/** Waits until the provider holds `calls` calls (a hang guard of 30 s, for a loaded runner). */
async function providerHolds(gemini: FakeGeminiServer, calls: number): Promise<void> {
  const held = (): number => gemini.requests.filter((r) => r.path.includes('generateContent')).length;
  for (let waited = 0; held() < calls && waited < 600; waited++) await new Promise((r) => setTimeout(r, 50));
  expect(held()).toBe(calls);
}

/**
 * How many loopback clients keep a call in flight each, and for how long at least before the SIGTERM: then until
 * they have had more than 5 answers each (a fixed 2 s gave 32 answers, not the 40 asked, on a loaded 2-core runner).
 */
const CLIENTS = 8;
const LOAD_MS = 2000;

/**
 * A graceful stop (SIGTERM: every deploy) writes the ledger record of every call it answered before the process
 * exits, the ones answered while the server drained included: each answered `prompt_id` is in the ledger.
 */
describe('graceful stop under load', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-graceful-'));
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      SIM_LATENCY_MEDIAN_MS: '20',
      // The flush timer never fires during the test: only the shutdown flush writes the ledger.
      LEDGER_FLUSH_MS: '60000',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records every answered call when stopped with SIGTERM mid-load', async () => {
    const answered: string[] = [];
    let stopping = false;
    const client = async (n: number): Promise<void> => {
      for (let i = 0; ; i++) {
        try {
          const response = await post(`${service.url}/reason`, {
            prompt: `client ${n} call ${i}: why is the sea salty?`,
          });
          if (response.status !== 200) {
            await response.body?.cancel();
            if (stopping) return;
            continue;
          }
          answered.push(((await response.json()) as LlmBody).metadata.prompt_id as string);
        } catch {
          // Refused or cut once the server closes.
          if (stopping) return;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    for (let waited = 0; answered.length <= CLIENTS * 5 && waited < 400; waited++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    stopping = true;
    expect(await service.stop()).toBe(143);
    await Promise.all(clients);

    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      const recorded = new Set(
        (db.prepare('SELECT prompt_id FROM usage_records').all() as { prompt_id: string | null }[]).map(
          (r) => r.prompt_id,
        ),
      );
      expect(answered.length).toBeGreaterThan(CLIENTS * 5);
      const missing = answered.filter((id) => !recorded.has(id));
      expect({ answered: answered.length, missing }).toEqual({ answered: answered.length, missing: [] });
    } finally {
      db.close();
    }
  }, 60_000);
});

/**
 * Calls still with the provider when SHUTDOWN_GRACE_MS runs out are cut with their connections; the provider bills
 * what they were asked, so each one is in the ledger as `aborted` with its tokens and cost (they were lost: the
 * ledger had stopped before they ended). The server cut them, not their clients: `error_type` `shutdown` and 503 in
 * their records, never `client_abort` and 499 (a deploy must not read as a wave of impatient clients).
 */
describe('graceful stop: calls cut by the grace period', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let gemini: FakeGeminiServer;

  beforeAll(async () => {
    // A provider that never answers: the calls are with it when the signal comes, whatever the machine's speed (the
    // test slept 800 ms after sending them; on a loaded runner some had not arrived, and got Fastify's bare 503).
    gemini = await new FakeGeminiServer().start();
    gemini.setDefault({ type: 'hang' });
  });

  afterAll(async () => {
    await gemini?.close();
  });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-graceful-cut-'));
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      ...atGemini(gemini),
      SHUTDOWN_GRACE_MS: '1000',
      LEDGER_FLUSH_MS: '60000',
    }).start();
  });

  afterEach(async () => {
    await service?.stop();
    gemini.reset().setDefault({ type: 'hang' });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s: records each cut call as aborted, with its cost',
    async (signal, code) => {
      const calls = Array.from({ length: 4 }, (_, n) =>
        post(`${service.url}/reason`, { prompt: `slow call ${n}: why is the sea salty?` }).then(
          async (response) => ({
            status: response.status,
            retryAfter: response.headers.get('retry-after'),
            body: (await response.json()) as { code?: string; promptId?: string },
          }),
          (error: unknown) => ({ status: 'cut', error: String(error) }),
        ),
      );
      await providerHolds(gemini, 4);
      // The grace period decided when it stopped (SIGHUP waited for the calls before): the calls never end, and
      // stop() gives up (null) after 10 s.
      expect(await service.stop(signal)).toBe(code);
      // Each is answered before its connection closes (it used to be closed with no response at all): 503, retryable,
      // naming its call.
      const answers = await Promise.all(calls);
      for (const answer of answers)
        expect(answer).toMatchObject({
          status: 503,
          retryAfter: '1',
          body: { code: 'SERVER_SHUTTING_DOWN', promptId: expect.any(String) as unknown },
        });

      const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
      try {
        const rows = db
          .prepare('SELECT status, error_type, cost_usd, input_tokens, prompt_id FROM usage_records')
          .all() as {
          status: string;
          error_type: string;
          cost_usd: number;
          input_tokens: number;
          prompt_id: string;
        }[];
        expect(rows).toHaveLength(4);
        for (const row of rows) {
          expect(row).toMatchObject({ status: 'aborted', error_type: 'shutdown' });
          expect(row.input_tokens).toBeGreaterThan(0);
          expect(row.cost_usd).toBeGreaterThan(0);
        }
        // The prompt id each answer names is its call's ledger row.
        expect(rows.map((r) => r.prompt_id).sort()).toEqual(
          answers.map((a) => ('body' in a ? a.body.promptId : undefined)).sort(),
        );
      } finally {
        db.close();
      }
      const lines = service.logs();
      const cutCalls = lines.filter((l) => l.message === 'llm call cut by the server shutting down');
      expect(cutCalls).toHaveLength(4);
      for (const line of cutCalls)
        expect(line).toMatchObject({ level: 'warn', status: 'warn', call_status: 'aborted', error_type: 'shutdown' });
      const requests = lines.filter((l) => l.message === 'connection cut at shutdown (SHUTDOWN_GRACE_MS)');
      expect(requests.map((l) => (l as { http?: { status_code?: number } }).http?.status_code)).toEqual([
        503, 503, 503, 503,
      ]);
      expect(lines.filter((l) => /abandoned by the client|client closed request/.test(String(l.message)))).toEqual([]);
      // Nor does any field blame the client: the request lines' error says the shutdown cut them.
      expect(lines.filter((l) => /client closed/i.test(JSON.stringify(l)))).toEqual([]);
      for (const line of requests)
        expect(line).toMatchObject({
          level: 'warn',
          error: {
            code: 'SERVER_SHUTTING_DOWN',
            message: expect.stringMatching(/^The server is shutting down: this call was cut when SHUTDOWN_GRACE_MS/),
          },
        });
    },
    60_000,
  );
});

describe('graceful stop: a second signal while stopping', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let gemini: FakeGeminiServer;

  beforeAll(async () => {
    gemini = await new FakeGeminiServer().start();
    gemini.setDefault({ type: 'hang' });
  });

  afterAll(async () => {
    await gemini?.close();
  });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-graceful-again-'));
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      ...atGemini(gemini),
      // The grace would outlast the test: only the second signal can end these calls in time.
      SHUTDOWN_GRACE_MS: '120000',
      LEDGER_FLUSH_MS: '60000',
    }).start();
  });

  afterEach(async () => {
    await service?.kill();
    gemini.reset().setDefault({ type: 'hang' });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('Ctrl-C twice: cuts the calls still in flight now, records each as cut by the shutdown, exits 130', async () => {
    const calls = Array.from({ length: 3 }, (_, n) =>
      post(`${service.url}/v1/chat/completions`, {
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: `slow call ${n}: why is the sky blue?` }],
      }).then(
        async (response) => ({
          status: response.status,
          promptId: response.headers.get('x-control-plane-prompt-id'),
          error: ((await response.json()) as { error?: { code?: string } }).error?.code,
        }),
        () => 'cut',
      ),
    );
    await providerHolds(gemini, 3);
    process.kill(service.pid!, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The second one used to meet Node's default action: the process died there, nothing of it recorded.
    expect(await service.stop('SIGINT')).toBe(130);
    // On /v1 too, each is answered before its connection closes: OpenAI's error body, its call named in the header.
    const answers = await Promise.all(calls);
    for (const answer of answers)
      expect(answer).toMatchObject({ status: 503, error: 'server_shutting_down', promptId: expect.any(String) });

    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT status, error_type, prompt_id FROM usage_records').all() as {
        prompt_id: string;
      }[];
      expect(rows.map(({ prompt_id: _, ...row }) => row)).toEqual(
        Array.from({ length: 3 }, () => ({ status: 'aborted', error_type: 'shutdown' })),
      );
      expect(rows.map((r) => r.prompt_id).sort()).toEqual(
        answers.map((a) => (typeof a === 'string' ? a : a.promptId)).sort(),
      );
    } finally {
      db.close();
    }
    const lines = service.logs();
    expect(lines.filter((l) => l.message === 'llm call cut by the server shutting down')).toHaveLength(3);
    expect(lines.filter((l) => l.context === 'Shutdown').map((l) => [l.level, l.message])).toEqual([
      [
        'info',
        'SIGINT: stopping; no new connection is taken, calls in flight have SHUTDOWN_GRACE_MS (120000 ms) to finish before their connections are cut (a second signal cuts them now)',
      ],
      ['warn', 'SIGINT again while stopping: the 3 connections still open cut now, before SHUTDOWN_GRACE_MS'],
    ]);
  }, 60_000);
});

/**
 * A stream still open when SHUTDOWN_GRACE_MS runs out does not just stop: its last event says the server is shutting
 * down (503-like, retryable, naming its call by its prompt id), in its surface's error shape, then it closes; its
 * call is recorded once, as cut by the shutdown. It used to be cut mid-stream with no reason (curl exit 18).
 */
describe('graceful stop: streams cut by the grace period', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-graceful-streams-'));
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      SIM_LATENCY_MEDIAN_MS: '20000',
      SIM_LATENCY_SIGMA: '0.01',
      // The responses begin before the first token: the shutdown finds them open, headers sent.
      SSE_KEEPALIVE_MS: '200',
      SHUTDOWN_GRACE_MS: '1000',
      LEDGER_FLUSH_MS: '60000',
    }).start();
  });

  afterEach(async () => {
    await service?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const open = (path: string, body: unknown): Promise<Response> =>
    fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
  /** The body's text, or `cut` if the connection closed before it ended. */
  const text = (response: Response): Promise<string> => response.text().catch(() => 'cut');
  const blocks = (body: string): string[] => body.split('\n\n').filter((b) => b !== '');

  it('ends each stream with an error event naming its call, then records it as cut by the shutdown', async () => {
    const reason = await open('/reason', { prompt: 'A slow stream: why is the sea salty?' });
    const chat = await open('/v1/chat/completions', {
      model: 'gemini-2.5-flash',
      stream: true,
      messages: [{ role: 'user', content: 'A slow stream: why is the sky blue?' }],
    });
    expect([reason.status, chat.status]).toEqual([200, 200]);
    const bodies = Promise.all([text(reason), text(chat)]);
    expect(await service.stop()).toBe(143);
    const [reasonText, chatText] = await bodies;

    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    let rows: { prompt_id: string; status: string; error_type: string; endpoint: string }[];
    try {
      rows = db.prepare('SELECT prompt_id, status, error_type, endpoint FROM usage_records').all() as typeof rows;
    } finally {
      db.close();
    }
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ status: 'aborted', error_type: 'shutdown' });
    const idOf = (endpoint: string): string => rows.find((r) => r.endpoint === endpoint)!.prompt_id;

    // /reason: the problem+json error event.
    expect(reasonText).not.toBe('cut');
    const last = blocks(reasonText).at(-1)!;
    expect(last).toMatch(/^event: error\n/);
    expect(JSON.parse(last.split('data: ')[1]!)).toMatchObject({
      status: 503,
      code: 'SERVER_SHUTTING_DOWN',
      instance: '/reason',
      promptId: idOf('reason'),
      retryAfterSeconds: 1,
    });

    // /v1: OpenAI's error chunk (the SDK raises it), the call named by the 200's headers.
    expect(chatText).not.toBe('cut');
    const chunks = blocks(chatText);
    expect(chunks).not.toContain('data: [DONE]');
    expect(JSON.parse(chunks.at(-1)!.slice('data: '.length))).toEqual({
      error: {
        message: expect.stringMatching(/shutting down/),
        type: 'server_error',
        param: null,
        code: 'server_shutting_down',
      },
    });
    expect(chat.headers.get('x-control-plane-prompt-id')).toBe(idOf('chat'));

    expect(service.logs().filter((l) => l.message === 'llm call cut by the server shutting down')).toHaveLength(2);
  }, 60_000);
});

/**
 * The listening socket closes at the stop signal, whatever the shutdown hooks then wait for. The incident outbox's
 * worker waits (up to 5 s) for a delivery under way, and Nest runs that wait before it closes the HTTP server: with
 * Datadog holding a delivery (an API that accepts and never answers), the stopping process went on taking new
 * connections for those 5 s, readiness said `ready` and LLM calls were answered, while the orchestrator had been told
 * it was stopping (docs/operations.md: on SIGTERM a new connection is refused).
 */
describe('graceful stop: the listening socket closes at the signal', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let datadog: Server;
  const held: Socket[] = [];
  let requests = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-graceful-listen-'));
    datadog = createServer((request) => {
      requests += 1;
      held.push(request.socket); // never answered
    });
    await new Promise<void>((resolve) => datadog.listen(0, '127.0.0.1', resolve));
    const { port } = datadog.address() as AddressInfo;
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      DD_API_KEY: 'dummy-api-key-e2e',
      DD_APP_KEY: 'dummy-app-key-e2e',
      DATADOG_API_URL: `http://127.0.0.1:${port}`,
      DD_TRACE_ENABLED: 'false',
    }).start();
  });

  afterAll(async () => {
    await service?.kill();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => datadog.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Whether a new TCP connection to the service is taken ('connected') or refused. */
  const connect = (): Promise<'connected' | 'refused'> =>
    new Promise((resolve) => {
      const { hostname, port } = new URL(service.url);
      const socket = netConnect({ host: hostname, port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', () => resolve('refused'));
    });

  it('refuses new connections from the signal on while a Datadog delivery holds the stop', async () => {
    const queued = await post(`${service.url}/incidents/create`, {
      monitor_name: 'latency monitor',
      alert_message: 'p95 latency above the objective',
      runbook: 'latency',
    });
    expect(queued.status).toBe(202);
    await queued.body?.cancel();
    // The delivery is under way: Datadog holds its first request.
    for (let i = 0; i < 400 && requests === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(requests).toBeGreaterThan(0);
    expect(await connect()).toBe('connected');

    process.kill(service.pid!, 'SIGTERM');
    await service.waitForLog((line) => line.context === 'Shutdown');
    expect(await connect()).toBe('refused');
    // Still stopping (the delivery holds it), not gone: the refusal is the drain's, not an exit's.
    expect(() => process.kill(service.pid!, 0)).not.toThrow();

    expect(await service.stop()).toBe(143);
  }, 60_000);
});
