import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@app/config';
import { AppModule } from './app.module';
import { setupOpenApi } from './openapi/openapi';

export interface CreateAppOptions {
  /** Replace nestjs-pino as the Nest logger (tests and CLI tools); default: the JSON logger. */
  quiet?: boolean;
}

/** Builds the application (not listening): Fastify with the body limit, JSON logs, OpenAPI at /docs. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: !options.quiet,
    logger: options.quiet ? false : undefined,
    abortOnError: false,
  });
  if (!options.quiet) app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  setupOpenApi(app, config);
  return app;
}
