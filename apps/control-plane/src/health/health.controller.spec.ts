import type { AppConfig } from '@app/config';
import {
  type AgentProbe,
  type MetricsHealth,
  type MetricsPort,
  ReadinessRegistry,
  type TracerPort,
  type TracerStatus,
} from '@app/telemetry';
import { HealthController } from './health.controller';

interface Setup {
  metrics?: Partial<MetricsHealth>;
  tracer?: TracerStatus;
  agent?: AgentProbe;
  datadogConfigured?: boolean;
  apiUrl?: string;
}

function readiness(setup: Setup = {}): ReturnType<HealthController['readiness']> {
  const config = {
    service: { name: 'lrcp', env: 'test', version: '0.0.0' },
    datadog: { configured: setup.datadogConfigured ?? false, apiUrl: setup.apiUrl ?? 'https://api.datadoghq.eu' },
  } as unknown as AppConfig;
  const health: MetricsHealth = { ok: true, target: 'udp://127.0.0.1:8125', sendErrors: 0, ...setup.metrics };
  const metrics = { health: () => health } as unknown as MetricsPort;
  const tracer = {
    status: () => setup.tracer ?? { enabled: true, agentUrl: 'http://127.0.0.1:8126', llmobsEnabled: true },
    probeAgent: () => Promise.resolve(setup.agent),
  } as unknown as TracerPort;
  return new HealthController(config, metrics, tracer, new ReadinessRegistry()).readiness();
}

describe('HealthController readiness: ok only for what was checked', () => {
  it('says DogStatsD over UDP is unverified, not ok, while no send failed', async () => {
    const ready = await readiness({ agent: { reachable: true, detail: 'agent answers' } });
    expect(ready.status).toBe('ready');
    expect(ready.dependencies.metrics).toEqual({
      status: 'unverified',
      detail:
        'DogStatsD udp://127.0.0.1:8125: no send error in the last minute, but over UDP nothing says whether anything listens',
    });
  });

  it('says degraded when sends failed, and ok for a target whose delivery is known', async () => {
    const failing = await readiness({
      metrics: { ok: false, sendErrors: 3, lastError: 'getaddrinfo ENOTFOUND agent' },
    });
    expect(failing.status).toBe('degraded');
    expect(failing.dependencies.metrics).toEqual({
      status: 'degraded',
      detail: 'DogStatsD udp://127.0.0.1:8125: 3 send errors, last: getaddrinfo ENOTFOUND agent',
    });
    const memory = await readiness({ metrics: { target: 'memory' } });
    expect(memory.dependencies.metrics).toEqual({ status: 'ok', detail: 'metrics to memory' });
  });

  it('says the tracer is ok only when the agent answered its probe', async () => {
    const answered = await readiness({ agent: { reachable: true, detail: 'agent answers' } });
    expect(answered.dependencies.tracer!.status).toBe('ok');
    expect(answered.dependencies.tracer!.detail).toContain('/info answers');

    const silent = await readiness({ agent: { reachable: false, detail: 'cannot reach the agent: ECONNREFUSED' } });
    expect(silent.dependencies.tracer!.status).toBe('degraded');
    expect(silent.status).toBe('degraded');

    const unprobed = await readiness({ agent: undefined });
    expect(unprobed.dependencies.tracer).toMatchObject({
      status: 'unverified',
      detail: expect.stringContaining('not probed'),
    });

    const off = await readiness({ tracer: { enabled: false, llmobsEnabled: false } });
    expect(off.dependencies.tracer!.status).toBe('disabled');
  });

  it('says configured Datadog API keys are unverified (nothing checks them), missing ones unconfigured', async () => {
    expect((await readiness({ datadogConfigured: true })).dependencies.datadogApi).toEqual({
      status: 'unverified',
      detail: 'keys configured for https://api.datadoghq.eu; not checked (readiness does not call the API)',
    });
    expect((await readiness()).dependencies.datadogApi!.status).toBe('unconfigured');
  });

  it('shows configured URLs without their user information or query: the probe is public', async () => {
    const ready = await readiness({
      datadogConfigured: true,
      apiUrl: 'https://dd-user:proxy-pass@127.0.0.1:8443/datadog?token=t0k3n',
      tracer: { enabled: true, agentUrl: 'http://agent:agent-pass@127.0.0.1:8126', llmobsEnabled: false },
    });
    const shown = JSON.stringify(ready);
    for (const secret of ['proxy-pass', 'dd-user', 't0k3n', 'agent-pass']) expect(shown).not.toContain(secret);
    expect(ready.dependencies.datadogApi!.detail).toContain('https://127.0.0.1:8443/datadog;');
    expect(ready.dependencies.tracer!.detail).toContain('dd-trace sending to http://127.0.0.1:8126,');
  });
});
