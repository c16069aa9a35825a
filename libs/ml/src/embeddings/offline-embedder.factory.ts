import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { GloveEmbedder, loadGloveTable } from './glove-embedder';
import { HashedNgramEmbedder } from './hashed-ngram-embedder';
import type { OfflineEmbedder } from './offline-embedder';

export type OfflineEmbedderKind = 'glove' | 'hashed';

/**
 * The offline embedder: GloVe vectors from `<modelsDir>/embeddings` when they load, else the hashed n-gram
 * floor (logged once, never silent).
 */
export function createOfflineEmbedder(modelsDir: string, kind: OfflineEmbedderKind = 'glove'): OfflineEmbedder {
  if (kind === 'hashed') return new HashedNgramEmbedder();
  try {
    return new GloveEmbedder(loadGloveTable(join(modelsDir, 'embeddings')));
  } catch (error) {
    new Logger('OfflineEmbedder').warn(
      `GloVe vectors not loaded from ${join(modelsDir, 'embeddings')} (${(error as Error).message}); using the hashed n-gram embedder`,
    );
    return new HashedNgramEmbedder();
  }
}
