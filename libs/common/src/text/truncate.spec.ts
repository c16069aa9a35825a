import { headOf, truncate } from './truncate';

describe('headOf and truncate', () => {
  it('cut at a count of UTF-16 code units, one fewer where the cut would leave half an emoji', () => {
    const text = `a${'😀'.repeat(10)}`;
    expect(headOf(text, 4)).toBe('a😀');
    expect(headOf(text, 5)).toBe('a😀😀');
    expect(headOf(text, 100)).toBe(text);
    expect(headOf('😀', 1)).toBe('');
    for (let max = 1; max < text.length; max++) {
      expect(headOf(text, max).isWellFormed()).toBe(true);
      expect(truncate(text, max).isWellFormed()).toBe(true);
    }
    expect(truncate(text, 4)).toBe('a😀…[+18 chars]');
  });
});
