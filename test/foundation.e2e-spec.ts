import { DogStatsdReceiver } from './support/dogstatsd-receiver';
import { startWithTelemetry, type TelemetryStack } from './support/http';
import { ServiceProcess } from './support/service-process';
import { TraceAgentReceiver } from './support/trace-agent-receiver';

describe('foundation: the built service with real DogStatsD and trace-agent receivers on loopback', () => {
  let stack: TelemetryStack;
  let statsd: DogStatsdReceiver;
  let agent: TraceAgentReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    stack = await startWithTelemetry({
      DD_ENV: 'e2e',
      DD_SERVICE: 'lrcp-e2e',
      STATSD_FLUSH_INTERVAL_MS: '50',
      RUNTIME_METRICS_INTERVAL_MS: '200',
    });
    ({ statsd, agent, service } = stack);
  });

  afterAll(() => stack?.stop());

  it('serves liveness without telemetry, and readiness with each dependency', async () => {
    const live = await fetch(`${service.url}/health`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      dependencies: Record<string, { status: string; detail: string }>;
    };
    expect(body.status).toBe('ready');
    // UDP cannot say whether anything listens: never `ok` for what was not checked. The agent's /info was.
    expect(body.dependencies.metrics).toEqual({
      status: 'unverified',
      detail: expect.stringMatching(/^DogStatsD udp:\/\/127\.0\.0\.1:\d+: no send error .* over UDP nothing says/),
    });
    expect(body.dependencies.tracer!.status).toBe('ok');
    expect(body.dependencies.datadogApi!.status).toBe('unconfigured');
  });

  it('emits the request metrics with bounded tags and the unified service tags', async () => {
    await fetch(`${service.url}/health/ready`);
    const lines = await statsd.waitFor(
      (ls) =>
        ls.some((l) => l.name === 'http.request.duration_ms' && l.tags.includes('route:/health/ready')) &&
        ls.some((l) => l.name === 'http.request.count' && l.tags.includes('route:/health/ready')),
    );
    const count = lines.find((l) => l.name === 'http.request.count' && l.tags.includes('route:/health/ready'))!;
    expect(count.type).toBe('c');
    expect(count.tags).toEqual(
      expect.arrayContaining(['method:get', 'status_class:2xx', 'env:e2e', 'service:lrcp-e2e', 'version:0.1.0']),
    );
    const duration = lines.find((l) => l.name === 'http.request.duration_ms')!;
    expect(duration.type).toBe('d');
    // Liveness is opted out.
    expect(lines.some((l) => l.tags.includes('route:/health'))).toBe(false);
    // No tag carries a trace id, a raw URL with a query, or another unbounded value.
    for (const line of lines.filter((l) => l.name.startsWith('http.'))) {
      for (const tag of line.tags) expect(tag).toMatch(/^(env|service|version|route|method|status_class):/);
    }
    for (const line of lines) for (const tag of line.tags) expect(tag).not.toMatch(/[?]|\d{12,}/);
  });

  it("sends the process's runtime gauges: event loop, memory, GC", async () => {
    const names = [
      'runtime.event_loop.utilization',
      'runtime.event_loop.delay.p99_ms',
      'runtime.event_loop.delay.max_ms',
      'runtime.memory.heap_used_bytes',
      'runtime.memory.rss_bytes',
    ];
    const lines = await statsd.waitFor((ls) => names.every((n) => ls.some((l) => l.name === n)));
    for (const name of names) {
      const line = lines.find((l) => l.name === name)!;
      expect(line.type).toBe('g');
      expect(line.value).toBeGreaterThanOrEqual(0);
      expect(line.tags).toEqual(expect.arrayContaining(['env:e2e', 'service:lrcp-e2e']));
    }
    const utilization = lines.filter((l) => l.name === 'runtime.event_loop.utilization').map((l) => l.value);
    for (const u of utilization) expect(u).toBeLessThanOrEqual(1);
    expect(lines.find((l) => l.name === 'runtime.memory.rss_bytes')!.value).toBeGreaterThan(50 * 2 ** 20);
  });

  it('sends a trace whose request span is named after its route (METHOD /route)', async () => {
    await fetch(`${service.url}/health/ready`);
    const span = await agent.waitForSpan((s) => s.resource === 'GET /health/ready');
    expect(span.service).toBe('lrcp-e2e');
    expect(span.meta['http.route']).toBe('/health/ready');
    expect(span.meta['http.method']).toBe('GET');
    expect(span.meta['http.status_code']).toBe('200');
    expect(span.meta.env).toBe('e2e');
    // The http integration's own server span, tagged by the interceptor (not a second span opened by us).
    expect(span.name).toBe('web.request');
    expect(span.meta['span.kind']).toBe('server');
    expect(span.meta['http.url']).toContain('/health/ready');
  });

  it('writes one JSON log line per controller call with trace ids', async () => {
    const before = service.logs().length;
    await fetch(`${service.url}/health/ready`);
    const line = await service.waitForLog((l) => l.handler === 'HealthController.readiness', 5000, before);
    expect(line.message).toBe('request completed');
    expect(line.dd?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(line.dd?.span_id).toMatch(/^\d+$/);
    expect(line.dd?.service).toBe('lrcp-e2e');
    expect(line.http).toEqual({ method: 'GET', route: '/health/ready', status_code: 200 });
  });

  it('answers unknown routes with a 404 problem+json carrying the trace id, counted under route "unmatched"', async () => {
    const res = await fetch(`${service.url}/no/such/route?user=42`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 404, code: 'NOT_FOUND', title: 'Not found', instance: '/no/such/route' });
    expect(body.type).toMatch(/^urn:lrcp:problem:not-found$/);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    await statsd.waitFor((ls) =>
      ls.some(
        (l) =>
          l.name === 'http.request.count' && l.tags.includes('route:unmatched') && l.tags.includes('status_class:4xx'),
      ),
    );
    expect(statsd.lines.some((l) => l.tags.some((t) => t.includes('no/such')))).toBe(false);
  });

  it('answers a known path with the wrong method with 405 and Allow, not 404', async () => {
    const wrong = await fetch(`${service.url}/reason?simulate_retry=true`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(wrong.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await wrong.json()).toMatchObject({
      code: 'METHOD_NOT_ALLOWED',
      detail: 'GET is not allowed on /reason: use POST.',
      allow: ['POST'],
    });
    const health = await fetch(`${service.url}/health`, { method: 'DELETE' });
    expect(health.status).toBe(405);
    expect(health.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers a missing file under /docs with 404, for GET and HEAD alike', async () => {
    // The Swagger UI static route takes GET and HEAD on /docs/*: a file it does not have is not found for both.
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${service.url}/docs/nope.js`, { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('allow')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(((await (await fetch(`${service.url}/docs/nope.js`)).json()) as { code: string }).code).toBe('NOT_FOUND');
  });

  it('serves Swagger UI at /docs and the OpenAPI document at /docs-json', async () => {
    const ui = await fetch(`${service.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const doc = (await (await fetch(`${service.url}/docs-json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const item of Object.values(doc.paths))
      for (const op of Object.values(item)) expect(op.operationId).toBeTruthy();
    // The origin service's path for the same document (clients generated against it fetch it there).
    const alias = await fetch(`${service.url}/openapi.json`);
    expect(alias.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await alias.json()).toEqual(doc);
  });
});

describe('foundation: with nothing listening on the DogStatsD and trace-agent ports', () => {
  it('still answers quickly and logs no error storm', async () => {
    // Two ports that were just free: bind, read the port, close.
    const statsd = await new DogStatsdReceiver().start();
    const agent = await new TraceAgentReceiver().start();
    const [statsdPort, agentUrl] = [statsd.port, agent.url];
    await statsd.close();
    await agent.close();
    const service = await new ServiceProcess({
      DD_DOGSTATSD_PORT: String(statsdPort),
      DD_TRACE_AGENT_URL: agentUrl,
      STATSD_FLUSH_INTERVAL_MS: '20',
    }).start();
    try {
      // The storm would come from the sends to the closed ports, after the boot: the boot's own notices (no --expose-gc,
      // assets not built, auth off) are not part of it.
      const bootLines = service.logs().length;
      const timings: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t0 = performance.now();
        const res = await fetch(`${service.url}/health/ready`);
        timings.push(performance.now() - t0);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      timings.sort((a, b) => a - b);
      // A hang guard, not a speed test: a blocking send or a connect timeout would hold every probe for a second or
      // more; a loaded runner answers a probe in a few ms.
      expect(timings[Math.floor(timings.length / 2)]).toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 2500)); // let the tracer try to flush to the closed port
      const errorLines = service
        .logs()
        .slice(bootLines)
        .filter((l) => l.level === 'error' || l.level === 'warn');
      expect(errorLines.length).toBeLessThanOrEqual(2);
      expect(service.stderr.join('')).not.toMatch(/ECONNREFUSED.*\n.*ECONNREFUSED.*\n.*ECONNREFUSED/);
      // Readiness says the traces go nowhere (dd-trace itself stays silent), without failing the probe.
      const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
        status: string;
        dependencies: Record<string, { status: string; detail: string }>;
      };
      expect(ready.status).toBe('degraded');
      expect(ready.dependencies.tracer).toEqual({
        status: 'degraded',
        detail: expect.stringMatching(/^cannot reach the agent at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED: traces/),
      });
    } finally {
      await service.stop();
    }
  });
});

describe('foundation: configuration', () => {
  it('exits non-zero naming the bad variable', async () => {
    const proc = new ServiceProcess({ PORT: 'not-a-port', LOG_TRUNCATE_CHARS: '5' });
    const code = await proc.exitCode();
    expect(code).not.toBe(0);
    const stderr = proc.stderr.join('');
    expect(stderr).toContain('PORT');
    expect(stderr).toContain('LOG_TRUNCATE_CHARS');
  });

  it('never prints a secret value in a config error', async () => {
    const proc = new ServiceProcess({ DD_API_KEY: 'short', DD_TRACE_ENABLED: 'maybe' });
    expect(await proc.exitCode()).not.toBe(0);
    const stderr = proc.stderr.join('');
    expect(stderr).toContain('DD_API_KEY');
    expect(stderr).toContain('DD_TRACE_ENABLED');
    expect(stderr).not.toContain('short');
  });
});

describe('foundation: the committed OpenAPI document', () => {
  it('equals what the built service serves at /docs-json (run `npm run openapi:sync` after an API change)', async () => {
    const { readFileSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const committed = JSON.parse(readFileSync(resolve(__dirname, '../openapi/control-plane.json'), 'utf8')) as unknown;
    const service = await new ServiceProcess({ DD_TRACE_ENABLED: 'false' }).start();
    try {
      const served = await (await fetch(`${service.url}/docs-json`)).json();
      expect(served).toEqual(committed);
    } finally {
      await service.stop();
    }
  });

  it('passes the Redocly linter', async () => {
    const { spawnSync } = await import('node:child_process');
    const { resolve } = await import('node:path');
    const root = resolve(__dirname, '..');
    const cli = resolve(root, 'node_modules/@redocly/cli/bin/cli.js');
    const run = spawnSync(process.execPath, [cli, 'lint', 'openapi/control-plane.json', '--config', 'redocly.yaml'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    expect(`${run.stdout}${run.stderr}`).toContain('Your API description is valid');
    expect(run.status).toBe(0);
  });
});
