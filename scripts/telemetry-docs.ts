/** Rewrites the generated metrics table of docs/telemetry.md from the metric catalogues of every library. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { withMetricsTable } from '../libs/telemetry/src/metrics/metric-docs';
import { allMetrics } from './metric-catalogues';

const file = resolve(process.cwd(), 'docs/telemetry.md');
writeFileSync(file, withMetricsTable(readFileSync(file, 'utf8'), allMetrics()));
process.stdout.write(`updated ${file}\n`);
