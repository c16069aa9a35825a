import { previousTurnOf } from './previous-turn';

describe('previousTurnOf', () => {
  it('is the user turn before the last one and the assistant text between them', () => {
    expect(
      previousTurnOf([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is the weather in Paris?' },
        { role: 'assistant', content: '' },
        { role: 'tool', content: '{"temp": 21}' },
        { role: 'assistant', content: 'Sunny, 21 °C.' },
        { role: 'user', content: 'And tomorrow?' },
      ]),
    ).toEqual({ question: 'What is the weather in Paris?', answer: 'Sunny, 21 °C.' });
  });

  it('is undefined for a first question, and ignores what follows the last user turn', () => {
    expect(previousTurnOf([{ role: 'user', content: 'Hi' }])).toBeUndefined();
    expect(
      previousTurnOf([
        { role: 'system', content: 'x' },
        { role: 'user', content: 'Hi' },
      ]),
    ).toBeUndefined();
    expect(
      previousTurnOf([
        { role: 'user', content: 'A' },
        { role: 'assistant', content: 'B' },
        { role: 'user', content: 'C' },
        { role: 'assistant', content: 'prefill' },
      ]),
    ).toEqual({ question: 'A', answer: 'B' });
  });
});
