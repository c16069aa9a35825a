/**
 * Loaded first (the first import of main.ts, or `node --import`): validates the configuration, then starts
 * dd-trace before any instrumented module (http, pino) is loaded. Imports nothing else of the app.
 */
import { getBootConfig } from '../../../libs/config/src/load-config';
import { initTracing } from '../../../libs/telemetry/src/tracing/dd-trace.init';

initTracing(getBootConfig());
