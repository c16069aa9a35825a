/** Scripts written without spaces between words. */
const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}`;
const WORD_PART = String.raw`(?:(?![${CJK}])[\p{L}\p{N}])[\p{M}]*`;
const WORD = `(?:${WORD_PART})+`;
const TOKEN = new RegExp(String.raw`[${CJK}]|${WORD}(?:['’-]${WORD})*`, 'gu');
/** The same tokens, 7 times faster, for text whose letters and digits are all ASCII (most English). */
const ASCII_TOKEN = /[a-z0-9]+(?:['’-][a-z0-9]+)*/g;
/** A character outside ASCII and the general punctuation block (curly quotes, dashes, ellipsis: no letter there). */
const BEYOND_ASCII_WORDS = /[^\t-~\u2010-\u2027\u2030-\u205e]/;

/**
 * Lower-case word tokens: runs of letters (any script, with their combining marks) and digits, with inner
 * apostrophes and hyphens; a Chinese or Japanese character (Han, Hiragana, Katakana: written without spaces) is a
 * token of its own. Until 2026-12-07 only `[a-z0-9]` made tokens: an answer in Chinese, Japanese, Korean, Russian
 * or Arabic had none and was scored `empty` (a failure to answer), and "données" was the two words "donn" and "es".
 */
export function tokenize(text: string): string[] {
  const lower = text.toLowerCase();
  return lower.match(BEYOND_ASCII_WORDS.test(lower) ? TOKEN : ASCII_TOKEN) ?? [];
}

/** FNV-1a 32-bit hash of a string. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** A very small English stop-word list, for the lexical signals. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but if then else of to in on at by for with from into onto about as is are was were be been ' +
    'being am do does did doing have has had having i you he she it we they me him her us them my your his its our ' +
    'their this that these those there here what which who whom whose when where why how all any both each few more ' +
    'most other some such no nor not only own same so than too very can will just should would could may might must ' +
    'shall s t don now up down out over under again further once also please tell explain give me describe'
  ).split(' '),
);

/** Content words: tokens that are not stop words. */
export function contentWords(text: string): string[] {
  return tokenize(text).filter((t) => !STOP_WORDS.has(t));
}
