import { RequestValidationError } from '@app/common';
import { testConfig } from '../../../../test/support/app-config';
import { ScriptedProvider } from '../../../../test/support/scripted-provider';
import type { LlmProvider, ProviderCapabilities } from '../ports/llm-provider.port';
import type { ChatCompletionRequestDto } from './chat-completion.dto';
import { ChatRequestMapper } from './chat-request.mapper';
import { ModelCatalog } from './model-catalog';
import { OpenAiParamError } from './openai-compat.errors';

const config = testConfig({
  LLM_MODEL: 'gemini-2.5-flash',
  LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite',
  LLM_MODEL_ALIASES: 'fast=gemini-2.5-flash-lite',
  LLM_MAX_OUTPUT_TOKENS: '1000',
});

function mapper(
  capabilities: ProviderCapabilities = { tools: true, jsonObject: true, jsonSchema: true },
): ChatRequestMapper {
  const provider = Object.assign(new ScriptedProvider(), { capabilities }) as LlmProvider;
  return new ChatRequestMapper(config, new ModelCatalog(config), provider);
}

const body = (extra: Partial<ChatCompletionRequestDto> = {}): ChatCompletionRequestDto => ({
  model: 'gemini-2.5-flash',
  messages: [{ role: 'user', content: 'Hello?' }],
  ...extra,
});

/** The fields a thrown refusal names. */
function refusal(fn: () => unknown): { param?: string; fields?: string[]; code?: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof OpenAiParamError) return { param: error.param, code: error.openAiCode };
    if (error instanceof RequestValidationError) return { fields: error.errors.map((e) => e.field) };
    throw error;
  }
  throw new Error('not refused');
}

