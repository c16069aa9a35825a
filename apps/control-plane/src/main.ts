// Must stay the first import: validates the configuration and starts tracing before anything is loaded.
import './instrument';
import { Logger } from 'nestjs-pino';
import { type AppConfig, getBootConfig } from '@app/config';
import { bootFailure } from './boot-failure';
import { createApp } from './create-app';

async function bootstrap(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  app.get(Logger).log(`control plane listening on ${await app.getUrl()}`, 'Bootstrap');
}

const config = getBootConfig();
bootstrap(config).catch((error: unknown) => {
  const failure = bootFailure(error, config.http);
  process.stderr.write(`${failure.message}\n`);
  process.exit(failure.exitCode);
});
