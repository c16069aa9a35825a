import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { post, startWithTelemetry, type TelemetryStack } from './support/http';

/**
 * What an upstream names of its own answer, the model (`model`) and the finish reason (`finish_reason`), is text from
 * outside like the answer: a proxy or a misbehaving server can put anything there (a key, an address, a megabyte).
 * It reaches the call's log line (`model_version`), its attempt span (`gen_ai.response.model`,
 * `gen_ai.response.finish_reasons`) and LLM Observability redacted and bounded, as the answer does; until
 * 2026-12-07 both went as sent, the finish reason at any length.
 */

const EMAIL = 'jane.canary@example.com';
const KEY = 'sk-proj-CanarySK0a1b2c3d4e5f6g7h8';
const LONG = 'x'.repeat(5000);

describe("an upstream's model name and finish reason in logs, spans and LLM Observability", () => {
  let upstream: FakeOpenAiServer;
  let stack: TelemetryStack;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'upstream-labels-'));
    upstream = await new FakeOpenAiServer().start();
    stack = await startWithTelemetry({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-4o-mini',
      LLMOBS_KEEP: 'all',
      DATA_DIR: dir,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redacts and bounds them, JSON and streamed', async () => {
    const claimed = { model: `gpt-4o-mini-${EMAIL}-${KEY}`, finishReason: `stop ${KEY} ${EMAIL} ${LONG}` };
    upstream.enqueue({ type: 'answer', text: 'fine', ...claimed });
    upstream.enqueue({ type: 'answer', text: 'fine', chunks: ['fi', 'ne'], ...claimed });
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
    expect((await post(`${stack.service.url}/v1/chat/completions`, body)).status).toBe(200);
    const streamed = await post(`${stack.service.url}/v1/chat/completions`, { ...body, stream: true });
    expect(streamed.status).toBe(200);
    await streamed.text();

    const lines = () => stack.service.logs().filter((l) => l.message === 'llm call completed');
    const llmobs = () => stack.agent.payloads.filter((p) => p.path.includes('llmobs'));
    const attempts = () => stack.agent.spans.filter((s) => s.meta?.['gen_ai.response.model'] !== undefined);
    const deadline = Date.now() + 20_000;
    while ((lines().length < 2 || llmobs().length === 0 || attempts().length < 2) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines()).toHaveLength(2);
    expect(attempts().length).toBeGreaterThanOrEqual(2);
    expect(llmobs().length).toBeGreaterThan(0);

    const texts = [
      ...lines().map((l) => JSON.stringify(l)),
      ...attempts().map((s) => JSON.stringify(s.meta)),
      ...llmobs().map((p) => p.body.toString('utf8')),
    ];
    for (const text of texts) {
      expect(text).not.toContain(EMAIL);
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('x'.repeat(300));
    }
    for (const line of lines()) expect(line.model_version).toBe('[REDACTED:EMAIL]-[REDACTED:SECRET]');
    for (const span of attempts()) expect(span.meta['gen_ai.response.finish_reasons']).toContain('[REDACTED:SECRET]');
  });

  it('takes a finish reason that is not a string as none, and answers', async () => {
    upstream.enqueue({
      type: 'raw',
      json: {
        id: 'chatcmpl-odd',
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [{ index: 0, finish_reason: { why: EMAIL }, message: { role: 'assistant', content: 'fine' } }],
      },
    });
    const res = await post(`${stack.service.url}/v1/chat/completions`, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(EMAIL);
  });
});
