// Must stay the first import: validates the configuration and starts tracing before anything is loaded.
import './instrument';
import { Logger } from 'nestjs-pino';
import { getBootConfig } from '@app/config';
import { createApp } from './create-app';

async function bootstrap(): Promise<void> {
  const config = getBootConfig();
  const app = await createApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  app.get(Logger).log(`control plane listening on ${await app.getUrl()}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
