import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnixDogStatsdReceiver } from './support/dogstatsd-receiver';
import { post } from './support/http';
import { ServiceProcess } from './support/service-process';
import { TraceAgentReceiver } from './support/trace-agent-receiver';

/**
 * The agent's unix sockets, as Datadog's Kubernetes admission controller (socket mode) and Helm chart inject them:
 * DD_TRACE_AGENT_URL=unix:///var/run/datadog/apm.socket and DD_DOGSTATSD_URL=unix:///var/run/datadog/dsd.socket.
 * Before, the start refused DD_TRACE_AGENT_URL (the pod never started) and DD_DOGSTATSD_URL was not read at all.
 * Here the built service sends its traces, LLM Observability events and metrics to a real HTTP server and a real
 * datagram socket bound to paths in a temporary folder.
 */
describe("the built service with the agent's unix sockets (DD_TRACE_AGENT_URL and DD_DOGSTATSD_URL unix:///…)", () => {
  let dir: string;
  let agent: TraceAgentReceiver;
  let statsd: UnixDogStatsdReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lrcp-agent-'));
    agent = await new TraceAgentReceiver().start(join(dir, 'apm.socket'));
    statsd = await new UnixDogStatsdReceiver(join(dir, 'dsd.socket')).start();
    service = await new ServiceProcess({
      DD_TRACE_AGENT_URL: agent.url,
      DD_DOGSTATSD_URL: statsd.url,
      // The UDP address the URL wins over: nothing may go there.
      DD_AGENT_HOST: '127.0.0.1',
      DD_DOGSTATSD_PORT: '9',
      STATSD_FLUSH_INTERVAL_MS: '50',
      LLMOBS_KEEP: 'all',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    await agent?.close();
    await statsd?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends spans, LLM Observability events and metrics over the sockets; readiness and the start say where', async () => {
    const question = 'Which river flows through the socket test city?';
    expect((await post(`${service.url}/qa`, { question })).status).toBe(200);

    const span = await agent.waitForSpan((s) => s.name === 'llm.request' || s.resource.includes('/qa'));
    expect(span).toBeDefined();
    const events = await agent.waitForLlmObs((spans) =>
      spans.some((s) => s.meta.input.value?.includes(question) === true || JSON.stringify(s).includes(question)),
    );
    expect(events.length).toBeGreaterThan(0);
    await statsd.waitFor((lines) => lines.some((l) => l.name === 'llm.request.count'));

    const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
      dependencies: Record<string, { status: string; detail: string }>;
    };
    expect(ready.dependencies.tracer).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(`${agent.url}, /info answers`) as unknown,
    });
    expect(ready.dependencies.metrics!.detail).toContain(statsd.url);
    const startup = service.logs().find((l) => l.context === 'Bootstrap')?.startup as { datadog?: unknown } | undefined;
    expect(startup?.datadog).toMatchObject({ dogstatsd: statsd.url, traceAgent: agent.url });
  });
});
