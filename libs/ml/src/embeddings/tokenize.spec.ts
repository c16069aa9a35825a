import { tokenize } from './tokenize';

describe('tokenize', () => {
  it('makes words of letters in any script, with their combining marks; a Chinese or Japanese character is one', () => {
    expect(tokenize('Les données sont là')).toEqual(['les', 'données', 'sont', 'là']);
    expect(tokenize('Машинное обучение — это')).toEqual(['машинное', 'обучение', 'это']);
    expect(tokenize('التعلم الآلي')).toEqual(['التعلم', 'الآلي']);
    expect(tokenize('머신러닝은 분야입니다')).toEqual(['머신러닝은', '분야입니다']);
    expect(tokenize('AI是机器学习')).toEqual(['ai', '是', '机', '器', '学', '习']);
    expect(tokenize('データから学習')).toEqual(['デ', 'ー', 'タ', 'か', 'ら', '学', '習']);
    expect(tokenize('cafe\u0301 na\u0308ive')).toEqual(['cafe\u0301', 'na\u0308ive']);
    expect(tokenize('。！？… — “”')).toEqual([]);
  });

  it('gives English the tokens it always had, with or without curly quotes, dashes and other scripts beside it', () => {
    const english = "It’s a well-known fact — “42” isn’t the answer; don't over-think it (3.14).";
    const expected = [
      'it’s',
      'a',
      'well-known',
      'fact',
      '42',
      'isn’t',
      'the',
      'answer',
      "don't",
      'over-think',
      'it',
      '3',
      '14',
    ];
    expect(tokenize(english)).toEqual(expected);
    expect(tokenize(`${english} 日`)).toEqual([...expected, '日']);
  });
});
