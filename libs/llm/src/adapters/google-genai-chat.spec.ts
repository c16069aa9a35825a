import { requestFor } from '../../../../test/support/llm-adapter-helpers';
import type { ToolCall } from '../ports/llm-provider.port';
import { geminiChat } from './google-genai-chat';

const request = requestFor('gemini-2.5-flash');

describe('geminiChat: a conversation with tool calls in Gemini terms (Vertex AI and the Gemini API)', () => {
  const weather = (id: string, city: string): ToolCall => ({
    id,
    name: 'get_weather',
    arguments: JSON.stringify({ city }),
  });

  it.each(['vertex', 'gemini'] as const)(
    'sends the results of parallel calls in the order of the calls, whatever the order of the tool messages (%s)',
    (provider) => {
      // Two calls of one function: Gemini pairs each functionResponse with its functionCall by position when the parts
      // carry no id. Before, the results went in the tool messages' order: answered Rome first, Paris got Rome's.
      // (These calls have the model's ids, sent back with them: see below.)
      const { contents } = geminiChat(
        request({
          messages: [
            { role: 'user', content: 'Weather in Paris and Rome?' },
            { role: 'assistant', content: '', toolCalls: [weather('fc-1~ts~c2ln', 'Paris'), weather('fc-2', 'Rome')] },
            { role: 'tool', content: 'rainy', toolCallId: 'fc-2', toolName: 'get_weather' },
            { role: 'tool', content: 'sunny', toolCallId: 'fc-1~ts~c2ln', toolName: 'get_weather' },
            { role: 'user', content: 'Summarise.' },
          ],
        }),
        provider,
      );
      expect(contents).toEqual([
        { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
        {
          role: 'model',
          parts: [
            { functionCall: { id: 'fc-1', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln' },
            { functionCall: { id: 'fc-2', name: 'get_weather', args: { city: 'Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { id: 'fc-1', name: 'get_weather', response: { output: 'sunny' } } },
            { functionResponse: { id: 'fc-2', name: 'get_weather', response: { output: 'rainy' } } },
            { text: 'Summarise.' },
          ],
        },
      ]);
    },
  );

  it.each(['vertex', 'gemini'] as const)(
    "sends the model's own call id back on its functionCall and on the functionResponse answering it, never an id it made up (%s)",
    (provider) => {
      // Before, neither carried an id: the model's id reached the app and stopped there.
      const { contents } = geminiChat(
        request({
          messages: [
            { role: 'user', content: 'Weather in Paris and Rome?' },
            {
              role: 'assistant',
              content: '',
              toolCalls: [weather('gem-7f3a~ts~c2ln', 'Paris'), weather('call_0123456789abcdef', 'Rome')],
            },
            { role: 'tool', content: 'sunny', toolCallId: 'gem-7f3a~ts~c2ln', toolName: 'get_weather' },
            { role: 'tool', content: 'rainy', toolCallId: 'call_0123456789abcdef', toolName: 'get_weather' },
          ],
        }),
        provider,
      );
      const parts = (contents as { parts: Record<string, { id?: string }>[] }[]).flatMap((turn) => turn.parts);
      expect(parts.map((part) => part.functionCall?.id ?? part.functionResponse?.id ?? null)).toEqual([
        null, // the user's text
        'gem-7f3a',
        null, // call_ and 16 hex digits: the adapter's own id for a call the model gave none
        'gem-7f3a',
        null,
      ]);
    },
  );

  it('keeps each turn of results with its own calls, and a result of no call of the turn after the others', () => {
    const { contents } = geminiChat(
      request({
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: '', toolCalls: [weather('a', 'Oslo'), weather('b', 'Rome')] },
          { role: 'tool', content: 'B', toolCallId: 'b', toolName: 'get_weather' },
          { role: 'tool', content: 'A', toolCallId: 'a', toolName: 'get_weather' },
          { role: 'assistant', content: '', toolCalls: [weather('c', 'Lima')] },
          { role: 'tool', content: 'late', toolCallId: 'a', toolName: 'get_weather' },
          { role: 'tool', content: 'C', toolCallId: 'c', toolName: 'get_weather' },
        ],
      }),
      'gemini',
    );
    const outputs = (contents as { parts: { functionResponse?: { response: { output: unknown } } }[] }[]).map((turn) =>
      turn.parts.map((part) => part.functionResponse?.response.output),
    );
    expect(outputs).toEqual([[undefined], [undefined, undefined], ['A', 'B'], [undefined], ['C', 'late']]);
  });
});
