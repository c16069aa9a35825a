import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '@app/config';
import { InMemoryMetrics, MetricsPort, TelemetryModule } from '@app/telemetry';
import { testConfig } from '../../../../test/support/app-config';
import { MlModule, RoutePredictor } from '../index';
import { RouterModel } from './router-model';

async function predictorWith(modelsDir: string): Promise<RoutePredictor> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forConfig(testConfig({ MODELS_DIR: modelsDir })), TelemetryModule.forRoot(), MlModule],
  })
    .overrideProvider(MetricsPort)
    .useValue(new InMemoryMetrics())
    .compile();
  const predictor = moduleRef.get(RoutePredictor);
  await moduleRef.close();
  return predictor;
}

describe('MlModule RoutePredictor', () => {
  it('provides the committed router model from MODELS_DIR/router', async () => {
    const predictor = await predictorWith(join(__dirname, '../../../../models'));
    expect(predictor).toBeInstanceOf(RouterModel);
    expect(predictor.status()).toMatchObject({ loaded: true, models: expect.arrayContaining(['gemini-2.5-pro']) });
  });

  it('provides a predictor that is not loaded, and says why, without a model', async () => {
    // An empty MODELS_DIR (a set MODELS_DIR must exist: loadConfig refuses a missing one).
    const empty = mkdtempSync(join(tmpdir(), 'lrcp-no-models-'));
    try {
      const predictor = await predictorWith(empty);
      expect(predictor.status()).toMatchObject({ loaded: false, trainedOn: 0, models: [] });
      expect(predictor.status().reason).toContain(join(empty, 'router'));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
