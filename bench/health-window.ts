/**
 * Cost of the health score's ledger read: the window aggregate over the raw records of the last hour, on SQLite,
 * at a given request rate (records per hour). Run: sh scripts/ts-run.sh bench/health-window.ts [records=360000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedgerStore } from '../libs/ledger/src/store/sqlite-ledger.store';
import { usageRecord } from '../test/support/ledger-store-contract';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 360_000);
  const dir = mkdtempSync(join(tmpdir(), 'health-window-'));
  const store = new SqliteLedgerStore(join(dir, 'ledger.sqlite'));
  await store.init();
  const now = Date.now();
  const models = ['gemini-2.5-flash', 'gemini-2.5-pro'];
  const endpoints = ['qa', 'reason', 'stress'] as const;
  for (let i = 0; i < n; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, n - i) }, (_, j) =>
      usageRecord({
        ts: now - 3_600_000 + ((i + j) * 3_600_000) / n,
        model: models[(i + j) % 2]!,
        endpoint: endpoints[(i + j) % 3]!,
        latencyMs: 200 + ((i + j) % 900),
      }),
    );
    await store.append(batch);
  }
  const bounds = Array.from({ length: 32 }, (_, k) => (k + 1) * 250);
  for (const [label, span] of [
    ['5m', 300_000],
    ['1h', 3_600_000],
  ] as const) {
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      await store.window({ from: now - span, to: now, groupBy: ['endpoint', 'model'], latencyBoundsMs: bounds });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`${n} records/h, window ${label}: median ${times[3]!.toFixed(1)} ms, max ${times[6]!.toFixed(1)} ms`);
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
void main();
