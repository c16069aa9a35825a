import { FakeGeminiServer } from './support/fake-gemini-server';
import { type LlmBody, post } from './support/http';
import { ServiceProcess } from './support/service-process';
import { type LlmObsSpan, TraceAgentReceiver } from './support/trace-agent-receiver';

/**
 * LLMOBS_KEEP on the real dd-trace, to the loopback trace agent: an ordinary fast good call sends its APM spans and no
 * LLM Observability event or evaluation (LLMOBS_KEEP=interesting, LLMOBS_KEEP_SHARE=0); a retried, a failed and a
 * PII-flagged call send theirs with all their attempts; LLMOBS_KEEP=all sends every call.
 */

const ordinary = { question: 'What is the capital of France?' };
const ORDINARY_ANSWER = 'Paris is the capital of France.';

async function start(env: Record<string, string>) {
  const gemini = await new FakeGeminiServer().start();
  const agent = await new TraceAgentReceiver().start();
  const service = await new ServiceProcess({
    DD_TRACE_AGENT_URL: agent.url,
    LLM_PROVIDER: 'gemini',
    GEMINI_API_KEY: 'test-gemini-key-123',
    LLM_BASE_URL: gemini.url,
    LLM_MODEL: 'gemini-2.5-flash',
    LLM_MAX_RETRIES: '1',
    LLM_RETRY_BASE_MS: '5',
    LLM_RETRY_MAX_MS: '20',
    ...env,
  }).start();
  return {
    gemini,
    agent,
    service,
    async stop() {
      await service.stop();
      await gemini.close();
      await agent.close();
    },
  };
}

/** The LLM Observability spans carrying `text` in their input. */
const carrying = (spans: LlmObsSpan[], text: string) =>
  spans.filter(
    (s) => s.meta.input.value?.includes(text) || s.meta.input.messages?.some((m) => m.content.includes(text)) === true,
  );

const kinds = (spans: LlmObsSpan[]) => spans.map((s) => s.meta['span.kind']).sort();

describe('LLMOBS_KEEP=interesting, LLMOBS_KEEP_SHARE=0 (built service, real dd-trace, loopback agent)', () => {
  let stack: Awaited<ReturnType<typeof start>>;
  const retried = { question: 'Which ocean is the deepest one on Earth?' };
  const failed = { question: 'How many moons does Neptune have today?' };
  const pii = { question: 'My card is 4111 1111 1111 1111: which planet is the largest?' };
  let ordinaryBody: LlmBody;
  let failedStatus: number;

  beforeAll(async () => {
    stack = await start({ LLMOBS_KEEP: 'interesting', LLMOBS_KEEP_SHARE: '0' });
    const { gemini, service } = stack;
    gemini.enqueue({ type: 'answer', text: ORDINARY_ANSWER });
    ordinaryBody = (await (await post(`${service.url}/qa`, ordinary)).json()) as LlmBody;
    gemini.enqueue({ type: 'error', status: 503 }, { type: 'answer', text: 'The Pacific Ocean is the deepest.' });
    await post(`${service.url}/qa`, retried);
    gemini.enqueue({ type: 'error', status: 500 }, { type: 'error', status: 500 });
    failedStatus = (await post(`${service.url}/qa`, failed)).status;
    gemini.enqueue({ type: 'answer', text: 'Jupiter is the largest planet.' });
    await post(`${service.url}/qa`, pii);
  });

  afterAll(() => stack?.stop());

  it('sends a retried, a failed and a PII-flagged call to LLM Observability, each with all its attempts', async () => {
    expect(failedStatus).toBe(502);
    const expected = [
      { question: retried.question, attempts: 2, reason: 'retry' },
      { question: failed.question, attempts: 2, reason: 'error' },
      // The prompt is sent redacted: found by the words after the card number.
      { question: 'which planet is the largest?', attempts: 1, reason: 'pii' },
    ];
    await stack.agent.waitForLlmObs((all) =>
      expected.every((e) => carrying(all, e.question).length === e.attempts + 1),
    );
    for (const { question, attempts, reason } of expected) {
      const spans = carrying(stack.agent.llmobsSpans(), question);
      expect(kinds(spans)).toEqual([...Array<string>(attempts).fill('llm'), 'workflow']);
      const workflow = spans.find((s) => s.meta['span.kind'] === 'workflow')!;
      expect(workflow.tags).toContain(`keep_reason:${reason}`);
      for (const attempt of spans.filter((s) => s !== workflow)) expect(attempt.parent_id).toBe(workflow.span_id);
    }
    expect(JSON.stringify(stack.agent.llmobsSpans())).not.toContain('4111 1111 1111 1111');
  });

  it('sends an ordinary fast good call as APM spans only: no LLM Observability event, no evaluation', async () => {
    expect(ordinaryBody.metadata.quality).toMatchObject({ label: 'good' });
    const promptId = String(ordinaryBody.metadata.prompt_id);
    const attempt = await stack.agent.waitForSpan(
      (s) => s.name === 'llm.generate' && s.meta['llm.prompt_id'] === promptId,
    );
    // An APM span as for a call outside LLMOBS_SAMPLE_RATE: GenAI attributes, dd-trace's span kind not written.
    expect(attempt.meta).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gemini-2.5-flash' });
    const call = await stack.agent.waitForSpan((s) => s.name === 'llm.call' && s.meta['llm.prompt_id'] === promptId);
    expect(call.meta['llm.llmobs_keep']).toBe('dropped');
    // The attempt was held open until the call's decision, then ended at its own end: within the call's span.
    const duration = (span: object) => Number((span as { duration?: number | bigint }).duration);
    expect(duration(attempt)).toBeGreaterThan(0);
    expect(duration(attempt)).toBeLessThanOrEqual(duration(call));
    // The kept calls' evaluations arrive (2 answered calls, each on its workflow and its attempt); then past two
    // more flushes of the writers, nothing about the ordinary call.
    await waitFor(() => stack.agent.evaluations().filter((e) => e.label === 'quality_score').length >= 4);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(carrying(stack.agent.llmobsSpans(), ordinary.question)).toEqual([]);
    const llmobs = stack.agent.payloads.filter((p) => p.path.includes('llmobs') || p.path.includes('eval-metric'));
    expect(llmobs.filter((p) => p.body.toString('utf8').includes(promptId))).toEqual([]);
    expect(llmobs.filter((p) => p.body.toString('utf8').includes(ORDINARY_ANSWER))).toEqual([]);
    expect(stack.agent.evaluations().filter((e) => e.label === 'quality_score')).toHaveLength(4);
  });
});

describe('LLMOBS_KEEP=all (built service, real dd-trace, loopback agent)', () => {
  let stack: Awaited<ReturnType<typeof start>>;

  beforeAll(async () => {
    stack = await start({ LLMOBS_KEEP: 'all' });
  });

  afterAll(() => stack?.stop());

  it('sends every call, the ordinary ones too, with their evaluations', async () => {
    stack.gemini.enqueue({ type: 'answer', text: ORDINARY_ANSWER });
    const body = (await (await post(`${stack.service.url}/qa`, ordinary)).json()) as LlmBody;
    expect(body.metadata.quality).toMatchObject({ label: 'good' });
    const spans = carrying(
      await stack.agent.waitForLlmObs((all) => carrying(all, ordinary.question).length === 2),
      ordinary.question,
    );
    expect(kinds(spans)).toEqual(['llm', 'workflow']);
    expect(spans.find((s) => s.meta['span.kind'] === 'workflow')!.tags).toContain('keep_reason:all');
    await waitFor(() => stack.agent.evaluations().filter((e) => e.label === 'quality_score').length >= 2);
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
