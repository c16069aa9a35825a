import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '@app/config';
import { QUALITY_MODEL_DIR, QualityModel } from './quality-model';

export type QualityModelStatus = 'loading' | 'loaded' | 'missing' | 'failed';

/**
 * Holds the trained quality model, loaded once at boot from `<MODELS_DIR>/quality`. When it is missing or
 * fails, the scorer uses the rules (and says `scorer: 'rules'`). A model that throws at prediction time is
 * dropped after 10 consecutive failures.
 */
@Injectable()
export class QualityModelStore implements OnModuleInit {
  private readonly logger = new Logger('QualityModel');
  private model?: QualityModel;
  private consecutiveFailures = 0;
  status: QualityModelStatus = 'loading';
  lastError?: string;

  constructor(private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    const dir = join(this.config.ml.modelsDir, QUALITY_MODEL_DIR);
    try {
      this.use(await QualityModel.load(dir));
      this.logger.log(`quality model loaded from ${dir} (${this.model?.meta?.embedder ?? 'unknown embedder'})`);
    } catch (error) {
      this.lastError = (error as Error).message;
      this.status = /ENOENT/.test(this.lastError) ? 'missing' : 'failed';
      this.logger.warn(`quality model not loaded from ${dir}: ${this.lastError}; scoring with rules`);
    }
  }

  get current(): QualityModel | undefined {
    return this.model;
  }

  use(model: QualityModel | undefined): void {
    this.model = model;
    this.status = model ? 'loaded' : 'missing';
    this.consecutiveFailures = 0;
  }

  reportSuccess(): void {
    this.consecutiveFailures = 0;
  }

  reportFailure(error: unknown): void {
    this.lastError = (error as Error).message;
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures === 1)
      this.logger.warn(`quality model failed (${this.lastError}); rules used for this call`);
    if (this.consecutiveFailures >= 10) {
      this.logger.error(
        `quality model failed ${this.consecutiveFailures} times in a row; scoring with rules from now on`,
      );
      this.model = undefined;
      this.status = 'failed';
    }
  }
}
