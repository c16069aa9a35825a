import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI from 'openai';
import { FakeGeminiServer } from './support/fake-gemini-server';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { ServiceProcess } from './support/service-process';

/**
 * Function calling through `/v1/chat/completions` as an agent uses it, driven by the official `openai` SDK against the
 * built service and a loopback OpenAI-compatible upstream: what the pipeline does around the tool calls (PII
 * redaction of their arguments, the cost of a tool-call answer), beyond the round trip of openai-compat.e2e-spec.
 */

const EMAIL_TOOL: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'send_email',
    description: 'Sends an email',
    parameters: {
      type: 'object',
      properties: { to: { type: 'string' }, body: { type: 'string' } },
      required: ['to', 'body'],
    },
  },
};

function client(service: ServiceProcess): OpenAI {
  return new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-tools-key', maxRetries: 0 });
}

/** The ledger row of a call, once the ledger has written it. */
async function ledgerRow(dataDir: string, promptId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    let row: Record<string, unknown> | undefined;
    try {
      const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
      try {
        row = db.prepare('SELECT * FROM usage_records WHERE prompt_id = ?').get(promptId);
      } finally {
        db.close();
      }
    } catch {
      // The ledger's file or table may not exist yet.
    }
    if (row !== undefined) return row;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ledger row for ${promptId}`);
}

/** A loopback Google Cloud metadata server: an access token for Vertex AI's Application Default Credentials. */
function metadataServer(): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('Metadata-Flavor', 'Google');
    if (req.url?.includes('/service-accounts/default/token')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: 'metadata-token', expires_in: 3600, token_type: 'Bearer' }));
    } else res.end('judge-tools-project');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('tool calls through /v1 on the OpenAI-compatible adapter', () => {
  let upstream: FakeOpenAiServer;
  let service: ServiceProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-openai-tools-'));
    upstream = await new FakeOpenAiServer().start();
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-4o-mini',
      LLM_MAX_RETRIES: '0',
      LLM_TIMEOUT_MS: '5000',
      LEDGER_FLUSH_MS: '50',
      ML_REMOTE_EMBEDDINGS: 'false',
      PII_REDACT_PROMPTS: 'true',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => upstream.reset());

  it("redacts the PII in an earlier assistant message's tool call arguments before the provider, with or without text", async () => {
    upstream.enqueue({ type: 'answer', text: 'Sent.' });
    const { response } = await client(service)
      .chat.completions.create({
        model: 'gpt-4o-mini',
        tools: [EMAIL_TOOL],
        messages: [
          { role: 'user', content: 'Tell my colleague the meeting moved.' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'send_email', arguments: '{"to":"jane.roe@mail.test","body":"Moved to 3pm"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'bounced' },
          {
            role: 'assistant',
            content: 'That address bounced; trying the other one.',
            tool_calls: [
              {
                id: 'call_2',
                type: 'function',
                function: { name: 'send_email', arguments: '{"to":"j.roe@home.test","body":"Moved to 3pm"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_2', content: 'delivered' },
        ],
      })
      .withResponse();
    expect(response.headers.get('x-control-plane-pii-types')).toContain('email');

    const sent = upstream.requests[0]!.body as {
      messages: { role: string; tool_calls?: { function: { arguments: string } }[] }[];
    };
    const args = sent.messages
      .filter((m) => m.role === 'assistant')
      .map((m) => JSON.parse(m.tool_calls![0]!.function.arguments) as { to: string; body: string });
    // Before, both addresses went to the provider as they came, the call saying they had been redacted.
    expect(JSON.stringify(sent)).not.toContain('jane.roe@');
    expect(JSON.stringify(sent)).not.toContain('j.roe@');
    for (const call of args) {
      expect(call.to).toMatch(/^\[REDACTED:EMAIL\]$/);
      expect(call.body).toBe('Moved to 3pm');
    }
  });

  it("sends back a model's malformed tool call arguments as they came, with the tool's error", async () => {
    // A local model's Python-style arguments: the app could not parse them and says so in the tool message. Before,
    // the gateway refused the conversation it had itself answered (400 on function.arguments): the agent was stuck.
    const malformed = "{'to': 'team', 'body': 'Moved to 3pm'";
    upstream.enqueue({ type: 'answer', text: 'Sorry, retrying with valid JSON.' });
    const data = await client(service).chat.completions.create({
      model: 'gpt-4o-mini',
      tools: [EMAIL_TOOL],
      messages: [
        { role: 'user', content: 'Tell the team the meeting moved.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'send_email', arguments: malformed } }],
        },
        { role: 'tool', tool_call_id: 'call_3', content: 'error: the arguments are not valid JSON' },
      ],
    });
    expect(data.choices[0]!.message.content).toBe('Sorry, retrying with valid JSON.');
    const sent = upstream.requests[0]!.body as { messages: { tool_calls?: { function: { arguments: string } }[] }[] };
    expect(sent.messages[1]!.tool_calls![0]!.function.arguments).toBe(malformed);
  });

  it("counts a tool-call answer's size from its calls in the ledger, the log line and the metadata, which agree", async () => {
    const args = '{"to":"team@localhost","body":"Moved to 3pm"}';
    upstream.enqueue({
      type: 'raw',
      json: {
        id: 'chatcmpl-size',
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'call_size', type: 'function', function: { name: 'send_email', arguments: args } }],
            },
          },
        ],
        usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
      },
    });
    const from = service.logs().length;
    const { data, response } = await client(service)
      .chat.completions.create(
        { model: 'gpt-4o-mini', tools: [EMAIL_TOOL], messages: [{ role: 'user', content: 'Tell the team.' }] },
        { headers: { 'x-control-plane-metadata': 'true' } },
      )
      .withResponse();
    expect(data.choices[0]!.message.tool_calls).toHaveLength(1);
    const promptId = response.headers.get('x-control-plane-prompt-id')!;
    const size = `send_email(${args})`.length;
    // Before, each said 0: the answer had no text.
    const row = await ledgerRow(dataDir, promptId);
    expect(row.answer_chars).toBe(size);
    const line = await service.waitForLog(
      (l) => l.message === 'llm call completed' && l.prompt_id === promptId,
      5000,
      from,
    );
    expect(line.answer_chars).toBe(size);
    expect(line.answer_preview).toContain('send_email(');
    const metadata = (data as unknown as { control_plane: Record<string, unknown> }).control_plane;
    expect(metadata['llm.response.length']).toBeGreaterThan(0);
  });

  it('estimates the tokens of a tool-call answer from its calls when the upstream reports no usage', async () => {
    const args = JSON.stringify({
      to: 'team@localhost',
      body: 'The quarterly review is moved to Thursday at three; please bring the updated forecasts and the risk log.',
    });
    upstream.enqueue({
      type: 'raw',
      json: {
        id: 'chatcmpl-raw',
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'send_email', arguments: args } }],
            },
          },
        ],
      },
    });
    const { data, response } = await client(service)
      .chat.completions.create({
        model: 'gpt-4o-mini',
        tools: [EMAIL_TOOL],
        messages: [{ role: 'user', content: 'Email the team.' }],
      })
      .withResponse();
    expect(data.choices[0]!.finish_reason).toBe('tool_calls');
    expect(data.choices[0]!.message.tool_calls![0]).toMatchObject({ function: { arguments: args } });
    expect(response.headers.get('x-control-plane-tokens-estimated')).toBe('true');
    // The calls were generated and billed: before, the answer counted 0 output tokens (no text).
    expect(data.usage!.completion_tokens).toBeGreaterThan(20);
    // The tool declarations are billed as input: more than the user message's few tokens.
    expect(data.usage!.prompt_tokens).toBeGreaterThan(20);

    const row = await ledgerRow(dataDir, response.headers.get('x-control-plane-prompt-id')!);
    expect(row).toMatchObject({ status: 'ok', tokens_estimated: 1, output_tokens: data.usage!.completion_tokens });
    expect(row.cost_usd as number).toBeGreaterThan(0);
  });
});

describe.each(['gemini', 'vertex'] as const)(
  'tool calls through /v1 on the %s adapter (loopback Gemini API)',
  (mode) => {
    let gemini: FakeGeminiServer;
    let metadata: Server;
    let service: ServiceProcess;
    let dataDir: string;

    const WEATHER_TOOL: OpenAI.Chat.Completions.ChatCompletionTool = {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    };

    /** Gemini's answer calling `name`. */
    const functionCall = (name: string): { type: 'raw'; json: unknown; sse: unknown[] } => {
      const body = {
        candidates: [
          {
            content: { role: 'model', parts: [{ functionCall: { name, args: { city: 'Paris' } } }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 8, totalTokenCount: 38 },
        modelVersion: 'gemini-2.5-flash',
      };
      return { type: 'raw', json: body, sse: [body] };
    };

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `lrcp-openai-tools-${mode}-`));
      gemini = await new FakeGeminiServer().start();
      metadata = await metadataServer();
      service = await new ServiceProcess({
        DATA_DIR: dataDir,
        DD_TRACE_ENABLED: 'false',
        LLM_PROVIDER: mode,
        ...(mode === 'gemini'
          ? { GEMINI_API_KEY: 'test-gemini-key-123' }
          : {
              // Vertex AI with Application Default Credentials from a loopback metadata server, as on Google Cloud
              // (HOME without gcloud's credentials file, so that none of the machine's is used).
              GOOGLE_CLOUD_PROJECT: 'judge-tools-project',
              GOOGLE_CLOUD_LOCATION: 'us-central1',
              GCE_METADATA_HOST: `127.0.0.1:${(metadata.address() as AddressInfo).port}`,
              HOME: dataDir,
            }),
        LLM_BASE_URL: gemini.url,
        LLM_MODEL: 'gemini-2.5-flash',
        LLM_MAX_RETRIES: '0',
        LEDGER_FLUSH_MS: '50',
        ML_REMOTE_EMBEDDINGS: 'false',
      }).start();
    });

    afterAll(async () => {
      await service?.stop();
      await gemini?.close();
      await new Promise((resolve) => metadata?.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    });

    beforeEach(() => gemini.reset());

    it("keeps the model's own call id through the answer and sends it back with the call and its result", async () => {
      const body = {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ functionCall: { id: 'gem-fc-41', name: 'get_weather', args: { city: 'Paris' } } }],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 8, totalTokenCount: 38 },
        modelVersion: 'gemini-2.5-flash',
      };
      gemini.enqueue({ type: 'raw', json: body, sse: [body] });
      const openai = client(service);
      const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather?' }];
      const first = await openai.chat.completions.create({
        model: 'gemini-2.5-flash',
        tools: [WEATHER_TOOL],
        messages,
      });
      const call = first.choices[0]!.message.tool_calls![0]!;
      expect(call.id).toBe('gem-fc-41');
      gemini.enqueue({ type: 'answer', text: 'Sunny in Paris.' });
      const before = gemini.requests.length;
      await openai.chat.completions.create({
        model: 'gemini-2.5-flash',
        tools: [WEATHER_TOOL],
        messages: [
          ...messages,
          first.choices[0]!.message,
          { role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny"}' },
        ],
      });
      const sent = gemini.requests[before]!.body as { contents: { parts: Record<string, { id?: string }>[] }[] };
      const parts = sent.contents.flatMap((turn) => turn.parts);
      // Before, neither carried it: the model paired them by position only.
      expect(parts.find((p) => p.functionCall)!.functionCall!.id).toBe('gem-fc-41');
      expect(parts.find((p) => p.functionResponse)!.functionResponse!.id).toBe('gem-fc-41');
    });

    it('logs one warn line for the calls of functions not offered it drops, their arguments redacted', async () => {
      const body = {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'Sending it.' },
                { functionCall: { name: 'send_email', args: { to: 'jane.roe@mail.test', body: 'x'.repeat(5000) } } },
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 8, totalTokenCount: 38 },
        modelVersion: 'gemini-2.5-flash',
      };
      gemini.enqueue({ type: 'raw', json: body, sse: [body] });
      const from = service.logs().length;
      const { data, response } = await client(service)
        .chat.completions.create({
          model: 'gemini-2.5-flash',
          tools: [WEATHER_TOOL],
          messages: [{ role: 'user', content: 'Weather?' }],
        })
        .withResponse();
      expect(data.choices[0]!.message).toMatchObject({ content: 'Sending it.' });
      expect(data.choices[0]!.message.tool_calls).toBeUndefined();
      // Before, the dropped call left no trace.
      const line = await service.waitForLog(
        (l) => l.message === 'tool calls of functions not offered dropped from the answer',
        5000,
        from,
      );
      expect(line).toMatchObject({
        level: 'warn',
        prompt_id: response.headers.get('x-control-plane-prompt-id'),
        reason: 'not_offered',
        dropped_count: 1,
        offered: ['get_weather'],
      });
      const [dropped] = line.dropped as { name: string; arguments: string }[];
      expect(dropped!.name).toBe('send_email');
      expect(dropped!.arguments).not.toContain('jane.roe@mail.test');
      expect(dropped!.arguments.length).toBeLessThan(400);
    });

    it('never hands the app a call of a function it did not offer: an answer of only such calls is empty (502, the circuit left closed), JSON and streamed', async () => {
      const openai = client(service);
      const cases: { tools?: OpenAI.Chat.Completions.ChatCompletionTool[]; tool_choice?: 'none'; call: string }[] = [
        { tools: [WEATHER_TOOL], call: 'delete_everything' },
        { call: 'get_weather' },
        { tools: [WEATHER_TOOL], tool_choice: 'none', call: 'get_weather' },
      ];
      for (const { call, ...offer } of cases) {
        for (const stream of [false, true]) {
          gemini.enqueue(functionCall(call));
          const request = {
            model: 'gemini-2.5-flash',
            messages: [{ role: 'user' as const, content: 'Weather?' }],
            ...offer,
          };
          let failure: unknown;
          try {
            if (stream) {
              for await (const chunk of await openai.chat.completions.create({ ...request, stream: true })) {
                // Before, the chunks carried the call.
                expect(chunk.choices[0]?.delta.tool_calls).toBeUndefined();
              }
            } else {
              const data = await openai.chat.completions.create(request);
              throw new Error(`answered ${JSON.stringify(data.choices[0]!.message)}`);
            }
          } catch (error) {
            failure = error;
          }
          expect(failure).toBeInstanceOf(OpenAI.APIError);
          const apiError = failure as InstanceType<typeof OpenAI.APIError>;
          if (!stream) expect(apiError.status).toBe(502);
          expect(apiError.error).toMatchObject({ type: 'server_error', code: 'upstream_error' });
          expect(apiError.message).toContain(`empty answer (it only called functions that were not offered: ${call};`);
        }
      }

      // Six such answers in a row left the model's circuit closed (the caller's conversation can cause them), and the
      // offered calls and the text of an answer are kept, its other calls dropped.
      gemini.enqueue({
        type: 'raw',
        json: {
          candidates: [
            {
              content: {
                role: 'model',
                parts: [
                  { text: 'Checking.' },
                  { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
                  { functionCall: { name: 'delete_everything', args: {} } },
                ],
              },
              finishReason: 'STOP',
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 12, totalTokenCount: 42 },
        },
      });
      const mixed = await openai.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [WEATHER_TOOL],
      });
      expect(mixed.choices[0]!.finish_reason).toBe('tool_calls');
      expect(mixed.choices[0]!.message.content).toBe('Checking.');
      expect(
        mixed.choices[0]!.message.tool_calls!.map((c) => (c.type === 'function' ? c.function.name : c.type)),
      ).toEqual(['get_weather']);

      // A call of an offered function is the answer, as before.
      gemini.enqueue(functionCall('get_weather'));
      const data = await openai.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [WEATHER_TOOL],
      });
      expect(data.choices[0]).toMatchObject({
        finish_reason: 'tool_calls',
        message: { tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      });
      const sent = gemini.requests[gemini.requests.length - 1]!;
      expect(sent.api).toBe(mode);
      if (mode === 'vertex') expect(sent.headers.authorization).toBe('Bearer metadata-token');
    });
  },
);
