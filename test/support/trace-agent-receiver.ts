import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode } from '@msgpack/msgpack';

export interface ReceivedSpan {
  name: string;
  resource: string;
  service: string;
  type?: string;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  trace_id: unknown;
  span_id: unknown;
  parent_id: unknown;
}

/** A span as LLM Observability receives it (the JSON events of `/evp_proxy/v2/api/v2/llmobs`). */
export interface LlmObsSpan {
  trace_id: string;
  span_id: string;
  parent_id: string;
  name: string;
  status: 'ok' | 'error';
  tags: string[];
  meta: {
    'span.kind': string;
    model_provider?: string;
    model_name?: string;
    input: { value?: string; messages?: { role: string; content: string }[] };
    output: { value?: string; messages?: { role: string; content: string }[] };
    metadata?: Record<string, unknown>;
    'error.message'?: string;
    'error.type'?: string;
  };
  metrics?: Record<string, number>;
  _dd?: { apm_trace_id?: string; span_id?: string; trace_id?: string };
}

/** An evaluation as LLM Observability receives it, joined to a span. */
export interface LlmObsEvaluation {
  label: string;
  metric_type: string;
  join_on: { span: { span_id: string; trace_id: string } };
  score_value?: number;
  boolean_value?: boolean;
}

export interface ReceivedPayload {
  path: string;
  body: Buffer;
}

/**
 * A real HTTP server on 127.0.0.1 speaking the Datadog agent's trace intake: `PUT /v0.4/traces` (msgpack),
 * `/info`, and the EVP proxy used by LLM Observability. Everything received is kept for assertions.
 */
export class TraceAgentReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly payloads: ReceivedPayload[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  port = 0;
  /** Set when it listens on a unix socket, as the agent's `/var/run/datadog/apm.socket`. */
  socketPath?: string;

  get url(): string {
    return this.socketPath ? `unix://${this.socketPath}` : `http://127.0.0.1:${this.port}`;
  }

  async start(socketPath?: string): Promise<this> {
    if (socketPath) {
      await new Promise<void>((resolve) => this.server.listen(socketPath, resolve));
      this.socketPath = socketPath;
      return this;
    }
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** All received bytes as text (for "this value never left the process" checks). */
  allText(): string {
    return this.payloads.map((p) => p.body.toString('latin1')).join('\n');
  }

  async waitForSpan(predicate: (span: ReceivedSpan) => boolean, timeoutMs = 10_000): Promise<ReceivedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `span not received in ${timeoutMs} ms; got: ${this.spans.map((s) => `${s.name}/${s.resource}`).join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async waitForPayload(predicate: (payload: ReceivedPayload) => boolean, timeoutMs = 10_000): Promise<ReceivedPayload> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.payloads.find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`payload not received in ${timeoutMs} ms; got: ${this.payloads.map((p) => p.path).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every LLM Observability span received so far. */
  llmobsSpans(): LlmObsSpan[] {
    return this.jsonOf((p) => p.path.endsWith('/api/v2/llmobs')).flatMap((event) =>
      collect<LlmObsSpan>(event, (o) => typeof o.span_id === 'string' && typeof o.meta === 'object'),
    );
  }

  /** Every LLM Observability evaluation received so far. */
  evaluations(): LlmObsEvaluation[] {
    return this.jsonOf((p) => p.path.includes('eval-metric')).flatMap((event) =>
      collect<LlmObsEvaluation>(event, (o) => typeof o.label === 'string' && typeof o.join_on === 'object'),
    );
  }

  /** Waits until `predicate` holds for what LLM Observability received (its writer flushes every second). */
  async waitForLlmObs(predicate: (spans: LlmObsSpan[]) => boolean, timeoutMs = 10_000): Promise<LlmObsSpan[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const spans = this.llmobsSpans();
      if (predicate(spans)) return spans;
      if (Date.now() > deadline)
        throw new Error(`LLM Observability spans not received in ${timeoutMs} ms; got: ${JSON.stringify(spans)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private jsonOf(predicate: (payload: ReceivedPayload) => boolean): unknown[] {
    return this.payloads.filter(predicate).map((p) => JSON.parse(p.body.toString('utf8')) as unknown);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '').split('?')[0]!;
      this.payloads.push({ path, body });
      if (path === '/info') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            version: '7.60.0',
            endpoints: ['/v0.4/traces', '/v0.5/traces', '/evp_proxy/v2/', '/evp_proxy/v4/'],
            client_drop_p0s: false,
          }),
        );
        return;
      }
      if (path === '/v0.4/traces' && body.length > 0) {
        const traces = decode(body, { useBigInt64: true }) as ReceivedSpan[][];
        for (const trace of traces) this.spans.push(...trace);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ rate_by_service: {} }));
    });
  }
}

/** The objects of a decoded JSON payload (at any depth) that `is` recognises, not looking inside those. */
function collect<T>(value: unknown, is: (o: Record<string, unknown>) => boolean): T[] {
  if (Array.isArray(value)) return value.flatMap((v) => collect(v, is));
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  if (is(object)) return [object as T];
  return Object.values(object).flatMap((v) => collect(v, is));
}
