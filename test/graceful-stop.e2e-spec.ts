import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type LlmBody, post } from './support/http';
import { ServiceProcess } from './support/service-process';

/** How many loopback clients keep a call in flight each, and for how long before the SIGTERM. */
const CLIENTS = 8;
const LOAD_MS = 2000;

/**
 * A graceful stop (SIGTERM: every deploy) writes the ledger record of every call it answered before the process
 * exits, the ones answered while the server drained included: each answered `prompt_id` is in the ledger.
 */
describe('graceful stop under load', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-graceful-'));
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      SIM_LATENCY_MEDIAN_MS: '20',
      // The flush timer never fires during the test: only the shutdown flush writes the ledger.
      LEDGER_FLUSH_MS: '60000',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records every answered call when stopped with SIGTERM mid-load', async () => {
    const answered: string[] = [];
    let stopping = false;
    const client = async (n: number): Promise<void> => {
      for (let i = 0; ; i++) {
        try {
          const response = await post(`${service.url}/reason`, {
            prompt: `client ${n} call ${i}: why is the sea salty?`,
          });
          if (response.status !== 200) {
            await response.body?.cancel();
            if (stopping) return;
            continue;
          }
          answered.push(((await response.json()) as LlmBody).metadata.prompt_id as string);
        } catch {
          // Refused or cut once the server closes.
          if (stopping) return;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    stopping = true;
    expect(await service.stop()).toBe(143);
    await Promise.all(clients);

    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      const recorded = new Set(
        (db.prepare('SELECT prompt_id FROM usage_records').all() as { prompt_id: string | null }[]).map(
          (r) => r.prompt_id,
        ),
      );
      expect(answered.length).toBeGreaterThan(CLIENTS * 5);
      const missing = answered.filter((id) => !recorded.has(id));
      expect({ answered: answered.length, missing }).toEqual({ answered: answered.length, missing: [] });
    } finally {
      db.close();
    }
  }, 30_000);
});
