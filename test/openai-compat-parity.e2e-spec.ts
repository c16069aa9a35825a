import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import type { StatsdLine } from './support/dogstatsd-receiver';
import { type LlmBody, post, startWithTelemetry, type TelemetryStack } from './support/http';
import type { LlmObsSpan } from './support/trace-agent-receiver';

/** A metric line without what differs between two calls of two endpoints: the endpoint tag, and timings. */
function shape(line: StatsdLine): string {
  const timed = /latency|duration|time_to_first/.test(line.name);
  const tags = line.tags.filter((t) => !t.startsWith('endpoint:') && !t.startsWith('latency_slo:')).sort();
  return `${line.name}|${line.type}|${tags.join(',')}|${timed ? '*' : line.value}`;
}

/** An LLM Observability span's shape: its kind, message roles, metadata and metric keys, tag keys and status. */
function spanShape(span: LlmObsSpan): unknown {
  return {
    kind: span.meta['span.kind'],
    status: span.status,
    model: span.meta.model_name,
    provider: span.meta.model_provider,
    input: span.meta.input.messages?.map((m) => m.role) ?? typeof span.meta.input.value,
    output: span.meta.output.messages?.map((m) => m.role) ?? typeof span.meta.output.value,
    metadata: Object.keys(span.meta.metadata ?? {}).sort(),
    metrics: Object.keys(span.metrics ?? {}).sort(),
    tags: [...new Set(span.tags.map((t) => t.split(':')[0]))].sort(),
  };
}

/**
 * The same call through `/v1/chat/completions` (the official openai SDK) and through `/reason`: the same metrics
 * (but for the endpoint tag), the same ledger row (but for the endpoint, time and ids) and the same LLM Observability
 * spans (a workflow named after the endpoint, one llm span under it), on the simulated provider.
 */
describe('/v1/chat/completions and /reason record the same call alike (simulated provider, loopback receivers)', () => {
  let stack: TelemetryStack;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-openai-parity-'));
    stack = await startWithTelemetry({
      DATA_DIR: dataDir,
      STATSD_FLUSH_INTERVAL_MS: '20',
      SIM_LATENCY_MEDIAN_MS: '20',
      SIM_LATENCY_SIGMA: '0',
      // Both routes' ordinary calls are compared in LLM Observability: every call is sent.
      LLMOBS_KEEP: 'all',
    });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the simulated provider through the SDK and matches /reason in metrics, ledger and spans', async () => {
    const { service, statsd, agent } = stack;
    const prompt = 'Why do leaves change colour in autumn?';
    const reason = (await (await post(`${service.url}/reason`, { prompt })).json()) as LlmBody;
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const { data: chat, response } = await openai.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: prompt }] })
      .withResponse();

    // The simulated provider answers the same text for the same prompt, and says it is simulated.
    expect(chat.choices[0]!.message.content).toBe(reason.answer);
    expect(response.headers.get('x-control-plane-simulated')).toBe('true');
    expect(chat.usage).toMatchObject({
      prompt_tokens: reason.metadata.input_tokens,
      completion_tokens: reason.metadata.output_tokens,
    });
    expect(Number(response.headers.get('x-control-plane-cost-usd'))).toBe(reason.metadata.cost_usd);
    expect(Number(response.headers.get('x-control-plane-quality-score'))).toBeCloseTo(
      (reason.metadata.quality as { score: number }).score,
      3,
    );

    // Metrics: the same series and values, the endpoint tag aside.
    const of = (endpoint: string) => (ls: StatsdLine[]) => ls.filter((l) => l.tags.includes(`endpoint:${endpoint}`));
    await statsd.waitFor((ls) => of('chat')(ls).some((l) => l.name === 'llm.request.count'));
    await statsd.waitFor((ls) => of('chat')(ls).some((l) => l.name === 'llm.quality.score'));
    await new Promise((r) => setTimeout(r, 200));
    const reasonLines = of('reason')(statsd.lines).map(shape).sort();
    const chatLines = of('chat')(statsd.lines).map(shape).sort();
    expect(reasonLines.length).toBeGreaterThan(8);
    expect(chatLines).toEqual(reasonLines);
    expect(chatLines.some((l) => l.startsWith('llm.cost.usd|'))).toBe(true);

    // LLM Observability: a workflow span named after the endpoint, an llm span under it, of one shape.
    const spans = await agent.waitForLlmObs(
      (all) => all.some((s) => s.name === 'chat') && all.some((s) => s.name === 'reason') && all.length >= 4,
    );
    const pair = (name: string): [LlmObsSpan, LlmObsSpan] => {
      const workflow = spans.find((s) => s.name === name)!;
      const llm = spans.find((s) => s.parent_id === workflow.span_id)!;
      return [workflow, llm];
    };
    const [reasonWorkflow, reasonLlm] = pair('reason');
    const [chatWorkflow, chatLlm] = pair('chat');
    expect(spanShape(chatWorkflow)).toEqual(spanShape(reasonWorkflow));
    expect(spanShape(chatLlm)).toEqual(spanShape(reasonLlm));
    expect(chatLlm.meta.input.messages).toEqual(reasonLlm.meta.input.messages);
    expect(chatLlm.meta.output.messages).toEqual(reasonLlm.meta.output.messages);

    // The ledger (written at the latest on stop): the same row, the endpoint, times and ids aside.
    expect(await service.stop()).toBe(143);
    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT * FROM usage_records ORDER BY endpoint').all() as Record<string, unknown>[];
      expect(rows.map((r) => r.endpoint)).toEqual(['chat', 'reason']);
      const strip = (row: Record<string, unknown>): Record<string, unknown> => {
        const { id: _id, ts: _ts, latency_ms: _l, prompt_id: _p, trace_id: _t, endpoint: _e, ...rest } = row;
        return rest;
      };
      expect(strip(rows[0]!)).toEqual(strip(rows[1]!));
      expect(rows[0]!.prompt_id).toBe(response.headers.get('x-control-plane-prompt-id'));
    } finally {
      db.close();
    }
  }, 60_000);
});
