import { type DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { loadConfig, type LoadConfigOptions } from './load-config';

/**
 * Provides the validated `AppConfig` to the whole application. `forRoot()` validates the environment;
 * `forConfig()` takes an already loaded config (the process entry point validates once, before tracing starts).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(options?: LoadConfigOptions): DynamicModule {
    return ConfigModule.forConfig(loadConfig(options));
  }

  static forConfig(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
