/** Lower-case word tokens (letters, digits, inner apostrophes and hyphens). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:['’-][a-z0-9]+)*/g) ?? [];
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
