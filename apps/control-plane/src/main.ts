// Must stay the first import: validates the configuration and starts tracing before anything is loaded.
import './instrument';
import { Logger } from 'nestjs-pino';
import { type AppConfig, getBootConfig } from '@app/config';
import { bootFailure } from './boot-failure';
import { createApp } from './create-app';
import { startupSummary } from './startup-summary';

async function bootstrap(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  const url = await app.getUrl();
  // What it runs with, on the line that says it is up (provider, simulated or not, state, auth, budget), no secret.
  app.get(Logger).log({ startup: startupSummary(config, url) }, `control plane listening on ${url}`, 'Bootstrap');
}

const config = getBootConfig();
bootstrap(config).catch((error: unknown) => {
  const failure = bootFailure(error, config.http);
  process.stderr.write(`${failure.message}\n`);
  process.exit(failure.exitCode);
});
