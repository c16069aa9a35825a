import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTextRedactor, HOUR_MS } from '@app/common';
import { InMemoryMetrics } from '@app/telemetry';
import { testConfig } from '../../../../test/support/app-config';
import { usageRecord } from '../../../../test/support/ledger-store-contract';
import { BufferedUsageLedger } from '../buffered-usage-ledger';
import { SqliteLedgerStore } from '../store/sqlite-ledger.store';
import { createDatadogApi } from '@app/datadog';
import { DatadogUsageMetricsSource } from './datadog-usage-metrics.source';
import { parseUsageFile, UsageImportError } from './usage-file.parser';
import { UsageImportService } from './usage-import.service';

const H0 = Date.UTC(2026, 10, 1, 0, 0, 0);

/** A started ledger over `store` that flushes only when told (retention long enough for any imported hour). */
async function startedLedger(store: SqliteLedgerStore): Promise<BufferedUsageLedger> {
  const ledger = new BufferedUsageLedger(store, new InMemoryMetrics(), new BasicTextRedactor(), {
    flushMs: 60_000,
    retentionDays: 3650,
    storePreview: false,
  });
  await ledger.start();
  return ledger;
}

describe('usage file parser', () => {
  it('reads CSV (ISO or epoch times, floored to the hour, same hours summed)', () => {
    const rows = parseUsageFile(
      [
        'hour,cost_usd,requests,input_tokens,output_tokens,model',
        `2026-11-01T00:00:00Z,1.5,10,1000,100,flash`,
        `2026-11-01T00:30:00Z,0.5,5,500,50,flash`,
        `${(H0 + HOUR_MS) / 1000},2,20,2000,200,"pro"`,
      ].join('\n'),
      'csv',
    );
    expect(rows.map((r) => [r.hour - H0, r.model, r.costUsd, r.requests, r.inputTokens])).toEqual([
      [0, 'flash', 2, 15, 1500],
      [HOUR_MS, 'pro', 2, 20, 2000],
    ]);
  });

  it('reads a file without an errors column (or an empty cell) as errors unknown, never as 0 errors', () => {
    const rows = parseUsageFile(
      [
        'hour,cost_usd,requests,errors,model',
        `2026-11-01T00:00:00Z,1,10,2,flash`,
        `2026-11-01T00:10:00Z,1,5,,flash`,
        `2026-11-01T00:20:00Z,1,4,  ,flash`,
        `2026-11-01T01:00:00Z,1,8,0,flash`,
      ].join('\n'),
      'csv',
    );
    expect(rows.map((r) => [r.hour - H0, r.requests, r.errors, r.errorsUnknown])).toEqual([
      [0, 19, 2, 9],
      [HOUR_MS, 8, 0, 0],
    ]);
    const noColumn = parseUsageFile(`hour,cost_usd,requests\n2026-11-01T00:00:00Z,1,10\n`, 'csv');
    expect(noColumn.map((r) => [r.requests, r.errors, r.errorsUnknown])).toEqual([[10, 0, 10]]);
    const jsonl = parseUsageFile(`{"ts": ${H0}, "cost": 1, "requests": 3}\n`, 'jsonl');
    expect(jsonl.map((r) => [r.requests, r.errors, r.errorsUnknown])).toEqual([[3, 0, 3]]);
  });

  it('reads JSONL with Datadog metric names as keys', () => {
    const rows = parseUsageFile(
      `{"timestamp": ${H0}, "llm.cost.usd": 0.25, "llm.request.count": 3}\n\n{"ts": "2026-11-01T01:00:00Z", "cost": 1}\n`,
      'jsonl',
    );
    expect(rows.map((r) => [r.hour - H0, r.costUsd, r.requests, r.model])).toEqual([
      [0, 0.25, 3, '*'],
      [HOUR_MS, 1, 0, '*'],
    ]);
  });

  it('reads ISO 8601 with or without an offset (none: UTC), to the hour', () => {
    // Without an offset Date.parse reads the local zone: test/time-zone.e2e-spec.ts runs this under TZ=Asia/Kolkata.
    const hours = (time: string): number[] =>
      parseUsageFile(`hour,cost_usd\n${time},1\n`, 'csv').map((r) => (r.hour - Date.UTC(2026, 10, 1)) / HOUR_MS);
    expect(hours('2026-11-01T10:00:00')).toEqual([10]);
    expect(hours('2026-11-01 10:30')).toEqual([10]);
    expect(hours('2026-11-01T10:00:00.250Z')).toEqual([10]);
    expect(hours('2026-11-01T15:30:00+05:30')).toEqual([10]);
    expect(hours('2026-11-01T15:30:00+0530')).toEqual([10]);
    expect(hours('2026-11-01T05:00:00-05')).toEqual([10]);
    expect(hours('2026-11-01')).toEqual([0]);
  });

  it('refuses a time that is not ISO 8601 or epoch (day or month first?), or a day the month does not have', () => {
    for (const time of ['11/01/2026 10:00', 'Sun Nov 01 2026 10:00', '2026-02-30T00:00:00Z', '2026-11-01T25:00:00Z']) {
      expect(() => parseUsageFile(`hour,cost_usd\n${time},1\n`, 'csv')).toThrow(UsageImportError);
    }
  });

  it('lists every bad line', () => {
    const text = ['hour,cost_usd', 'yesterday,1', '2026-11-01T00:00:00Z,-3', '2026-11-01T00:00:00Z,1,extra'].join('\n');
    expect(() => parseUsageFile(text, 'csv')).toThrow(UsageImportError);
    try {
      parseUsageFile(text, 'csv');
    } catch (error) {
      expect((error as UsageImportError).problems).toEqual([
        'line 4: 3 columns, the header has 2',
        'line 2: hour is not a date: ISO 8601 or epoch seconds or milliseconds (got "yesterday")',
        'line 3: cost_usd must be a non-negative number (got "-3")',
      ]);
    }
  });
});

