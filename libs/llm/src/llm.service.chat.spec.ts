import { answered, buildLlmPipeline as build, input } from '../../../test/support/llm-pipeline-harness';
import { ScriptedProvider } from '../../../test/support/scripted-provider';
import type { ChatCallOptions } from './llm-call.types';

describe("LlmService: a chat call's tool declarations, JSON schema and structured answers", () => {
  it('reserves a chat call’s tool declarations and JSON schema as input: a call they do not fit in is refused', async () => {
    // LLM_MAX_OUTPUT_TOKENS (2048) of gemini-2.5-flash cost $0.00512; $0.006 leaves about 2,900 input tokens. The tool's
    // declaration alone is about 10,000 tokens ($0.003 at $0.30 per million): before, only the messages were counted,
    // and the call was let in with a worst case a third below what it could cost.
    const { service } = await build({ DAILY_BUDGET_USD: '0.006', BUDGET_POLICY: 'enforce' }, new ScriptedProvider());
    const chat = (options: Partial<ChatCallOptions>) => ({
      ...input(),
      endpoint: 'chat' as const,
      chat: { model: 'gemini-2.5-flash', messages: [{ role: 'user' as const, content: 'Hi' }], ...options },
    });
    const schema = { type: 'object', description: 'a field '.repeat(5_000), properties: {} };
    const outcome = (call: Promise<unknown>) =>
      call.then(
        () => 'answered',
        (e: { code?: string }) => e.code,
      );
    expect(await outcome(service.complete(chat({})))).toBe('answered');
    const tools = [{ name: 'lookup', description: 'Looks a thing up', parameters: schema }];
    expect(await outcome(service.complete(chat({ tools })))).toBe('BUDGET_EXCEEDED');
    const responseFormat = { type: 'json_schema' as const, name: 'answer', schema };
    expect(await outcome(service.complete(chat({ responseFormat })))).toBe('BUDGET_EXCEEDED');
  });

  it('counts a chat call’s tool declarations and JSON schema in the token-abuse check, as the provider bills them', async () => {
    // TOKEN_ABUSE_MAX_INPUT_TOKENS=1000: the schema below is about 10,000 tokens, the messages a handful. Before, only
    // the messages were counted: tools the provider billed as 10,000 input tokens passed the check a prompt of that
    // size failed.
    const { service } = await build({ TOKEN_ABUSE_MAX_INPUT_TOKENS: '1000' }, new ScriptedProvider());
    const chat = (options: Partial<ChatCallOptions>) => ({
      ...input(),
      endpoint: 'chat' as const,
      chat: { model: 'gemini-2.5-flash', messages: [{ role: 'user' as const, content: 'Hi' }], ...options },
    });
    const schema = { type: 'object', description: 'a field '.repeat(5_000), properties: {} };
    const abuse = async (options: Partial<ChatCallOptions>) =>
      (await answered(service.complete(chat(options)))).inspection?.report.tokenAbuse;
    expect(await abuse({})).toBe(false);
    expect(await abuse({ tools: [{ name: 'lookup', description: 'Looks a thing up', parameters: schema }] })).toBe(
      true,
    );
    expect(await abuse({ responseFormat: { type: 'json_schema', name: 'answer', schema } })).toBe(true);
    expect(await abuse({ responseFormat: { type: 'json_object' } })).toBe(false);
  });

  it('judges a chat call’s JSON and tool-call answers on their structure, against its response_format and tools', async () => {
    const schema = {
      type: 'object',
      properties: { label: { type: 'string', enum: ['positive', 'negative'] } },
      required: ['label'],
    };
    const weather = { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { ok: '{"label":"negative"}' },
      { ok: '{"label":"meh"}' },
      { ok: '', finish: 'tool_calls', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      { ok: 'Hello there.' },
    );
    const { service } = await build({}, provider);
    const chat = (options: Partial<ChatCallOptions>) => ({
      ...input('Sentiment of: "The parcel arrived broken."'),
      endpoint: 'chat' as const,
      chat: { model: 'gemini-2.5-flash', messages: [{ role: 'user' as const, content: 'Hi' }], ...options },
    });
    const quality = async (options: Partial<ChatCallOptions>) => {
      const q = (await answered(service.complete(chat(options)))).quality!;
      return { judged: q.judged, label: q.label, reasons: q.reasons };
    };
    const responseFormat = { type: 'json_schema' as const, name: 'sentiment', schema };
    expect(await quality({ responseFormat })).toEqual({ judged: 'json_schema', label: 'good', reasons: [] });
    expect(await quality({ responseFormat })).toEqual({
      judged: 'json_schema',
      label: 'bad',
      reasons: ['schema_mismatch'],
    });
    expect(await quality({ tools: [weather] })).toEqual({ judged: 'tool_calls', label: 'good', reasons: [] });
    expect((await quality({})).judged).toBe('text');
  });
});
