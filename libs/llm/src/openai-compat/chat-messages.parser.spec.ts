import { Issues, parseMessages } from './chat-messages.parser';

describe('parseMessages: tool calls and the tool messages answering them', () => {
  it('refuses two calls of one id in an assistant message, naming the second: no tool message could tell them apart', () => {
    const issues = new Issues();
    parseMessages(
      [
        { role: 'user', content: 'Weather and time?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
            { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      issues,
    );
    // Before, it was taken: the tool message answered get_time, and get_weather's result was never sent.
    expect(issues.problems).toEqual([
      {
        field: 'messages[1].tool_calls[1].id',
        reason: 'messages[1].tool_calls[1].id is the id of an earlier call of this message: each call needs its own',
      },
    ]);
  });

  it('takes one id in two assistant messages: a tool message answers the latest call of that id', () => {
    const issues = new Issues();
    const call = (name: string): unknown => ({ id: 'call_0', type: 'function', function: { name, arguments: '{}' } });
    const messages = parseMessages(
      [
        { role: 'user', content: 'Weather, then time?' },
        { role: 'assistant', content: null, tool_calls: [call('get_weather')] },
        { role: 'tool', tool_call_id: 'call_0', content: 'sunny' },
        { role: 'assistant', content: null, tool_calls: [call('get_time')] },
        { role: 'tool', tool_call_id: 'call_0', content: 'noon' },
      ],
      issues,
    );
    expect(issues.problems).toEqual([]);
    expect(messages.filter((m) => m.role === 'tool').map((m) => m.toolName)).toEqual(['get_weather', 'get_time']);
  });

  it('takes malformed arguments as text where the provider does (OpenAI-compatible), else refuses them, naming the field', () => {
    const conversation = [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: "{'city': 'Oslo'}" } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'error: not JSON' },
    ];
    const text = new Issues();
    const messages = parseMessages(conversation, text, { textToolArguments: true });
    expect(text.problems).toEqual([]);
    expect(messages[1]!.toolCalls).toEqual([{ id: 'c1', name: 'get_weather', arguments: "{'city': 'Oslo'}" }]);

    const object = new Issues();
    parseMessages(conversation, object);
    expect(object.problems.map((p) => p.field)).toEqual(['messages[1].tool_calls[0].function.arguments']);
    const notText = new Issues();
    parseMessages(
      [
        conversation[0],
        { ...conversation[1], tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: {} } }] },
      ],
      notText,
      { textToolArguments: true },
    );
    expect(notText.problems).toEqual([
      {
        field: 'messages[1].tool_calls[0].function.arguments',
        reason: 'messages[1].tool_calls[0].function.arguments must be a string',
      },
    ]);
  });
});