describe('usage file columns', () => {
  const problemsOf = (text: string, format: 'csv' | 'jsonl'): readonly string[] => {
    try {
      parseUsageFile(text, format);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageImportError);
      return (error as UsageImportError).problems;
    }
    throw new Error('expected the import to be refused');
  };

  it.each(['hour_start', 'hour', 'timestamp', 'ts', 'time', 'Hour_Start', 'TIMESTAMP'])(
    'accepts %s as the hour column (CSV and JSONL)',
    (column) => {
      const csv = parseUsageFile(`${column},cost_usd\n2026-11-01T00:10:00Z,1.5\n`, 'csv');
      const jsonl = parseUsageFile(`{"${column}": "2026-11-01T01:00:00Z", "cost": 2}\n`, 'jsonl');
      expect([...csv, ...jsonl].map((r) => [r.hour - H0, r.costUsd])).toEqual([
        [0, 1.5],
        [HOUR_MS, 2],
      ]);
    },
  );

  it('refuses a file whose cost column is misspelt, naming the column it did not recognise (never reads it as $0)', () => {
    expect(problemsOf('hour_start,cost_dollars,requests\n2026-11-01T00:00:00Z,1.5,10\n', 'csv')).toEqual([
      'header (line 1): no cost column (one of cost_usd, cost, llm.cost.usd); columns not recognised: "cost_dollars"',
    ]);
    expect(problemsOf('{"hour": "2026-11-01T00:00:00Z", "costs": 1.5}\n', 'jsonl')).toEqual([
      'line 1: no cost key (one of cost_usd, cost, llm.cost.usd); keys not recognised: "costs"',
    ]);
  });

  it('refuses a file without an hour column it knows, naming the column and the accepted names', () => {
    expect(problemsOf('period_start,cost_usd\n2026-11-01T00:00:00Z,1.5\n', 'csv')).toEqual([
      'header (line 1): no hour column (one of hour_start, hour, timestamp, ts, time); columns not recognised: "period_start"',
    ]);
  });

  it('refuses two columns that give the same field', () => {
    expect(problemsOf('hour,timestamp,cost_usd\n2026-11-01T00:00:00Z,2026-11-01T05:00:00Z,1\n', 'csv')).toEqual([
      'header (line 1): columns "hour" and "timestamp" both give the hour: keep one',
    ]);
  });

  it('imports a file with extra columns and names them in one warning', () => {
    const warnings: string[] = [];
    const rows = parseUsageFile(
      'hour_start,cost_usd,region,requets\n2026-11-01T00:00:00Z,1.5,eu,10\n2026-11-01T01:00:00Z,1,eu,5\n',
      'csv',
      (w) => warnings.push(w),
    );
    expect(rows.map((r) => [r.hour - H0, r.costUsd, r.requests])).toEqual([
      [0, 1.5, 0],
      [HOUR_MS, 1, 0],
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^columns not recognised, not imported: "region", "requets" \(recognised, case-insensitive: hour_start\|hour\|timestamp\|ts\|time, cost_usd\|cost\|llm\.cost\.usd, requests\|/,
    );

    const jsonlWarnings: string[] = [];
    parseUsageFile(
      '{"ts": 1793491200, "cost": 1, "env": "prod"}\n{"ts": 1793494800, "cost": 1, "env": "prod", "svc": "a"}\n',
      'jsonl',
      (w) => jsonlWarnings.push(w),
    );
    expect(jsonlWarnings).toEqual([
      expect.stringMatching(/^keys not recognised, not imported: "env" \(2 lines\), "svc" \(1 line\) /),
    ]);
  });
});

describe('Datadog usage import (real @datadog/datadog-api-client against a loopback server)', () => {
  let server: Server;
  const requests: { url: URL; apiKey?: string; appKey?: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ledger-import-'));

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push({
        url,
        apiKey: req.headers['dd-api-key'] as string | undefined,
        appKey: req.headers['dd-application-key'] as string | undefined,
      });
      const query = url.searchParams.get('query') ?? '';
      const metric = /^sum:([\w.]+)\{/.exec(query)?.[1];
      // Counts as Datadog can sum them (a sample rate below 1, float arithmetic): fractional.
      const value = metric === 'llm.cost.usd' ? 0.5 : metric === 'llm.request.count' ? 9.6 : 100.2;
      const series = ['flash', 'pro'].map((model) => ({
        metric,
        scope: `env:test,model:${model},service:lrcp`,
        tagSet: [`model:${model}`],
        pointlist: [
          [H0, value],
          [H0 + HOUR_MS, model === 'pro' ? value * 2 : value],
        ],
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', res_type: 'time_series', series }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pulls hourly cost/request/token series per model into the ledger, idempotently, counts rounded to whole', async () => {
    const port = (server.address() as AddressInfo).port;
    const config = testConfig({
      DD_API_KEY: 'api-key-0123456789',
      DD_APP_KEY: 'app-key-0123456789',
      DATADOG_API_URL: `http://127.0.0.1:${port}`,
      DD_SERVICE: 'lrcp',
      DD_ENV: 'test',
    });
    const store = new SqliteLedgerStore(join(dir, 'ledger.sqlite'));
    const ledger = await startedLedger(store);
    const service = new UsageImportService(ledger, new DatadogUsageMetricsSource(createDatadogApi(config), config));
    const now = H0 + 2 * HOUR_MS;
    const summary = await service.pullFromMetrics(1, now);
    await service.pullFromMetrics(1, now); // a second pull replaces, never doubles

    expect(summary).toMatchObject({ source: 'datadog', rows: 4, costUsd: 2.5 });
    expect(requests[0]).toMatchObject({ apiKey: 'api-key-0123456789', appKey: 'app-key-0123456789' });
    expect(requests[0]!.url.pathname).toBe('/api/v1/query');
    expect(requests.map((r) => r.url.searchParams.get('query'))).toContain(
      'sum:llm.cost.usd{service:lrcp,env:test} by {model}.as_count().rollup(sum, 3600)',
    );
    const rows = await ledger.hourly({ from: H0, to: now, groupBy: ['model'] });
    expect(rows.map((r) => [r.hour - H0, r.model, r.costUsd, r.requests, r.inputTokens])).toEqual([
      [0, 'flash', 0.5, 10, 100],
      [0, 'pro', 0.5, 10, 100],
      [HOUR_MS, 'flash', 0.5, 10, 100],
      [HOUR_MS, 'pro', 1, 19, 200],
    ]);
    for (const row of rows)
      expect([row.requests, row.inputTokens, row.outputTokens].every(Number.isInteger)).toBe(true);
    await ledger.stop();
    await store.close();
  });

  it('without Datadog keys, says what is missing', async () => {
    const config = testConfig({});
    const source = new DatadogUsageMetricsSource(createDatadogApi(config), config);
    await expect(source.hourlyUsage(H0, H0 + HOUR_MS)).rejects.toThrow(/DD_API_KEY and DD_APP_KEY/);
  });

  it('imports a file through the service', async () => {
    const file = join(dir, 'usage.csv');
    writeFileSync(file, 'hour,cost_usd,requests\n2026-11-01T00:00:00Z,3,30\n');
    const store = new SqliteLedgerStore(':memory:');
    const ledger = await startedLedger(store);
    const summary = await new UsageImportService(
      ledger,
      new DatadogUsageMetricsSource(createDatadogApi(testConfig({})), testConfig({})),
    ).importFile(file);
    expect(summary).toMatchObject({ rows: 1, costUsd: 3, from: '2026-11-01T00:00:00.000Z', skippedHours: [] });
    expect(await ledger.spendBetween(H0, H0 + HOUR_MS)).toBe(3);
    // No errors column: the 30 requests' errors are unknown in the ledger too (not 0 errors of 30).
    expect(await ledger.hourly({ from: H0, to: H0 + HOUR_MS })).toMatchObject([
      { requests: 30, errors: 0, errorsUnknown: 30 },
    ]);
    await ledger.stop();
  });

  it('leaves out, and names, the hours in which the ledger recorded calls itself, written or still buffered', async () => {
    const file = join(dir, 'usage-recorded.csv');
    const hours = [H0 + 5 * HOUR_MS, H0 + 6 * HOUR_MS, H0 + 7 * HOUR_MS].map((h) => new Date(h).toISOString());
    writeFileSync(file, `hour,cost_usd,requests\n${hours.map((h) => `${h},10,100`).join('\n')}\n`);
    const store = new SqliteLedgerStore(':memory:');
    const ledger = await startedLedger(store);
    // A call of the service's own in the first hour, written; another in the second, still in the buffer.
    ledger.record(usageRecord({ ts: H0 + 5 * HOUR_MS + 60_000, costUsd: 0.25 }));
    await ledger.flush();
    ledger.record(usageRecord({ ts: H0 + 6 * HOUR_MS + 60_000, costUsd: 0.5 }));
    const summary = await new UsageImportService(
      ledger,
      new DatadogUsageMetricsSource(createDatadogApi(testConfig({})), testConfig({})),
    ).importFile(file);
    expect(summary).toMatchObject({ rows: 1, costUsd: 10, from: hours[2], skippedHours: [hours[0], hours[1]] });
    // The recorded hours keep their own usage, not doubled; the third hour is imported.
    expect(await ledger.spendBetween(H0 + 5 * HOUR_MS, H0 + 8 * HOUR_MS)).toBeCloseTo(10.75, 9);
    await ledger.stop();
  });
});
