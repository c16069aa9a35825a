import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { BpeCounter } from './bpe-counter';
import { TokenEstimator } from './token-estimator';

const ROOT = join(__dirname, '../../../..');

function corpus(): string[] {
  const texts = [
    'hello world',
    'Ünïcödé façade, 日本語のテキスト, emojis 🚀🎉👩‍👩‍👧',
    'a'.repeat(3000),
    '   spaces\n\n\ttabs\r\n  ',
    "I'm can't won't they'll We'RE you'VE",
    '12345678901234567890 3.14159 1e-7',
    'def f(x):\n    return x ** 2  # comment\n',
  ];
  const files = [join(ROOT, 'README.md'), join(ROOT, 'docs/telemetry.md'), join(ROOT, 'libs/llm/src/llm.service.ts')];
  for (const name of readdirSync(join(ROOT, 'data'), { recursive: true }) as string[]) {
    const path = join(ROOT, 'data', name);
    if (statSync(path).isFile() && statSync(path).size < 3_000_000) files.push(path);
  }
  for (const file of files)
    texts.push(
      ...readFileSync(file, 'utf8')
        .slice(0, 100_000)
        .split(/\n(?=\S)/)
        .slice(0, 300),
    );
  return texts;
}

describe('BpeCounter (cl100k_base)', () => {
  const counter = new BpeCounter(cl100k);
  const reference = new Tiktoken(cl100k);

  it('counts exactly what js-tiktoken encodes, on prose, code, unicode, digits and long runs', () => {
    const texts = corpus();
    expect(texts.length).toBeGreaterThan(500);
    const mismatches = texts.filter((t) => counter.count(t) !== reference.encode(t).length);
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('holds every rank of the encoding and counts special-token text as text instead of throwing', () => {
    expect(counter.size).toBe(100_256);
    expect(() => reference.encode('quote <|endoftext|> here')).toThrow();
    expect(counter.count('quote <|endoftext|> here')).toBeGreaterThan(4);
    expect(counter.count('')).toBe(0);
  });

  it('rejects a malformed rank file with a message', () => {
    expect(() => new BpeCounter({ pat_str: '\\S+', special_tokens: {}, bpe_ranks: 'x notanumber QQ==' })).toThrow(
      /bad rank line/,
    );
  });

  it('is what TokenEstimator counts with', () => {
    const estimator = new TokenEstimator();
    expect(estimator.count('The quick brown fox jumps over the lazy dog.')).toBe(
      reference.encode('The quick brown fox jumps over the lazy dog.').length,
    );
  });

  it('estimates a long text from all of its parts, not from its head', () => {
    // English instructions, then a Chinese document: the head alone (4 characters a token) put the first text's
    // 38,000 tokens at 11,000 (a /v1 call of 111,000 at 21,000), and the call's cost and budget reservation with them.
    const estimator = new TokenEstimator();
    const english = 'Please summarise the following document carefully, keeping the key points and the numbers. ';
    const chinese = '机器学习是人工智能的一个分支，它使计算机能够在没有明确编程的情况下从数据中学习。';
    const emoji = 'status 🚀 ok 👩‍👩‍👧 done 🎉 ';
    for (const text of [
      `${english.repeat(220)}\n${chinese.repeat(800)}`,
      `${chinese.repeat(150)}\n${english.repeat(300)}`,
      `${english.repeat(100)}${emoji.repeat(1000)}${english.repeat(100)}`,
    ]) {
      const exact = reference.encode(text).length;
      expect(Math.abs(estimator.count(text) - exact) / exact).toBeLessThan(0.05);
    }
  });
});
