import { plainToInstance } from 'class-transformer';
import { growthRatio } from '../../../../test/support/growth';
import { DECIMAL_TEXT, NumberFromText } from './number-from-text';

class Query {
  @NumberFromText()
  hours?: unknown;
}

const hoursOf = (value: unknown): unknown => plainToInstance(Query, { hours: value }).hours;

describe('NumberFromText', () => {
  it('turns decimal text into a number and leaves anything else as sent', () => {
    for (const [text, number] of [
      ['24', 24],
      ['-1.5', -1.5],
      ['+7.', 7],
      ['.5', 0.5],
      ['1e3', 1000],
      ['2.5E-1', 0.25],
    ] as const)
      expect([text, hoursOf(text)]).toEqual([text, number]);
    for (const value of ['0x10', '0b1', 'Infinity', '', ' ', '.', '1.2.3', '1e', 'e3', '--1', true, []])
      expect([value, hoursOf(value)]).toEqual([value, value]);
  });

  it('refuses a long run of digits in linear time (was quadratic: 15,000 digits and a letter, 0.23 s)', () => {
    const texts = new Map([2000, 16_000].map((n) => [n, `${'0'.repeat(n)}x`]));
    expect(DECIMAL_TEXT.test(texts.get(2000)!)).toBe(false);
    // 8 times the text: about 8 times the time when linear, 64 times when quadratic.
    expect(growthRatio((n) => DECIMAL_TEXT.test(texts.get(n)!), 2000, 16_000)).toBeLessThan(24);
  });
});
