import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Logger } from '@nestjs/common';
import { DatabaseUnavailableError } from '@app/common';
import { BootError } from '@app/config';
import { incidentOutboxContract } from '../../../../test/support/incident-outbox-contract';
import type { AlertRecord } from './outbox.types';
import { INCIDENTS_SCHEMA } from './outbox-sql';
import { SQLITE_DUE_SEQS_SQL, SqliteIncidentOutbox } from './sqlite-incident-outbox';

const dir = mkdtempSync(join(tmpdir(), 'incidents-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two instances on one file stand for two processes on one host.
incidentOutboxContract('SqliteIncidentOutbox', () => ({
  open: async () => {
    const store = new SqliteIncidentOutbox(join(dir, 'incidents.sqlite'));
    await store.init();
    return store;
  },
  restartDatabase: () => Promise.resolve(),
  leaseClock: 'caller',
}));

describe('SqliteIncidentOutbox: the claim of due rows', () => {
  // A row's `state` comes after its payload (kilobytes: past SQLite's 4 KB page, in overflow pages). The due query
  // looked each due update's create and earlier updates up by the unique index on `id` and read their rows for
  // `state`: with 1,400 due rows a claim took 9 ms, once per row delivered, and a burst of 3,000 webhooks with Datadog
  // unconfigured held the event loop long enough that 97 % of the LLM calls sent meanwhile were shed.
  it('reads the states it looks up from covering indexes, never a row and its payload', async () => {
    const file = join(dir, 'due-plan.sqlite');
    const store = new SqliteIncidentOutbox(file);
    await store.init();
    const db = new DatabaseSync(file);
    try {
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${SQLITE_DUE_SEQS_SQL}`)
        .all(Date.now(), Date.now(), 1)
        .map((row) => String((row as { detail: unknown }).detail));
      const lookups = plan.filter((detail) => /^SEARCH [ce] /.test(detail));
      expect(lookups).toHaveLength(2);
      for (const lookup of lookups) expect(lookup).toContain('USING COVERING INDEX');
    } finally {
      db.close();
      await store.close();
    }
  });
});

describe('SqliteIncidentOutbox while another process holds the write lock', () => {
  // node:sqlite waits for a lock synchronously: with the 10 s busy timeout, a webhook arriving while another process
  // held `BEGIN IMMEDIATE` on incidents.sqlite held the event loop (every request) for 10 s, then answered 500.
  const alert = (now: number): AlertRecord => {
    const outboxId = randomUUID();
    return {
      now,
      dedupeWindowMs: 60_000,
      mode: 'open',
      dedupeKey: `id:${outboxId}|group:*`,
      monitor: 'monitor',
      group: '*',
      title: 'title',
      severity: 'SEV-3',
      outboxId,
      request: {
        idempotencyKey: `cp-${outboxId}`,
        title: 'title',
        severity: 'SEV-3',
        customerImpacted: false,
        fields: { service: 'svc', env: 'test', monitor: 'm', group: '*', source: 'api' },
        runbookMarkdown: '# Runbook',
        links: [],
        notificationHandles: [],
      },
    };
  };
  /** Whether a timer set now fires before `promise` settles: the event loop was free while the store waited. */
  const loopFreeWhile = async (promise: Promise<unknown>): Promise<boolean> => {
    const settled = promise.then(
      () => 'store',
      () => 'store',
    );
    const timer = new Promise<string>((resolve) => setTimeout(() => resolve('timer'), 0));
    return (await Promise.race([settled, timer])) === 'timer';
  };

  it('the loop stays free; released, the alert is written; held on, 503 DATABASE_UNAVAILABLE naming the store', async () => {
    const file = join(dir, 'locked.sqlite');
    const store = new SqliteIncidentOutbox(file);
    await store.init();
    const holder = new DatabaseSync(file);
    holder.exec('BEGIN IMMEDIATE');

    const first = store.recordAlert(alert(Date.UTC(2030, 0, 1)));
    expect(await loopFreeWhile(first)).toBe(true);
    holder.exec('COMMIT');
    await expect(first).resolves.toMatchObject({ action: 'opened' });

    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    holder.exec('BEGIN IMMEDIATE');
    const second = store.recordAlert(alert(Date.UTC(2030, 0, 2)));
    expect(await loopFreeWhile(second)).toBe(true);
    const error: unknown = await second.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE', headers: { 'retry-after': '1' } });
    expect((error as Error).message).toMatch(/^The incidents store \(SQLite, incidents\.sqlite under DATA_DIR\)/);
    holder.exec('ROLLBACK');
    holder.close();
    await store.close();
    jest.restoreAllMocks();
  });
});

describe('SqliteIncidentOutbox: an outbox of another version', () => {
  /** A file holding `statements`, then what the outbox's `incident_meta` says after `init` (or the error it threw). */
  async function started(
    name: string,
    statements: string[],
  ): Promise<{ error: unknown; meta: Record<string, number> }> {
    const file = join(dir, name);
    const setup = new DatabaseSync(file);
    for (const statement of statements) setup.exec(statement);
    setup.close();
    const store = new SqliteIncidentOutbox(file);
    const error: unknown = await store.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error === undefined) await store.close();
    const db = new DatabaseSync(file, { readOnly: true });
    const rows = db.prepare('SELECT key, value FROM incident_meta').all() as { key: string; value: number }[];
    db.close();
    return { error, meta: Object.fromEntries(rows.map((r) => [r.key, Number(r.value)])) };
  }

  const newerMeta = (version: number, usableFrom: number): string[] => [
    'CREATE TABLE incident_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)',
    `INSERT INTO incident_meta (key, value) VALUES ('schema_version', ${version}), ('schema_usable_from', ${usableFrom})`,
  ];

  it('marks a new outbox with its schema version', async () => {
    const { error, meta } = await started('marked.sqlite', []);
    expect(error).toBeUndefined();
    expect(meta).toEqual({ schema_version: INCIDENTS_SCHEMA.version, schema_usable_from: INCIDENTS_SCHEMA.usableFrom });
  });

  it('refuses to start on an outbox a newer version wrote that it cannot use, and changes nothing', async () => {
    // A newer build's column this one would leave null: every webhook it took answered 500, so Datadog retried it
    // for ever and the alert never became an incident.
    const future = INCIDENTS_SCHEMA.version + 1;
    const { error, meta } = await started('newer.sqlite', [
      'CREATE TABLE incident_outbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL)',
      ...newerMeta(future, future),
    ]);
    expect(error).toBeInstanceOf(BootError);
    expect((error as BootError).variable).toBe('DATA_DIR');
    expect((error as Error).message).toContain(
      `the incident outbox "${join(dir, 'newer.sqlite')}" was written by a newer version of the service (incident ` +
        `outbox schema ${future}, usable by builds of schema ${future} or later); this build knows schema ` +
        `${INCIDENTS_SCHEMA.version}`,
    );
    expect(meta).toEqual({ schema_version: future, schema_usable_from: future });
    const db = new DatabaseSync(join(dir, 'newer.sqlite'), { readOnly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    db.close();
    expect(tables.map((t) => (t as { name: string }).name)).toEqual(['incident_meta', 'incident_outbox']);
  });

  it('starts on a newer outbox it can still use (a rollback), keeping the newer marks', async () => {
    const { error, meta } = await started('usable.sqlite', newerMeta(INCIDENTS_SCHEMA.version + 1, 1));
    expect(error).toBeUndefined();
    expect(meta).toEqual({ schema_version: INCIDENTS_SCHEMA.version + 1, schema_usable_from: 1 });
  });
});
