import { DogStatsdReceiver } from './dogstatsd-receiver';
import { FakeOpenAiServer } from './fake-openai-server';
import { ServiceProcess } from './service-process';

/**
 * The built service with its calls held in flight: a loopback OpenAI-compatible upstream that never answers, and a
 * DogStatsD receiver taking the runtime gauges every 250 ms. For the memory e2e specs (calls in flight, the idle
 * memory release).
 */
export class CallsInFlight {
  readonly upstream = new FakeOpenAiServer();
  readonly statsd = new DogStatsdReceiver();
  service!: ServiceProcess;
  private readonly controller = new AbortController();
  private readonly pending: Promise<unknown>[] = [];

  /** Starts the upstream, the receiver and the service (with `env` over the memory specs' settings). */
  async start(env: Record<string, string>): Promise<this> {
    await this.upstream.start();
    this.upstream.setDefault({ type: 'hang' });
    await this.statsd.start();
    this.service = await new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: String(this.statsd.port),
      RUNTIME_METRICS_INTERVAL_MS: '250',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: this.upstream.url,
      LLM_MODEL: 'gpt-memory',
      LLM_TIMEOUT_MS: '60000',
      ML_REMOTE_EMBEDDINGS_SAMPLE_RATE: '0',
      ...env,
    }).start();
    return this;
  }

  /** Sends `n` calls to /reason and waits until the upstream holds them all. */
  async open(n: number, prompt: (i: number) => string): Promise<void> {
    const target = this.upstream.requests.length + n;
    for (let i = 0; i < n; i++) {
      this.pending.push(
        fetch(`${this.service.url}/reason`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: prompt(i) }),
          signal: this.controller.signal,
        }).catch(() => undefined),
      );
    }
    // A hang guard: 2,000 calls of 2 KB reached the upstream in 2-4 s here, and 1,265 in 15 s on a loaded runner.
    await this.upstream.waitForRequests(target, 60_000);
  }

  /** Their clients go away: every call opened so far is abandoned. */
  async abandon(): Promise<void> {
    this.controller.abort();
    await Promise.all(this.pending.splice(0));
  }

  /** The lowest sample of each gauge over the next `ms` (the live set, right after a collection). */
  async lowest<K extends string>(ms: number, names: readonly K[]): Promise<Record<K, number>> {
    const from = this.statsd.lines.length;
    await new Promise((r) => setTimeout(r, ms));
    const recent = this.statsd.lines.slice(from);
    const out = {} as Record<K, number>;
    for (const name of names) out[name] = Math.min(...recent.filter((l) => l.name === name).map((l) => l.value));
    return out;
  }

  async stop(): Promise<void> {
    await this.abandon();
    await this.service?.stop();
    await this.upstream.close();
    await this.statsd.close();
  }
}
