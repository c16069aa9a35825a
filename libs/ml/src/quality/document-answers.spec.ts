import { servedQualityScorer } from '../../../../test/support/quality-scorer';
import type { QualityScorer } from './quality-scorer';
import type { QualityInput } from './quality.types';

/**
 * Answers about a multi-paragraph document (docs/ml.md, "RAG traffic"): what the document does not say, negations that
 * bear on another word, and a number put in the slot of the document's own.
 */
const MANUAL = [
  'The K9 kettle holds 1.7 litres and boils a full load in about four minutes. Do not fill it above the MAX line.',
  'To descale the kettle, fill it with equal parts water and white vinegar, boil once and leave it for 30 minutes. Rinse it twice with clean water afterwards.',
  'The base does not work with 110-volt sockets. The kettle switches itself off when it boils or when it is lifted from the base.',
  'The warranty covers the kettle for two years from the date of purchase. Keep the receipt as proof of purchase.',
].join('\n\n');

const ask = (question: string, answer: string, document = MANUAL): QualityInput => ({
  endpoint: 'qa',
  question,
  answer,
  document,
  finishReason: 'stop',
  safetyBlocked: false,
});

describe('quality score of answers about a document', () => {
  let scorer: QualityScorer;

  beforeAll(async () => {
    scorer = await servedQualityScorer();
  });

  it('scores "the document does not say" good when the document lacks it, a refusal when it has it', () => {
    // Before: every one of these was a refusal (0.04–0.2) or contradicted the document.
    for (const [question, answer] of [
      ['Does the K9 kettle have a keep-warm function?', 'The manual does not say whether it has a keep-warm function.'],
      ['What colours is the K9 sold in?', 'The document does not mention the colours it is sold in.'],
      ['Who manufactures the K9?', 'The manual does not say who makes it.'],
      ['Is the K9 dishwasher safe?', 'That is not stated in the manual.'],
    ] as const) {
      const report = scorer.score(ask(question, answer));
      expect({ answer, label: report.label, failed: report.failureToAnswer, ungrounded: report.ungrounded }).toEqual({
        answer,
        label: 'good',
        failed: false,
        ungrounded: false,
      });
      expect(report.reasons).toEqual(['not_in_document']);
    }
    for (const [question, answer] of [
      ['How long is the warranty?', 'The document does not mention how long the warranty lasts.'],
      ['How long do I leave the vinegar in the kettle?', 'The manual does not say how long to leave it.'],
      // One sentence has most of the question's words ("stand" for "base"): it is about the question.
      ['When does the kettle switch itself off on its stand?', 'The manual does not say when it switches off.'],
      // A modifier of a word the document has ("boil **time**"): the document may say it in other words.
      ['What is the boil time for a full kettle?', 'The document does not specify the boil time.'],
    ] as const) {
      const report = scorer.score(ask(question, answer));
      expect({ answer, label: report.label, failed: report.failureToAnswer }).toEqual({
        answer,
        label: 'bad',
        failed: true,
      });
      expect(report.reasons).toContain('refusal');
    }
    // An acronym the document spells out is in it.
    const acronym = scorer.score(
      ask(
        'What does the DNS resolver cache?',
        'The text does not say.',
        'The Domain Name System resolver caches answers.',
      ),
    );
    expect(acronym.reasons).toContain('refusal');
  });

  it('counts a negation against the document when it bears on a word of the other sentence, or a whole statement', () => {
    // Before: "110-volt sockets." contradicted a sentence whose other clause says "does not".
    const short = scorer.score(ask('Which sockets does the base not work with?', '110-volt sockets.'));
    expect(short.reasons).not.toContain('contradicts_document');
    const max = scorer.score(ask('What is the most water the K9 holds?', '1.7 litres, up to the MAX line.'));
    expect(max.reasons).not.toContain('contradicts_document');
    // The negation bears on "work", which the answer affirms: a contradiction, as before.
    const flipped = scorer.score(
      ask('Does the base work with 110-volt sockets?', 'Yes, the base works with 110-volt sockets.'),
    );
    expect(flipped.reasons).toContain('contradicts_document');
    // A whole statement against a negated sentence still contradicts it, though worded otherwise.
    const cure = scorer.score(
      ask(
        'Do antibiotics help against the flu?',
        'Yes, antibiotics are the standard cure for the flu virus.',
        'Antibiotics do not work against viruses such as the flu.',
      ),
    );
    expect(cure.reasons).toContain('contradicts_document');
  });

  it("scores a number put in the slot of the document's own bad (unit conflict), not one derived from it", () => {
    // Before: `good` or `degraded`: 60 = 30 × 2, 3.4 = 1.7 × 2 and six = four + two are one step from numbers of the
    // document (the warranty's "two years"), so the values counted as known.
    for (const [question, answer] of [
      ['How long do I leave the vinegar in the kettle?', 'Boil it once and leave it for 60 minutes.'],
      ['How much water does the K9 hold?', 'The K9 kettle holds 3.4 litres.'],
      ['How long does a full load take to boil?', 'It boils a full load in about six minutes.'],
    ] as const) {
      const report = scorer.score(ask(question, answer));
      expect({ answer, label: report.label }).toEqual({ answer, label: 'bad' });
      expect(report.reasons).toContain('contradicts_document');
    }
    // A value the next sentence states with another unit is no excuse (before: "two" was known from "two tablets").
    const doses = scorer.score(
      ask(
        'How long should I wait between doses?',
        'Leave at least two hours between doses.',
        'Take two tablets at a time. Leave at least eight hours between doses.',
      ),
    );
    expect(doses.label).toBe('bad');
    const years = scorer.score(ask('How long is the warranty?', 'Three years from the date of purchase.'));
    expect(years.label).toBe('bad');
    // The document's own number, and a value one step from the passage's numbers, are not conflicts.
    expect(scorer.score(ask('How long do I leave the vinegar in the kettle?', 'For 30 minutes.')).label).toBe('good');
    // A value the document states without a unit may be the one the answer gives a unit to.
    const page = scorer.score(
      ask(
        'What is the largest page size?',
        '- Default: 50 items\n- Maximum: 200 items',
        'Lists return 50 items per page by default; you can ask for up to 200 with the limit parameter.',
      ),
    );
    expect(page.reasons).not.toContain('contradicts_document');
    const derived = scorer.score(
      ask(
        'How much does the refill add?',
        'It adds 200 grams, for 1,200 grams in all.',
        'The box holds 1,000 grams. A refill adds 200 grams.',
      ),
    );
    expect(derived.reasons).not.toContain('contradicts_document');
  });

  it('reads a cited answer as the same answer uncited: "[1]" is no number the answer states', () => {
    // Before: the "3" of "[3]" was a number the passage does not state (a number conflict), and cited answers scored lower.
    const question = 'How long do I leave the vinegar in the kettle?';
    const plain = scorer.score(ask(question, 'Boil it once and leave it for 30 minutes.'));
    for (const cited of [
      'Boil it once and leave it for 30 minutes [3].',
      'Boil it once [1] and leave it for 30 minutes [2, 3].',
    ])
      expect({ cited, overall: scorer.score(ask(question, cited)).overall }).toEqual({ cited, overall: plain.overall });
    expect(scorer.signals(ask(question, 'Leave it for 30 minutes [3].')).numberConflict).toBe(false);
  });

  it('reads "rose" where the document says "fell" as an opposite', () => {
    const report = scorer.signals(
      ask('What happened to profit?', 'Profit rose to 310 million dollars.', 'Profit fell to 310 million dollars.'),
    );
    expect(report.antonymConflict).toBe(true);
  });
});
