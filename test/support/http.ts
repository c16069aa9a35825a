import { DogStatsdReceiver } from './dogstatsd-receiver';
import { ServiceProcess } from './service-process';
import { TraceAgentReceiver } from './trace-agent-receiver';

/** The body of /qa, /reason and /stress answers, loosely typed for assertions. */
export interface LlmBody {
  answer: string;
  metadata: Record<string, unknown> & { quality?: Record<string, unknown>; safety?: Record<string, unknown> };
}

/** POSTs JSON. */
export const post = (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** The built service wired to a real DogStatsD socket and a real trace agent, all on loopback. */
export interface TelemetryStack {
  statsd: DogStatsdReceiver;
  agent: TraceAgentReceiver;
  service: ServiceProcess;
  stop(): Promise<void>;
}

export async function startWithTelemetry(env: Record<string, string> = {}): Promise<TelemetryStack> {
  const statsd = await new DogStatsdReceiver().start();
  const agent = await new TraceAgentReceiver().start();
  const service = await new ServiceProcess({
    DD_DOGSTATSD_PORT: String(statsd.port),
    DD_TRACE_AGENT_URL: agent.url,
    ...env,
  }).start();
  return {
    statsd,
    agent,
    service,
    async stop() {
      await service.stop();
      await statsd.close();
      await agent.close();
    },
  };
}
