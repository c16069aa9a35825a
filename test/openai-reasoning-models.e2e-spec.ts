import OpenAI from 'openai';
import { type FakeReply, type RecordedRequest } from './support/fake-llm-server';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { type LlmBody, post } from './support/http';
import { ServiceProcess } from './support/service-process';

/**
 * OpenAI's reasoning models (o-series, gpt-5 family) behind the OpenAI-compatible adapter: the loopback upstream
 * refuses what OpenAI refuses of them (`max_tokens`: "Use 'max_completion_tokens' instead"; a temperature other
 * than the default 1), and answers any other model as Ollama or vLLM would. Every call, /v1 and REST, streamed or
 * not, must reach the model with the fields it takes.
 */

const REASONING = /^(o\d|gpt-5)/;

/** OpenAI's answer to a reasoning model's call, else a plain answer. */
function openAiRules(request: RecordedRequest): FakeReply {
  const body = request.body as Record<string, unknown>;
  const refuse = (param: string, code: string, message: string): FakeReply => ({
    type: 'error',
    status: 400,
    body: { error: { message, type: 'invalid_request_error', param, code } },
  });
  if (REASONING.test(String(body.model))) {
    if ('max_tokens' in body) {
      return refuse(
        'max_tokens',
        'unsupported_parameter',
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      );
    }
    if (body.temperature !== undefined && body.temperature !== 1) {
      return refuse(
        'temperature',
        'unsupported_value',
        `Unsupported value: 'temperature' does not support ${JSON.stringify(body.temperature)} with this model. Only the default (1) value is supported.`,
      );
    }
  }
  return { type: 'answer', text: `Four, says ${String(body.model)}.`, usage: { prompt: 20, output: 4, reasoning: 30 } };
}

describe('OpenAI reasoning models behind the OpenAI-compatible adapter (loopback upstream with OpenAI rules)', () => {
  let upstream: FakeOpenAiServer;
  let service: ServiceProcess;
  let sdk: OpenAI;

  beforeAll(async () => {
    upstream = await new FakeOpenAiServer().start();
    service = await new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'o4-mini',
      LLM_FALLBACK_MODELS: 'gpt-5-mini,llama3.2:3b',
      LLM_MAX_RETRIES: '0',
      LLM_MAX_OUTPUT_TOKENS: '3000',
      ML_REMOTE_EMBEDDINGS: 'false',
    }).start();
    sdk = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-app-key-never-logged', maxRetries: 0 });
  });

  afterAll(async () => {
    await service?.stop();
    await upstream?.close();
  });

  beforeEach(() => upstream.reset().setDefault(openAiRules));

  const sent = (): Record<string, unknown>[] => upstream.requests.map((r) => r.body as Record<string, unknown>);

  it('sends a reasoning model max_completion_tokens, whichever field the client used, and no temperature it did not give', async () => {
    const answer = await sdk.chat.completions.create({
      model: 'o4-mini',
      messages: [{ role: 'user', content: 'What is two plus two?' }],
      max_completion_tokens: 64,
    });
    expect(answer.choices[0]!.message.content).toBe('Four, says o4-mini.');
    expect(answer.usage?.completion_tokens_details?.reasoning_tokens).toBe(30);

    const stream = await sdk.chat.completions.create({
      model: 'gpt-5-mini',
      messages: [{ role: 'user', content: 'What is two plus two?' }],
      max_tokens: 80,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Four, says gpt-5-mini.');

    const [json, streamed] = sent();
    expect(json).toMatchObject({ model: 'o4-mini', max_completion_tokens: 64 });
    expect(streamed).toMatchObject({ model: 'gpt-5-mini', max_completion_tokens: 80, stream: true });
    for (const body of [json, streamed]) {
      expect(body).not.toHaveProperty('max_tokens');
      expect(body).not.toHaveProperty('temperature');
    }
  });

  it('answers /qa and /reason on a reasoning model: the output limit LLM_MAX_OUTPUT_TOKENS, no default temperature', async () => {
    for (const [path, body] of [
      ['/qa', { question: 'What is two plus two?' }],
      ['/reason', { prompt: 'What is two plus two?' }],
    ] as const) {
      const response = await post(`${service.url}${path}`, body);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      const data = (await response.json()) as LlmBody;
      expect(data.metadata).toMatchObject({ model: 'o4-mini', fallback_used: false });
    }
    expect(upstream.requests).toHaveLength(2);
    for (const body of sent()) {
      expect(body).toMatchObject({ model: 'o4-mini', max_completion_tokens: expect.any(Number) as number });
      expect(body).not.toHaveProperty('max_tokens');
      expect(body).not.toHaveProperty('temperature');
    }
  });

  it("forwards a caller's own temperature, never changed: a model that refuses it falls back as on any 400", async () => {
    const ok = await sdk.chat.completions.create({
      model: 'o4-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 1,
    });
    expect(ok.choices[0]!.message.content).toBe('Four, says o4-mini.');
    upstream.reset().setDefault(openAiRules);
    const { data, response } = await sdk.chat.completions
      .create({ model: 'o4-mini', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.3 })
      .withResponse();
    // o4-mini and gpt-5-mini refused 0.3 (as OpenAI does); the chain's last model took it.
    expect(sent().map((body) => [body.model, body.temperature])).toEqual([
      ['o4-mini', 0.3],
      ['gpt-5-mini', 0.3],
      ['llama3.2:3b', 0.3],
    ]);
    expect(data.choices[0]!.message.content).toBe('Four, says llama3.2:3b.');
    expect(response.headers.get('x-control-plane-fallback-used')).toBe('true');
  });

  it('keeps max_tokens and the default temperature for a model that is not a reasoning one (Ollama, vLLM)', async () => {
    const answer = await sdk.chat.completions.create({
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'What is two plus two?' }],
      max_completion_tokens: 50,
    });
    expect(answer.choices[0]!.message.content).toBe('Four, says llama3.2:3b.');
    const [body] = sent();
    expect(body).toMatchObject({ model: 'llama3.2:3b', max_tokens: 50, temperature: 0.7 });
    expect(body).not.toHaveProperty('max_completion_tokens');
  });
});
