import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DogStatsdReceiver } from './support/dogstatsd-receiver';
import { post } from './support/http';
import { ServiceProcess } from './support/service-process';

interface Ready {
  dependencies: Record<string, { status: string; detail: string }>;
}

/**
 * A record the ledger's store refuses for good, on the built service: its SQLite ledger gets a trigger that refuses
 * every `/reason` record (SQLite's RAISE(ABORT): a constraint, as a CHECK would), and calls on /qa and /reason are
 * mixed in the same flushes. Before, the first refused flush was kept for retry at every tick and refused again: no
 * /qa call was recorded any more (spend, budgets, the health score read the ledger), `ledger.flush.errors` climbing.
 * Now the /qa records are all written, the /reason ones dropped, counted, logged and said in the readiness.
 */
describe('a usage record the store refuses for good (built service, SQLite ledger)', () => {
  let service: ServiceProcess;
  let statsd: DogStatsdReceiver;
  let dataDir: string;

  const ledger = <T>(sql: string): T[] => {
    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'), { readOnly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  const ledgerReady = async (): Promise<{ status: string; detail: string }> => {
    const body = (await (await fetch(`${service.url}/health/ready`)).json()) as Ready;
    return body.dependencies.ledger!;
  };
  const qa = () =>
    post(`${service.url}/qa`, {
      question: 'What colour is the sky on Mars?',
      document: 'The sky on Mars is butterscotch by day.',
    });
  const reason = () => post(`${service.url}/reason`, { prompt: 'Why is the sky on Mars butterscotch? secret-words' });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrcp-refused-'));
    statsd = await new DogStatsdReceiver().start();
    service = await new ServiceProcess({
      DATA_DIR: dataDir,
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: String(statsd.port),
      LEDGER_FLUSH_MS: '200',
      LEDGER_STORE_PREVIEW: 'true',
      SIM_LATENCY_MEDIAN_MS: '5',
    }).start();
    const db = new DatabaseSync(join(dataDir, 'ledger.sqlite'));
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec(
        `CREATE TRIGGER refuse_reason BEFORE INSERT ON usage_records WHEN NEW.endpoint = 'reason'
         BEGIN SELECT RAISE(ABORT, 'reason calls refused'); END`,
      );
    } finally {
      db.close();
    }
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await statsd?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes every other record, drops the refused ones (counted, logged, in the readiness), and goes on', async () => {
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all([qa(), reason(), qa()]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    }
    const deadline = Date.now() + 30_000;
    while (ledger<{ n: number }>(`SELECT count(*) AS n FROM usage_records WHERE endpoint = 'qa'`)[0]!.n < 6) {
      if (Date.now() > deadline) throw new Error('the /qa records never reached the ledger');
      await new Promise((r) => setTimeout(r, 100));
    }
    await statsd.waitFor(
      (lines) =>
        lines
          .filter((l) => l.name === 'ledger.records.dropped' && l.tags.includes('reason:constraint'))
          .reduce((sum, l) => sum + l.value, 0) >= 3,
      30_000,
    );
    expect(ledger<{ n: number }>(`SELECT count(*) AS n FROM usage_records WHERE endpoint = 'reason'`)[0]!.n).toBe(0);

    const ready = await ledgerReady();
    expect(ready.status).toBe('ok');
    expect(ready.detail).toContain(
      '3 refused by the store and dropped (last: reason calls refused (SQLITE_CONSTRAINT))',
    );

    const refused = service
      .logs()
      .filter((l) => l.context === 'UsageLedger' && String(l.message).includes('refused by the store for good'));
    expect(refused).toHaveLength(3);
    for (const line of refused) {
      expect(line.level).toBe('error');
      expect(line.message).toMatch(/prompt id [0-9a-f-]{36}, endpoint reason, /);
      expect(JSON.stringify(line)).not.toContain('secret-words');
    }
    expect(statsd.named('ledger.flush.errors')).toHaveLength(0);

    // The next calls are written as before.
    expect((await qa()).status).toBe(200);
    while (ledger<{ n: number }>(`SELECT count(*) AS n FROM usage_records WHERE endpoint = 'qa'`)[0]!.n < 7) {
      if (Date.now() > deadline) throw new Error('the next /qa record never reached the ledger');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);
});
