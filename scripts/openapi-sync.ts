/**
 * Writes the OpenAPI document the service serves at /docs-json to openapi/control-plane.json (sorted, stable).
 * Run with `npm run openapi:sync` after changing a route or a DTO; a test fails while the two differ.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../libs/config/src/load-config';
import { createApp } from '../apps/control-plane/src/create-app';
import { createOpenApiDocument } from '../apps/control-plane/src/openapi/openapi';

export const OPENAPI_FILE = resolve(process.cwd(), 'openapi/control-plane.json');

async function main(): Promise<void> {
  // The defaults only: the document must not depend on the machine's environment. A key that matches nothing, so
  // the app does not generate (and print) a development key: no request is served here.
  const config = loadConfig({
    env: { DD_TRACE_ENABLED: 'false', LOG_LEVEL: 'silent', API_KEYS: `openapi-sync:read:${'0'.repeat(64)}` },
    envFile: false,
  });
  const app = await createApp(config, { quiet: true });
  await app.init();
  const document = createOpenApiDocument(app, config);
  await app.close();
  const target = process.argv[2] ? resolve(process.argv[2]) : OPENAPI_FILE;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
