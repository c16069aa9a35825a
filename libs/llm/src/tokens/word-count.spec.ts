import { wordCount } from './word-count';

const byRegex = (text: string): number => (text.trim() ? text.trim().split(/\s+/).length : 0);

describe('wordCount', () => {
  it('counts like trim + split(/\\s+/) with every UTF-16 code unit as a separator', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      for (const text of [`a${ch}b`, `${ch}a`, `a${ch}`, ch, `${ch}${ch}x${ch}y`]) {
        if (wordCount(text) !== byRegex(text))
          throw new Error(`differs for U+${c.toString(16)} in ${JSON.stringify(text)}`);
      }
    }
  });

  it('counts like the regex on mixed text', () => {
    const samples = [
      '',
      '   ',
      'one',
      ' two words ',
      'tab\tand\nnewline\r\nend',
      'nbsp\u00a0and\u3000ideographic',
      'a  b   c',
    ];
    for (const text of samples) expect(wordCount(text)).toBe(byRegex(text));
    expect(wordCount('The answer is 42.')).toBe(4);
  });
});
