import type { MetricDefinition } from '@app/telemetry';
import { allMetrics } from '../scripts/metric-catalogues';
import { DogStatsdReceiver } from './support/dogstatsd-receiver';
import { FakeGeminiServer } from './support/fake-gemini-server';
import { type LlmBody, post } from './support/http';
import { ServiceProcess } from './support/service-process';
import { type LlmObsSpan, TraceAgentReceiver } from './support/trace-agent-receiver';

const GLOBAL_TAGS = ['env', 'service', 'version'];
const STATSD_TYPE: Record<MetricDefinition['type'], string> = { count: 'c', distribution: 'd', gauge: 'g' };

/**
 * What Datadog receives for the calls a user most needs to debug: a retried call, a failed call and a successful one,
 * captured from a loopback agent (APM msgpack, LLM Observability JSON, evaluations) and DogStatsD socket, with the
 * Gemini adapter against a loopback Gemini server.
 */
describe('what Datadog receives for a retried, a failed and a successful call (built service, loopback agent)', () => {
  let gemini: FakeGeminiServer;
  let agent: TraceAgentReceiver;
  let statsd: DogStatsdReceiver;
  let service: ServiceProcess;
  const retried = { question: 'Which ocean is the deepest one on Earth?' };
  const failed = { question: 'How many moons does Neptune have today?' };
  const answered = { question: 'Why is the sky blue during the day?', document: 'The sky is blue by day.' };
  let retriedBody: LlmBody;
  let answeredBody: LlmBody;
  let failedStatus: number;

  beforeAll(async () => {
    gemini = await new FakeGeminiServer().start();
    agent = await new TraceAgentReceiver().start();
    statsd = await new DogStatsdReceiver().start();
    service = await new ServiceProcess({
      DD_TRACE_AGENT_URL: agent.url,
      DD_DOGSTATSD_PORT: String(statsd.port),
      STATSD_FLUSH_INTERVAL_MS: '20',
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'test-gemini-key-123',
      LLM_BASE_URL: gemini.url,
      LLM_MODEL: 'gemini-2.5-flash',
      LLM_MAX_RETRIES: '1',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
      // The successful call's event and evaluations are checked too: every call is sent.
      LLMOBS_KEEP: 'all',
    }).start();
    gemini.enqueue({ type: 'error', status: 503 }, { type: 'answer', text: 'The Pacific Ocean is the deepest.' });
    retriedBody = (await (await post(`${service.url}/qa`, retried)).json()) as LlmBody;
    gemini.enqueue({ type: 'error', status: 500 }, { type: 'error', status: 500 });
    failedStatus = (await post(`${service.url}/qa`, failed)).status;
    gemini.enqueue({ type: 'answer', text: 'Because sunlight scatters; the sky is blue by day.' });
    answeredBody = (await (await post(`${service.url}/qa`, answered)).json()) as LlmBody;
    await fetch(`${service.url}/health`);
    await fetch(`${service.url}/no-such-route`);
  });

  afterAll(async () => {
    await service?.stop();
    await gemini?.close();
    await agent?.close();
    await statsd?.close();
  });

  /** The call's LLM Observability trace: its workflow span and its attempts (found by the prompt they carry). */
  async function traceOf(question: string, attempts: number): Promise<{ workflow: LlmObsSpan; llm: LlmObsSpan[] }> {
    const mine = (spans: LlmObsSpan[]) =>
      spans.filter(
        (s) =>
          s.meta.input.value?.includes(question) ||
          s.meta.input.messages?.some((m) => m.content.includes(question)) === true,
      );
    const spans = mine(
      await agent.waitForLlmObs((all) => {
        const found = mine(all);
        return found.filter((s) => s.meta['span.kind'] === 'llm').length >= attempts && found.length > attempts;
      }),
    );
    const workflow = spans.find((s) => s.meta['span.kind'] === 'workflow')!;
    const llm = spans.filter((s) => s.meta['span.kind'] === 'llm');
    return { workflow, llm };
  }

  it('shows a retried call as one workflow trace with its two attempts, each with its input', async () => {
    expect(retriedBody.metadata).toMatchObject({ retry_count: 1 });
    const { workflow, llm } = await traceOf(retried.question, 2);
    expect(workflow).toMatchObject({ name: 'qa', status: 'ok', parent_id: 'undefined' });
    expect(workflow.meta.input.value).toContain(retried.question);
    expect(workflow.meta.output.value).toBe('The Pacific Ocean is the deepest.');
    expect(llm).toHaveLength(2);
    for (const attempt of llm) {
      expect(attempt.trace_id).toBe(workflow.trace_id);
      expect(attempt.parent_id).toBe(workflow.span_id);
      expect(attempt.name).toBe('llm.generate');
      expect(attempt.meta.model_provider).toBe('google');
      expect(attempt.meta.input.messages).toEqual([
        { role: 'user', content: expect.stringContaining(retried.question) },
      ]);
    }
    const failedAttempt = llm.find((s) => s.status === 'error')!;
    const answeringAttempt = llm.find((s) => s.status === 'ok')!;
    expect(failedAttempt.tags).toEqual(expect.arrayContaining(['error_type:server', 'upstream_status:503']));
    expect(failedAttempt.meta.output).toEqual({});
    expect(answeringAttempt.meta.output.messages).toEqual([
      { role: 'assistant', content: 'The Pacific Ocean is the deepest.' },
    ]);
    expect(answeringAttempt.meta.metadata).toMatchObject({ finish_reasons: ['STOP'] });
  });

  it('shows a failed call as an errored workflow whose attempts carry their input and their error kind', async () => {
    expect(failedStatus).toBe(502);
    const { workflow, llm } = await traceOf(failed.question, 2);
    expect(workflow).toMatchObject({ name: 'qa', status: 'error' });
    // The workflow is found by the kind of its failure, as its attempts are, not by the exception's class.
    expect(workflow.tags).toEqual(expect.arrayContaining(['error_type:server', 'upstream_status:500']));
    expect(workflow.tags.filter((t) => t.startsWith('error_type:'))).toEqual(['error_type:server']);
    expect(llm).toHaveLength(2);
    for (const attempt of llm) {
      expect(attempt).toMatchObject({ status: 'error', parent_id: workflow.span_id });
      expect(attempt.meta.input.messages?.[0]?.content).toContain(failed.question);
      expect(attempt.tags).toEqual(expect.arrayContaining(['error_type:server', 'upstream_status:500']));
    }
    // APM: the attempt spans carry the kind and the upstream status; their resource splits trace metrics by model.
    const apm = await agent.waitForSpan(
      (s) => s.name === 'llm.generate' && s.error === 1 && s.meta['llm.error_type'] === 'server',
    );
    expect(apm.resource).toBe('gemini.gemini-2.5-flash');
    expect(Number(apm.metrics['llm.upstream_status'] ?? apm.meta['llm.upstream_status'])).toBeGreaterThanOrEqual(500);
    const call = await agent.waitForSpan((s) => s.name === 'llm.call' && s.error === 1);
    expect(call).toMatchObject({ resource: 'qa' });
    expect(call.meta['llm.error_type']).toBe('server');
  });

  it("puts the call's evaluations on its workflow span and on the attempt that answered", async () => {
    const { workflow, llm } = await traceOf(answered.question, 1);
    const evaluations = await (async () => {
      for (let i = 0; i < 100; i++) {
        const found = agent.evaluations().filter((e) => e.label === 'quality_score');
        const on = (span: LlmObsSpan) => found.filter((e) => e.join_on.span.span_id === span.span_id);
        if (on(workflow).length > 0 && on(llm[0]!).length > 0) return { workflow: on(workflow), attempt: on(llm[0]!) };
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`evaluations not joined: ${JSON.stringify(agent.evaluations())}`);
    })();
    expect(evaluations.workflow[0]!.join_on.span.trace_id).toBe(workflow.trace_id);
    expect(evaluations.workflow[0]!.score_value).toBe(evaluations.attempt[0]!.score_value);
    expect(answeredBody.answer).toContain('sky is blue');
    expect(evaluations.attempt).toHaveLength(1);
  });

  it('names web spans after their route (POST /qa, GET /health) and unrouted ones after their status', async () => {
    const qa = await agent.waitForSpan((s) => s.name === 'web.request' && s.meta['http.route'] === '/qa');
    expect(qa.resource).toBe('POST /qa');
    expect(qa.meta).toMatchObject({ 'nest.controller': 'LlmController', 'nest.handler': 'qa' });
    expect((await agent.waitForSpan((s) => s.meta['http.route'] === '/health')).resource).toBe('GET /health');
    expect((await agent.waitForSpan((s) => s.name === 'web.request' && s.resource.endsWith(' 404'))).resource).toBe(
      'GET 404',
    );
    expect(agent.spans.filter((s) => s.name === 'web.request' && /^[A-Z]+$/.test(s.resource))).toEqual([]);
  });

  it("gives every log line one status, its level: Datadog takes a line's `status` attribute as its log status", async () => {
    await service.waitForLog((l) => l.message === 'llm call failed');
    await service.waitForLog((l) => l.message === 'llm call completed');
    const lines = service.stdout.filter((raw) => raw.startsWith('{'));
    expect(lines.length).toBeGreaterThan(5);
    for (const raw of lines) {
      const line = JSON.parse(raw) as { level: string; status: string; message: string };
      // A second `status` key (the call's outcome: ok, error, aborted...) made the same line `warn` and `error`, or
      // `info` and `aborted`, which Datadog reads as ALERT.
      expect({ message: line.message, statuses: raw.match(/"status":/g)?.length, status: line.status }).toEqual({
        message: line.message,
        statuses: 1,
        status: line.level,
      });
    }
    const failed = service.logs().find((l) => l.message === 'llm call failed')!;
    expect(failed).toMatchObject({ level: 'warn', status: 'warn', call_status: 'error', error_type: 'server' });
  });

  it('emits only catalogued metrics and tags, and counts a failed call as a failure to answer', async () => {
    const lines = await statsd.waitFor((ls) =>
      ls.some((l) => l.name === 'llm.failure_to_answer.count' && l.tags.includes('status:error')),
    );
    const catalogue = new Map(allMetrics().map((m) => [m.name, m]));
    // dd-trace's own health metrics (if any) are the tracer's, not the service's catalogue.
    const ours = lines.filter((l) => !l.name.startsWith('datadog.'));
    expect(ours.length).toBeGreaterThan(10);
    for (const line of ours) {
      const definition = catalogue.get(line.name);
      expect({ line: line.raw, declared: definition !== undefined }).toEqual({ line: line.raw, declared: true });
      expect({ line: line.raw, type: line.type }).toEqual({ line: line.raw, type: STATSD_TYPE[definition!.type] });
      const allowed = new Set([...GLOBAL_TAGS, ...definition!.tags]);
      const undeclared = line.tags.map((t) => t.slice(0, t.indexOf(':'))).filter((key) => !allowed.has(key));
      expect({ line: line.raw, undeclared }).toEqual({ line: line.raw, undeclared: [] });
    }
    const failure = ours.find((l) => l.name === 'llm.failure_to_answer.count' && l.tags.includes('status:error'))!;
    expect(failure.tags).toEqual(expect.arrayContaining(['endpoint:qa', 'provider:gemini', 'model:gemini-2.5-flash']));
  });
});
