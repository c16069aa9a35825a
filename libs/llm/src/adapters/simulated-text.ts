import { seededRandom } from '@app/common';
/** Deterministic text for the simulated provider: extractive answers from the prompt, never lorem ipsum. */

const STOPWORDS = new Set(
  'a an and are as at be by can could did do does for from has have how i if in into is it its me my of on or our should so than that the their them then there these they this to was we were what when where which who why will with would you your q context n/a'.split(
    ' ',
  ),
);

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9][a-z0-9'-]*/g) ?? [];
}

export function keywords(text: string, limit = 6): string[] {
  const seen = new Set<string>();
  for (const w of words(text)) if (!STOPWORDS.has(w) && w.length > 2) seen.add(w);
  return [...seen].slice(0, limit);
}

/** 32-bit FNV-1a hash. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 20);
}

/** Splits the service's QA prompt ("Q: ...\nContext: ...") into question and context. */
export function parseQaPrompt(prompt: string): { question: string; context?: string } {
  const match = /^Q:\s*([\s\S]*?)\nContext:\s*([\s\S]*)$/.exec(prompt.trim());
  if (!match) return { question: prompt };
  const context = match[2]!.trim();
  return { question: match[1]!.trim(), context: context === 'N/A' ? undefined : context };
}

/** Builds the simulated answer for a prompt: deterministic for (prompt, seed). */
export function simulatedAnswer(prompt: string, seed: number): string {
  const random = seededRandom(hash32(prompt, seed));
  const { question, context } = parseQaPrompt(prompt);
  const keys = keywords(question);
  const topic = keys.length > 0 ? keys.slice(0, 3).join(', ') : 'the request';
  if (context) {
    const qWords = new Set(keywords(question, 20));
    const ranked = sentences(context)
      .map((s, i) => ({ s, i, score: words(s).filter((w) => qWords.has(w)).length }))
      .filter((x) => x.score > 0)
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, 2)
      .sort((a, b) => a.i - b.i);
    if (ranked.length > 0) return `According to the provided document, ${ranked.map((r) => r.s).join(' ')}`;
    return `The provided document does not say anything about ${topic}, so I cannot answer from it.`;
  }
  const templates = [
    (k: string) => `First, clarify what ${k} means here and which facts about it are established.`,
    (k: string) => `Next, look at the main factors that influence ${k} and how they interact.`,
    (k: string) => `Then, weigh the evidence for and against each explanation of ${k}.`,
    (k: string) => `Finally, check the conclusion about ${k} against known counter-examples.`,
  ];
  const steps = 2 + Math.floor(random() * 3);
  const parts = [`Regarding ${topic}:`];
  for (let i = 0; i < steps; i++) parts.push(templates[i]!(keys[i % Math.max(1, keys.length)] ?? 'the question'));
  parts.push(`In short, an answer about ${topic} follows from these steps.`);
  return parts.join(' ');
}
