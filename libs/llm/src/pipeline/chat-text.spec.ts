import { answerText, redactArguments, toolDescriptions } from './chat-text';

describe('chat text: what scoring, inspection, spans and logs see of tool calls', () => {
  const call = { id: 'call_1', name: 'send_email', arguments: '{"to":"a@b.test"}' };

  it('is the text, then the calls one a line; the calls alone without text', () => {
    expect(answerText('Sure.', undefined)).toBe('Sure.');
    expect(answerText('', [call])).toBe('send_email({"to":"a@b.test"})');
    expect(answerText('Sending it now.', [call])).toBe('Sending it now.\nsend_email({"to":"a@b.test"})');
  });

  it('redacts arguments as one text when they stay a JSON object, else each of their strings', () => {
    const mask = (text: string): string => text.replace(/[a-z]+@[a-z.]+/g, '[REDACTED:EMAIL]');
    expect(redactArguments('{"to":"a@b.test","n":1}', mask)).toBe('{"to":"[REDACTED:EMAIL]","n":1}');
    expect(redactArguments('{"n":1}', mask)).toBe('{"n":1}');
    // A redactor whose replacement would break the JSON (a quote in it, or a finding across a quote): each string
    // value one by one (keys are names, kept), the arguments still an object.
    const quoting = (text: string): string => text.replace(/secret/g, '"x');
    const redacted = redactArguments('{"note":"a secret","secret":{"deep":["secret"]}}', quoting);
    expect(JSON.parse(redacted)).toEqual({ note: 'a "x', secret: { deep: ['"x'] } });
  });
});

describe('toolDescriptions: what the injection inspection reads of a call’s declarations', () => {
  it("joins a tool's description with its parameters' descriptions, nested ones too, and a json_schema format's", () => {
    const described = toolDescriptions({
      tools: [
        {
          name: 'send',
          description: 'Send a message.',
          parameters: {
            type: 'object',
            properties: {
              to: { type: 'string', description: 'Recipient.' },
              meta: { type: 'object', properties: { note: { type: 'string', description: 'Hidden words here.' } } },
            },
          },
        },
        { name: 'bare', parameters: { type: 'object' } },
      ],
      responseFormat: { type: 'json_schema', name: 'answer', schema: { description: 'The answer object.' } },
    });
    expect(described).toEqual([
      { name: 'send', text: expect.stringContaining('Send a message.') },
      { name: 'answer', text: '\nThe answer object.' },
    ]);
    expect(described[0]!.text).toContain('Recipient.');
    expect(described[0]!.text).toContain('Hidden words here.');
  });

  it('reads at most 20,000 characters of one tool', () => {
    const long = 'x'.repeat(30_000);
    const [tool] = toolDescriptions({
      tools: [{ name: 't', description: long, parameters: { properties: { a: { description: long } } } }],
    });
    expect(tool!.text.length).toBeLessThanOrEqual(20_001);
  });
});
