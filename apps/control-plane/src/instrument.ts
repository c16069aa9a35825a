/**
 * Loaded first (the first import of main.ts, or `node --import`): validates the configuration, then starts
 * dd-trace before any instrumented module (http, pino) is loaded. Imports nothing else of the app.
 */
// Deep on purpose: the barrels load Nest, pino and http, which dd-trace must see loaded after it starts.
/* eslint-disable boundaries/lib-imports */
import { getBootConfig } from '../../../libs/config/src/load-config';
import { initTracing } from '../../../libs/telemetry/src/tracing/dd-trace.init';
/* eslint-enable boundaries/lib-imports */

initTracing(getBootConfig());
