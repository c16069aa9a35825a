import { RequestValidationError } from '@app/common';
import { testConfig } from '../../../../test/support/app-config';
import { ScriptedProvider } from '../../../../test/support/scripted-provider';
import { ChatRequestMapper } from './chat-request.mapper';
import { ModelCatalog } from './model-catalog';

const config = testConfig({ LLM_MODEL: 'gemini-2.5-flash' });
const mapper = new ChatRequestMapper(config, new ModelCatalog(config), new ScriptedProvider());
const map = (parallel: unknown) =>
  mapper.map({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'Weather?' }],
    parallel_tool_calls: parallel,
  });

describe('ChatRequestMapper: parallel_tool_calls', () => {
  it('translates false (at most one tool call); true or null is the default; anything else is refused, named', () => {
    // LangChain's structured output by function calling sends false: it was refused (400 unsupported_parameter).
    expect(map(false).input.chat).toMatchObject({ parallelToolCalls: false });
    for (const value of [true, null, undefined]) expect(map(value).input.chat).not.toHaveProperty('parallelToolCalls');
    const refused = (() => {
      try {
        return map('no');
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(RequestValidationError);
    expect((refused as RequestValidationError).errors).toEqual([
      { field: 'parallel_tool_calls', reason: 'parallel_tool_calls must be a boolean' },
    ]);
  });
});
