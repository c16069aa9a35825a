/**
 * One bounded load slice with autocannon, run as its own process (so that `taskset` can pin it) by
 * bench/overhead.ts. autocannon's own latency histogram has 1 ms resolution, too coarse for a sub-millisecond
 * p50, so every 2xx response time (a float in ms, from process.hrtime) is also kept here and the
 * percentiles are computed exactly.
 *
 * Usage: `node bench/load.ts '{"url":"http://127.0.0.1:PORT/reason","connections":10,"durationS":3,
 * "body":"{...}"}'`. Prints one JSON line: requests (2xx), rps, p50/p90/p99/mean in ms, errors, non2xx and the count of each
 * non-2xx status. `"headers"` adds request headers.
 */
import autocannon from 'autocannon';

interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  method?: string;
  body?: string;
  /** Extra request headers (e.g. Portkey's `x-portkey-*`). */
  headers?: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  errors: number;
  non2xx: number;
  /** Count of each non-2xx status (e.g. `{"503": 12}`). */
  statuses: Record<string, number>;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
let latencies = new Float64Array(65_536);
let count = 0;
const statuses: Record<string, number> = {};

const instance = autocannon(
  {
    url: spec.url,
    method: spec.method ?? 'POST',
    headers: { ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...spec.headers },
    body: spec.body,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationS,
    timeout: 10,
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`load: ${error.message}\n`);
      process.exit(1);
    }
    const sorted = latencies.subarray(0, count).sort();
    let sum = 0;
    for (const value of sorted) sum += value;
    const out: LoadResult = {
      requests: result['2xx'],
      durationS: result.duration,
      rps: result['2xx'] / result.duration,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      mean: count > 0 ? sum / count : Number.NaN,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      statuses,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  },
);

instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode < 200 || statusCode >= 300) {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    return;
  }
  if (count === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[count++] = responseTime;
});
