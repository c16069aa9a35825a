import { join } from 'node:path';
import { GloveEmbedder, loadGloveTable } from '../../libs/ml/src/embeddings/glove-embedder';
import { QualityModelStore } from '../../libs/ml/src/quality/quality-model.store';
import { QualityScorer } from '../../libs/ml/src/quality/quality-scorer';
import { testConfig } from './app-config';

const MODELS = join(__dirname, '../../models');

/** The quality scorer as the service builds it: the committed model and GloVe vectors of `models/`. */
export async function servedQualityScorer(): Promise<QualityScorer> {
  const store = new QualityModelStore(testConfig({ MODELS_DIR: MODELS }));
  await store.onModuleInit();
  return new QualityScorer(new GloveEmbedder(loadGloveTable(join(MODELS, 'embeddings'))), store);
}
