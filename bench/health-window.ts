/**
 * Cost of the health score's ledger read: the window aggregate of the last 5 minutes and of the last hour, on SQLite,
 * at a given request rate (records per hour), answered from the 10-second rollups and, in the same run, from a scan
 * of the raw records (what a query off the latency ladder or before the rollups still does). "aligned" ends the window
 * on the health score's 10 s step (what the service reads: no ragged edge), "ragged" 1,234 ms off it (edges scanned).
 * Run: sh scripts/node24.sh sh scripts/ts-run.sh bench/health-window.ts [records=360000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latencyBounds } from '../libs/health-score/src/health-score.calculator';
import { SqliteLedgerStore } from '../libs/ledger/src/store/sqlite-ledger.store';
import { usageRecord } from '../test/support/ledger-store-contract';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 360_000);
  const dir = mkdtempSync(join(tmpdir(), 'health-window-'));
  const file = join(dir, 'ledger.sqlite');
  const now = Date.now();
  const rollups = new SqliteLedgerStore(file);
  await rollups.init();
  const models = ['gemini-2.5-flash', 'gemini-2.5-pro'];
  const endpoints = ['qa', 'reason', 'stress'] as const;
  const appendStart = performance.now();
  for (let i = 0; i < n; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, n - i) }, (_, j) =>
      usageRecord({
        ts: now - 3_600_000 + ((i + j) * 3_600_000) / n,
        model: models[(i + j) % 2]!,
        endpoint: endpoints[(i + j) % 3]!,
        latencyMs: 200 + ((i + j) % 900),
      }),
    );
    await rollups.append(batch);
  }
  const appendMs = performance.now() - appendStart;
  const raw = new SqliteLedgerStore(file, { rollupReads: false });
  await raw.init();
  const bounds = latencyBounds(2000);
  console.log(
    `${n} records appended in ${(appendMs / 1000).toFixed(1)} s (${((appendMs * 1000) / n).toFixed(1)} µs each, rollups included)`,
  );
  for (const [label, span] of [
    ['5m', 300_000],
    ['1h', 3_600_000],
  ] as const) {
    const aligned = Math.floor(now / 10_000) * 10_000;
    for (const [read, store, to] of [
      ['10-second rollups, aligned', rollups, aligned],
      ['10-second rollups, ragged', rollups, now - 1234],
      ['raw scan', raw, now - 1234],
    ] as const) {
      const times: number[] = [];
      for (let r = 0; r < 7; r++) {
        const t0 = performance.now();
        await store.window({
          from: to - span,
          to,
          groupBy: ['endpoint', 'model'],
          latencyBoundsMs: bounds,
        });
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      console.log(`window ${label}, ${read}: median ${times[3]!.toFixed(1)} ms, max ${times[6]!.toFixed(1)} ms`);
    }
  }
  await rollups.close();
  await raw.close();
  rmSync(dir, { recursive: true, force: true });
}
void main();
