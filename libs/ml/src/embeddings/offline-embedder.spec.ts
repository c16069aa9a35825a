import { join } from 'node:path';
import { createOfflineEmbedder } from './offline-embedder.factory';
import { GloveEmbedder, loadGloveTable } from './glove-embedder';
import { HashedNgramEmbedder } from './hashed-ngram-embedder';
import { cosine } from './tokenize';

const MODELS = join(__dirname, '../../../../models');

describe('offline embedders', () => {
  const glove = new GloveEmbedder(loadGloveTable(join(MODELS, 'embeddings')));
  const hashed = new HashedNgramEmbedder();
  const sim = (e: { embed(t: string): Float32Array }, a: string, b: string): number => cosine(e.embed(a), e.embed(b));

  it('loads the committed GloVe table (30k words x 100 dims)', () => {
    expect(glove.dimensions).toBe(100);
    expect(glove.name).toBe('glove-100d-30k');
    expect(createOfflineEmbedder(MODELS)).toBeInstanceOf(GloveEmbedder);
  });

  it('GloVe knows meaning that spelling does not: synonyms are close, unrelated words are not', () => {
    expect(sim(glove, 'car', 'automobile')).toBeGreaterThan(0.5);
    expect(sim(glove, 'car', 'automobile')).toBeGreaterThan(sim(glove, 'car', 'banana') + 0.3);
    expect(sim(hashed, 'car', 'automobile')).toBeLessThan(0.2);
    expect(sim(glove, 'How tall is the tower?', 'It stands 330 metres high.')).toBeGreaterThan(
      sim(glove, 'How tall is the tower?', 'Plants absorb carbon dioxide.'),
    );
  });

  it('gives unknown words a stable vector of their own, so rare exact terms still match', () => {
    expect(sim(glove, 'zxqvbn', 'zxqvbn')).toBeCloseTo(1, 5);
    expect(sim(glove, 'zxqvbn', 'wplkjh')).toBeLessThan(0.5);
  });

  it('falls back to the hashed embedder when the table is missing', () => {
    expect(createOfflineEmbedder('/nonexistent')).toBeInstanceOf(HashedNgramEmbedder);
    expect(sim(hashed, 'kubernetes pods', 'kubernetes pod')).toBeGreaterThan(0.5);
  });
});
