import { plainToInstance } from 'class-transformer';
import { BooleanFromText } from './boolean-from-text';

class Query {
  @BooleanFromText()
  flag?: unknown;
  @BooleanFromText({ emptyIs: false })
  drill?: unknown;
}

const flagOf = (value: unknown): unknown => plainToInstance(Query, { flag: value }).flag;

describe('BooleanFromText', () => {
  it("takes FastAPI's spellings in any case, as Python clients send them (requests writes False as 'False')", () => {
    for (const text of ['true', 'True', 'TRUE', '1', 'yes', 'On', 't', 'Y'])
      expect([text, flagOf(text)]).toEqual([text, true]);
    for (const text of ['false', 'False', '0', 'no', 'OFF', 'f', 'n'])
      expect([text, flagOf(text)]).toEqual([text, false]);
    expect(flagOf(true)).toBe(true);
    expect(flagOf(false)).toBe(false);
  });

  it('leaves anything else as sent, for @IsBoolean to refuse; the empty text only when told what it means', () => {
    for (const value of ['maybe', '2', 'truee', ' true', '', 1, 0, [], null])
      expect([value, flagOf(value)]).toEqual([value, value]);
    expect(plainToInstance(Query, { drill: '' }).drill).toBe(false);
  });
});
