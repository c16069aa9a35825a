import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startWithTelemetry, type TelemetryStack } from './support/http';

/** A ledger row as the test reads it from the service's SQLite file. */
interface LedgerRow {
  endpoint: string;
  status: string;
  error_type: string | null;
  input_tokens: number;
  output_tokens: number;
  tokens_estimated: number;
  cost_usd: number | null;
  prompt_id: string | null;
}

/** POSTs to `path` and resolves once the request is sent; `onData` sees the response's text as it comes. */
function openRequest(
  url: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  onData: (text: string) => void = () => undefined,
): http.ClientRequest {
  const request = http.request(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
  });
  request.on('response', (response) => response.on('data', (chunk: Buffer) => onData(chunk.toString('utf8'))));
  // The test destroys the request: the client's side of the abandonment.
  request.on('error', () => undefined);
  request.end(JSON.stringify(body));
  return request;
}

/**
 * A client that closes its connection while the provider works (a timeout, a closed tab) abandons the call: it is
 * recorded as what it is, 499 and `client_abort`, not a server error, and its cost is in the ledger: the provider
 * bills the prompt and what it generated.
 */
describe('calls the client abandons (built service, simulated provider, loopback receivers)', () => {
  let stack: TelemetryStack;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-abandoned-'));
    stack = await startWithTelemetry({
      DATA_DIR: dataDir,
      STATSD_FLUSH_INTERVAL_MS: '20',
      // Every call takes 3 s: first token after ~0.9 s, then the rest spread over ~2.1 s.
      SIM_LATENCY_MEDIAN_MS: '3000',
      SIM_LATENCY_SIGMA: '0',
    });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records a dropped JSON call and a dropped stream as 499 / client_abort, with a costed ledger row each', async () => {
    const { service, statsd } = stack;

    // A JSON call dropped while the provider is still working on it.
    const json = openRequest(service.url, '/qa', { question: 'What colour is the sky on Mars?' }, {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    json.destroy();

    // A stream dropped after three chunks.
    let text = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`three delta events not seen; got: ${text}`)), 10_000);
      const stream = openRequest(
        service.url,
        '/reason',
        { prompt: 'Explain, step by step and at length, why leaves change colour in autumn.' },
        { accept: 'text/event-stream' },
        (chunk) => {
          text += chunk;
          if (text.split('event: delta').length - 1 >= 3) {
            clearTimeout(timer);
            stream.destroy();
            resolve();
          }
        },
      );
    });
    expect(text).not.toContain('event: done');

    // Both calls' records: an info line each, no error level, no 5xx.
    await service.waitForLog((l) => l.message === 'llm call abandoned by the client' && l.endpoint === 'qa', 5000);
    const streamLine = await service.waitForLog(
      (l) => l.message === 'llm call abandoned by the client' && l.endpoint === 'reason',
      5000,
    );
    expect(streamLine).toMatchObject({
      level: 'info',
      status: 'info',
      call_status: 'aborted',
      error_type: 'client_abort',
      http: { route: '/reason', status_code: 499 },
    });
    expect((streamLine.output_tokens as number) > 0).toBe(true);
    const requestLine = await service.waitForLog((l) => l.message === 'client closed request', 5000);
    expect(requestLine).toMatchObject({ level: 'info', http: { route: '/qa', status_code: 499 } });

    await statsd.waitFor(
      (ls) =>
        ls.filter((l) => l.name === 'llm.request.count' && l.tags.includes('error_type:client_abort')).length >= 2,
    );
    await statsd.waitFor((ls) =>
      ls.some(
        (l) => l.name === 'http.request.count' && l.tags.includes('route:/qa') && l.tags.includes('status_class:4xx'),
      ),
    );
    // The dropped stream's request too: 499 when the stream closed early, not the 200 its headers carried.
    await statsd.waitFor((ls) =>
      ls.some(
        (l) =>
          l.name === 'http.request.count' && l.tags.includes('route:/reason') && l.tags.includes('status_class:4xx'),
      ),
    );
    // The request spans say the same (dd-trace alone tags the status a Node response has before anything is written,
    // 200, or the one a stream's headers carried): 499, not an error.
    for (const route of ['/qa', '/reason']) {
      const span = await stack.agent.waitForSpan((s) => s.name === 'web.request' && s.meta['http.route'] === route);
      expect({ route, status: span.meta['http.status_code'], error: span.error }).toEqual({
        route,
        status: '499',
        error: 0,
      });
    }
    const aborted = statsd.named('llm.request.count').filter((l) => l.tags.includes('error_type:client_abort'));
    expect(aborted.every((l) => l.tags.includes('status:aborted'))).toBe(true);
    expect(statsd.named('llm.error.count')).toEqual([]);
    expect(statsd.named('llm.cost.usd').filter((l) => l.tags.includes('status:aborted'))).toHaveLength(2);

    // The ledger is written on stop: both rows, estimated, costed.
    expect(await service.stop()).toBe(143);
    const logs = service.logs();
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
    expect(logs.filter((l) => ((l.http as { status_code?: number } | undefined)?.status_code ?? 0) >= 500)).toEqual([]);
    expect(statsd.named('http.request.count').filter((l) => l.tags.includes('status_class:5xx'))).toEqual([]);

    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      const rows = db
        .prepare(
          'SELECT endpoint, status, error_type, input_tokens, output_tokens, tokens_estimated, cost_usd, prompt_id FROM usage_records ORDER BY endpoint',
        )
        .all() as unknown as LedgerRow[];
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row).toMatchObject({ status: 'aborted', error_type: 'client_abort', tokens_estimated: 1 });
        expect(row.cost_usd).toBeGreaterThan(0);
        expect(row.input_tokens).toBeGreaterThan(0);
        expect(row.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
      }
      const [qa, reason] = rows;
      expect(qa).toMatchObject({ endpoint: 'qa', output_tokens: 0 });
      expect(reason!.endpoint).toBe('reason');
      expect(reason!.output_tokens).toBeGreaterThan(0);
      // Counted in today's spend: the hourly rollups the budget reads.
      const spend = db
        .prepare('SELECT SUM(cost_usd) AS usd, SUM(requests) AS n, SUM(errors) AS e FROM usage_hourly')
        .get();
      expect(spend).toMatchObject({ n: 2, e: 0 });
      expect((spend as { usd: number }).usd).toBeCloseTo(qa!.cost_usd! + reason!.cost_usd!, 10);
    } finally {
      db.close();
    }
  }, 60_000);
});