describe('ChatRequestMapper: an OpenAI chat request onto the pipeline input', () => {
  it('maps a conversation: developer is system, text parts joined, the last user message scored, the alias resolved', () => {
    const call = mapper().map(
      body({
        model: 'fast',
        messages: [
          { role: 'developer', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Hello' },
              { type: 'text', text: 'there?' },
            ],
          },
        ],
        temperature: 0.1,
        max_completion_tokens: 50,
        stop: 'END',
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(call).toMatchObject({ stream: true, includeUsage: true, requestedModel: 'fast' });
    expect(call.input).toMatchObject({
      endpoint: 'chat',
      userText: 'Hello\nthere?',
      prompt: 'Be brief.\n\nHello\nthere?',
    });
    expect(call.input.chat).toEqual({
      model: 'gemini-2.5-flash-lite',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello\nthere?' },
      ],
      temperature: 0.1,
      maxOutputTokens: 50,
      stopSequences: ['END'],
    });
  });

  it('links a tool message to the earlier tool call it answers (its function name)', () => {
    const call = mapper().map(
      body({
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      }),
    );
    expect(call.input.chat!.messages.slice(1)).toEqual([
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Rome"}' }] },
      { role: 'tool', content: 'sunny', toolCallId: 'c1', toolName: 'get_weather' },
    ]);
    expect(call.input.chat!.toolChoice).toEqual({ name: 'get_weather' });
  });

  it("takes a tool message's name, as langchain-openai sends it on every tool result (not sent on)", () => {
    const call = mapper().map(
      body({
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: '',
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'c1', name: 'get_weather', content: 'sunny' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather' } }],
      }),
    );
    expect(call.input.chat!.messages[2]).toEqual({
      role: 'tool',
      content: 'sunny',
      toolCallId: 'c1',
      toolName: 'get_weather',
    });
    const named = (name: unknown): unknown[] => [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', name, content: 'sunny' },
    ];
    expect(refusal(() => mapper().map(body({ messages: named(7) }))).fields).toEqual(['messages[2].name']);
  });

  it("takes an answer appended as it came back (annotations, the SDK helpers' parsed, null audio), not sent on", () => {
    const echoed = (extra: Record<string, unknown>): unknown[] => [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: '{"a":1}', refusal: null, ...extra },
      { role: 'user', content: 'More?' },
    ];
    const call = mapper().map(
      body({ messages: echoed({ annotations: [], parsed: { a: 1 }, audio: null, function_call: null }) }),
    );
    expect(call.input.chat!.messages[1]).toEqual({ role: 'assistant', content: '{"a":1}' });
    expect(refusal(() => mapper().map(body({ messages: echoed({ audio: { id: 'audio_1' } }) })))).toEqual({
      param: 'messages[1].audio',
      code: 'unsupported_value',
    });
    expect(
      refusal(() => mapper().map(body({ messages: echoed({ function_call: { name: 'f', arguments: '{}' } }) }))),
    ).toEqual({ param: 'messages[1].function_call', code: 'unsupported_value' });
    expect(refusal(() => mapper().map(body({ messages: echoed({ annotations: 'x' }) }))).fields).toEqual([
      'messages[1].annotations',
    ]);
  });

  it('names each invalid nested field, all at once', () => {
    expect(
      refusal(() =>
        mapper().map(
          body({
            messages: [
              { role: 'robot', content: 'x' },
              { role: 'tool', tool_call_id: 'nope', content: 'x' },
              { role: 'user', content: 'x', extra: 1 },
            ],
            stop: ['a', 'b', 'c', 'd', 'e'],
            max_tokens: 5000,
            tool_choice: 'auto',
          }),
        ),
      ).fields,
    ).toEqual([
      'messages[0].role',
      'messages[1].tool_call_id',
      'messages[2].extra',
      'max_tokens',
      'stop',
      'tool_choice',
    ]);
  });

  it('reports a bad tool call once, not again on its content or on the tool message answering it', () => {
    expect(
      refusal(() =>
        mapper().map(
          body({
            messages: [
              { role: 'user', content: 'hi' },
              {
                role: 'assistant',
                content: null,
                tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '[]' } }],
              },
              { role: 'tool', tool_call_id: 'c1', content: '42' },
            ],
          }),
        ),
      ).fields,
    ).toEqual(['messages[1].tool_calls[0].function.arguments']);
  });

  it('refuses what cannot be honoured, naming the parameter: unknown model, n > 1, images, tools or schemas the provider lacks', () => {
    expect(refusal(() => mapper().map(body({ model: 'gpt-5' })))).toEqual({ param: 'model', code: 'model_not_found' });
    expect(refusal(() => mapper().map(body({ n: 3 })))).toEqual({ param: 'n', code: 'unsupported_value' });
    expect(
      refusal(() =>
        mapper().map(body({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] })),
      ),
    ).toEqual({ param: 'messages[0].content[0].type', code: 'unsupported_value' });
    const none = { tools: false, jsonObject: true, jsonSchema: false };
    expect(refusal(() => mapper(none).map(body({ tools: [{ type: 'function', function: { name: 'f' } }] })))).toEqual({
      param: 'tools',
      code: 'unsupported_parameter',
    });
    expect(
      refusal(() =>
        mapper(none).map(body({ response_format: { type: 'json_schema', json_schema: { name: 's', schema: {} } } })),
      ),
    ).toEqual({ param: 'response_format', code: 'unsupported_value' });
    expect(mapper(none).map(body({ response_format: { type: 'json_object' } })).input.chat!.responseFormat).toEqual({
      type: 'json_object',
    });
  });

  it('takes the OpenAI parameters it does not translate at null or at the default it keeps, and nothing else', () => {
    const noOps = {
      frequency_penalty: 0,
      presence_penalty: 0,
      logprobs: false,
      top_logprobs: null,
      logit_bias: {},
      seed: null,
      store: false,
      parallel_tool_calls: true,
      modalities: ['text'],
      service_tier: null,
      reasoning_effort: null,
      verbosity: null,
      audio: null,
      prediction: null,
      safety_identifier: null,
      prompt_cache_key: null,
    };
    const plain = mapper().map(body());
    const call = mapper().map(body(noOps));
    expect(call.input.chat).toEqual(plain.input.chat);
    const streamed = mapper().map(
      body({ stream: true, stream_options: { include_usage: true, include_obfuscation: false } }),
    );
    expect(streamed).toMatchObject({ stream: true, includeUsage: true });

    const asking: Record<string, unknown> = {
      logprobs: true,
      top_logprobs: 3,
      logit_bias: { '50256': -100 },
      store: true,
      modalities: ['text', 'audio'],
      service_tier: 'flex',
      reasoning_effort: 'low',
      verbosity: 'high',
      audio: { voice: 'alloy', format: 'mp3' },
      prediction: { type: 'content', content: 'x' },
      safety_identifier: 'u-1',
      prompt_cache_key: 'k',
    };
    for (const [param, value] of Object.entries(asking)) {
      expect([param, refusal(() => mapper().map(body({ [param]: value })))]).toEqual([
        param,
        { param, code: 'unsupported_parameter' },
      ]);
    }
    expect(refusal(() => mapper().map(body({ stream: true, stream_options: { include_obfuscation: true } })))).toEqual({
      param: 'stream_options.include_obfuscation',
      code: 'unsupported_parameter',
    });
  });

  it('translates seed and the two penalties (0 is no penalty: not sent), and refuses a seed wider than the provider takes', () => {
    const call = mapper().map(body({ seed: 42, presence_penalty: -1, frequency_penalty: 0.5 }));
    expect(call.input.chat).toMatchObject({ seed: 42, presencePenalty: -1, frequencyPenalty: 0.5 });
    const zero = mapper().map(body({ seed: 0, presence_penalty: 0, frequency_penalty: 0 })).input.chat!;
    expect([zero.seed, 'presencePenalty' in zero, 'frequencyPenalty' in zero]).toEqual([0, false, false]);
    const gemini = { tools: true, jsonObject: true, jsonSchema: true, seedBits: 32 as const };
    expect(mapper(gemini).map(body({ seed: 2 ** 31 - 1 })).input.chat?.seed).toBe(2 ** 31 - 1);
    expect(refusal(() => mapper(gemini).map(body({ seed: 2 ** 31 })))).toEqual({
      param: 'seed',
      code: 'unsupported_value',
    });
    expect(mapper().map(body({ seed: 2 ** 40 })).input.chat?.seed).toBe(2 ** 40);
  });

  it('refuses stream_options without stream, and a conversation of system messages only', () => {
    expect(refusal(() => mapper().map(body({ stream_options: { include_usage: true } }))).fields).toEqual([
      'stream_options',
    ]);
    expect(refusal(() => mapper().map(body({ messages: [{ role: 'system', content: 'x' }] }))).fields).toEqual([
      'messages',
    ]);
  });

  it('refuses an unknown or mistyped field of response_format, json_schema, a tool or tool_choice, naming its path', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    // A misspelt schema or parameters dropped would let the model answer without them.
    expect(
      refusal(() =>
        mapper().map(body({ response_format: { type: 'json_schema', json_schema: { name: 'x', shema: schema } } })),
      ).fields,
    ).toEqual(['response_format.json_schema.shema']);
    expect(
      refusal(() =>
        mapper().map(
          body({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: 'true' } } }),
        ),
      ).fields,
    ).toEqual(['response_format.json_schema.strict']);
    expect(refusal(() => mapper().map(body({ response_format: { type: 'json_object', schema } }))).fields).toEqual([
      'response_format.schema',
    ]);
    const tool = { type: 'function', function: { name: 'f', paramters: schema } };
    expect(refusal(() => mapper().map(body({ tools: [tool] }))).fields).toEqual(['tools[0].function.paramters']);
    expect(
      refusal(() => mapper().map(body({ tools: [{ type: 'function', function: { name: 'f' }, strict: true }] })))
        .fields,
    ).toEqual(['tools[0].strict']);
    expect(
      refusal(() =>
        mapper().map(
          body({
            tools: [{ type: 'function', function: { name: 'f' } }],
            tool_choice: { type: 'function', function: { name: 'f', arguments: '{}' } },
          }),
        ),
      ).fields,
    ).toEqual(['tool_choice.function.arguments']);
    // What clients send is taken: strict, description, a schema's own fields.
    const call = mapper().map(
      body({
        response_format: { type: 'json_schema', json_schema: { name: 'x', description: 'd', schema, strict: true } },
        tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: schema, strict: null } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      }),
    );
    expect(call.input.chat?.responseFormat).toEqual({
      type: 'json_schema',
      name: 'x',
      description: 'd',
      schema,
      strict: true,
    });
    expect(call.input.chat?.tools).toEqual([{ name: 'f', description: 'd', parameters: schema }]);
  });
});
