import { decodeRouteDecision, encodeRouteDecision, extractRouteFeatures, routeTokenEstimate } from './route-features';

const reason = (text: string) => extractRouteFeatures({ endpoint: 'reason', userText: text, prompt: text });

describe('extractRouteFeatures (hand-written prompts)', () => {
  it.each([
    'How do I select the second highest salary from an employees table in SQL?',
    'Write a Python script that renames every .jpg file in a folder',
    'my code crashes with a stack trace when I open the settings page, why',
    'const total = items.reduce((a, b) => a + b, 0); why is this NaN?',
    'Can you refactor this method so it is easier to unit test?',
    'What is the regex for a Dutch postcode?',
  ])('sees code in %p', (text) => {
    expect(reason(text).code).toBe(true);
  });

  it.each([
    'What is 17% of 2,450?',
    'Calculate the compound interest on 5,000 at 3 percent over 10 years',
    'What is the square root of 1764?',
    'Is 221 a prime number?',
    'Solve 3x - 7 = 2x + 5',
    'Roll three dice: what is the probability that at least one shows a six?',
  ])('sees math in %p', (text) => {
    expect(reason(text).math).toBe(true);
  });

  it.each([
    'What is the capital of Peru?',
    'hi! how are you today?',
    'Write a haiku about autumn rain.',
    'Why is the sky blue?',
    'My postcode changed after the move, who do I tell?',
    'Tell me something fun about octopuses',
  ])('sees neither code nor math in %p', (text) => {
    const f = reason(text);
    expect(f.code).toBe(false);
    expect(f.math).toBe(false);
  });

  it('types questions by their first words', () => {
    expect(reason('Why do onions make you cry?').questionType).toBe('why');
    expect(reason('How does GPS work?').questionType).toBe('how');
    expect(reason('Who painted the Sistine Chapel ceiling?').questionType).toBe('factual');
    expect(reason('What is the difference between TCP and UDP?').questionType).toBe('compare');
    expect(reason('Summarise this report in three bullets.').questionType).toBe('instruction');
    expect(reason('thanks, that helped').questionType).toBe('other');
  });

  it('flags multi-step requests', () => {
    expect(reason('Plan a 5-day trip to Japan, first Tokyo then Kyoto.').multiStep).toBe(true);
    expect(reason('Walk me through the trade-offs of renting versus buying.').multiStep).toBe(true);
    expect(reason('What year did the Titanic sink?').multiStep).toBe(false);
  });

  it('measures the prompt and the document (about four characters a token) and counts words', () => {
    const document = 'The library closes at 4pm on Friday for staff training. '.repeat(10).trim();
    const prompt = `Q: When does it close?\nContext: ${document}`;
    const f = extractRouteFeatures({ endpoint: 'qa', userText: 'When does it close?', prompt, document });
    expect(f).toMatchObject({ endpoint: 'qa', hasDocument: true, words: 4, questionType: 'factual' });
    expect(f.promptTokens).toBe(routeTokenEstimate(prompt));
    expect(f.documentTokens).toBe(Math.ceil(document.length / 4));
    expect(reason('   ').hasDocument).toBe(false);
  });

  it('round-trips through the ledger encoding, which stays within 200 characters', () => {
    const f = reason('Write a Python function that merges two sorted lists, step by step.');
    const text = encodeRouteDecision(f, { mode: 'learned', reason: 'cheapest_meeting_constraints', explored: false });
    expect(text.length).toBeLessThanOrEqual(200);
    expect(decodeRouteDecision(text)).toEqual({
      features: f,
      mode: 'learned',
      reason: 'cheapest_meeting_constraints',
      explored: false,
    });
    expect(decodeRouteDecision('rf0|learned|x|0')).toBeUndefined();
    expect(decodeRouteDecision(null)).toBeUndefined();
  });
});
