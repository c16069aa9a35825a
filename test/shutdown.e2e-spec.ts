import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../apps/control-plane/src/create-app';
import { testConfig } from './support/app-config';
import { post, startWithTelemetry } from './support/http';
import { ServiceProcess } from './support/service-process';

/**
 * A clean stop (SIGTERM: every deploy) must not lose what the service already accepted: the last calls' log
 * lines (asynchronous buffer), their traces (dd-trace flushes every 2 s) and LLM Observability events (every
 * 1 s) leave before the process exits, with the conventional exit code 128 + 15.
 */
describe('shutdown: SIGTERM right after a call', () => {
  it('writes the buffered log line and sends the trace and the LLM Observability event before exiting', async () => {
    // LLMOBS_KEEP=all: the ordinary call's LLM Observability event is sent (by default it may not be).
    const stack = await startWithTelemetry({ DD_ENV: 'e2e-stop', LLMOBS_KEEP: 'all' });
    try {
      const prompt = `the last call before a deploy ${Date.now()}`;
      const response = await post(`${stack.service.url}/reason`, { prompt });
      expect(response.status).toBe(200);
      const promptId = ((await response.json()) as { metadata: { prompt_id: string } }).metadata.prompt_id;

      // Stopped at once: the line is still in the 8 KB / 250 ms buffer, the span and the event in dd-trace's.
      expect(await stack.service.stop()).toBe(143);

      const line = stack.service.logs().find((l) => l.message === 'llm call completed');
      expect(line).toMatchObject({ prompt_id: promptId, endpoint: 'reason' });
      const span = stack.agent.spans.find((s) => s.resource === 'POST /reason');
      expect(span?.meta['http.status_code']).toBe('200');
      const llmobs = stack.agent.payloads.filter((p) => p.path.endsWith('/api/v2/llmobs'));
      expect(llmobs.some((p) => p.body.toString('utf8').includes(prompt))).toBe(true);
      const evaluations = stack.agent.payloads.filter((p) => p.path.endsWith('/eval-metric'));
      expect(evaluations.some((p) => p.body.toString('utf8').includes('quality_score'))).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});

describe('shutdown: an app closed without a signal (tests, tools)', () => {
  it('leaves no signal listener behind', async () => {
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
    const before = signals.map((s) => process.listenerCount(s));
    const dataDir = mkdtempSync(join(tmpdir(), 'lrcp-close-'));
    try {
      const app = await createApp(testConfig({ DATA_DIR: dataDir, MODELS_DIR: join(__dirname, '..', 'models') }), {
        quiet: true,
      });
      await app.init();
      expect(signals.map((s) => process.listenerCount(s))).not.toEqual(before);
      await app.close();
      expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** A raw HTTP/1.1 connection to the service: what it was sent, then everything it answered until it closed. */
async function openConnection(url: string): Promise<{ socket: Socket; answer: Promise<string> }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const answer = new Promise<string>((resolve) => {
    // A hang guard: the server closes the connection after its answer (Connection: close).
    const guard = setTimeout(() => socket.destroy(), 30_000);
    socket.once('close', () => {
      clearTimeout(guard);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
  return { socket, answer };
}

/** The status, headers (lower-cased names) and body of one raw HTTP/1.1 response. */
function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end === -1 ? raw.length : end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: end === -1 ? '' : raw.slice(end + 4) };
}

/**
 * A request that arrives once the stop has begun, on a connection still open (its headers still coming at the
 * signal, or pipelined behind a call in flight), is refused as every other error of the API is: 503 problem+json
 * `SERVER_SHUTTING_DOWN` with `Retry-After` and `Connection: close` (on `/v1`, OpenAI's error body). It got Fastify's
 * own bare 503 (`return503OnClosing`: `{"error":"Service Unavailable",...}`, no code, no Retry-After, no security
 * headers), or, in the moments before Nest closed Fastify, was served as if nothing was stopping.
 */
describe('shutdown: a request arriving while the server stops', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-stop-refuse-'));
    service = await new ServiceProcess({ DATA_DIR: dataDir, SHUTDOWN_GRACE_MS: '20000' }).start();
  });

  afterAll(async () => {
    await service?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 problem+json SERVER_SHUTTING_DOWN with Retry-After, on /v1 in OpenAI error shape', async () => {
    // Both connections are open, each request begun (its headers not finished) when the signal comes.
    const health = await openConnection(service.url);
    const models = await openConnection(service.url);
    health.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    models.socket.write('GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // A barrier, not a sleep: the server answering a request sent after those bytes has read them too (its event
    // loop took every socket ready then), so neither connection is idle when the signal closes the idle ones.
    const barrier = await fetch(`${service.url}/health`, { headers: { connection: 'close' } });
    expect(barrier.status).toBe(200);
    await barrier.body?.cancel();

    process.kill(service.pid!, 'SIGTERM');
    await service.waitForLog((line) => line.context === 'Shutdown');
    health.socket.write('\r\n');
    models.socket.write('\r\n');

    const refused = parseResponse(await health.answer);
    expect({ status: refused.status, ...refused.headers }).toMatchObject({
      status: 503,
      'content-type': 'application/problem+json; charset=utf-8',
      'retry-after': '1',
      connection: 'close',
      'x-content-type-options': 'nosniff',
    });
    expect(JSON.parse(refused.body)).toMatchObject({
      type: 'urn:lrcp:problem:server-shutting-down',
      title: 'Server shutting down',
      status: 503,
      code: 'SERVER_SHUTTING_DOWN',
      detail: expect.stringContaining('shutting down') as unknown,
      instance: '/health',
      retryAfterSeconds: 1,
    });

    const openai = parseResponse(await models.answer);
    expect({ status: openai.status, retryAfter: openai.headers['retry-after'] }).toEqual({
      status: 503,
      retryAfter: '1',
    });
    expect(JSON.parse(openai.body)).toMatchObject({ error: { code: 'server_shutting_down' } });

    // The stop goes on and ends as always once the connections are closed.
    expect(await service.stop()).toBe(143);
  }, 60_000);
});
