import { randomUUID } from 'node:crypto';
import type { IncidentRequest, IncidentSeverity, IncidentUpdate } from '@app/datadog';
import type { IncidentOutboxStore } from '../../libs/incidents/src/outbox/incident-outbox.port';
import type { AlertRecord } from '../../libs/incidents/src/outbox/outbox.types';

export interface IncidentOutboxHarness {
  /** A new store instance on the same database as every other `open` (initialised): another replica. */
  open(): Promise<IncidentOutboxStore>;
  /** Restarts the database itself when it is a server (PostgreSQL); nothing for a file. */
  restartDatabase(): Promise<void>;
  /**
   * Whose clock times the leases: `caller` (SQLite, one host: the `now` each call is given), or `server`
   * (PostgreSQL: the database's clock, so that replicas whose clocks disagree never take over a live lease).
   */
  leaseClock: 'caller' | 'server';
}

const DAY = 86_400_000;
const WINDOW = 60_000;
/** Sleeps `ms` (real time: a lease timed on the database's clock expires only as that clock runs). */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function request(outboxId: string, title: string, severity: IncidentSeverity): IncidentRequest {
  return {
    idempotencyKey: `cp-${outboxId}`,
    title,
    severity,
    customerImpacted: severity === 'SEV-1' || severity === 'SEV-2',
    ...(severity === 'SEV-1' || severity === 'SEV-2' ? { customerImpactScope: 'users of svc (test)' } : {}),
    fields: { service: 'svc', env: 'test', monitor: 'm', group: '*', source: 'api' },
    runbookMarkdown: '# Runbook\n\n1. look',
    links: [{ title: 'Logs', url: 'https://app.example/logs?query=service%3Asvc' }],
    notificationHandles: ['@slack-oncall'],
  };
}

/** The behaviour both outbox stores must have: dedupe, claims and leases, ordering, failures, restarts, replicas. */
export function incidentOutboxContract(name: string, harness: () => IncidentOutboxHarness): void {
  describe(`${name} (IncidentOutboxStore contract)`, () => {
    const h: IncidentOutboxHarness = harness();
    // On the database's clock a lease runs in real time: a day, so that no row a test leaves claimed ever becomes
    // due in a later one (their `now`s are years apart, their real times seconds).
    const LEASE = h.leaseClock === 'server' ? DAY : 30_000;
    let store: IncidentOutboxStore;
    let other: IncidentOutboxStore;
    // Each test works at its own time, earlier than every earlier test's, so rows left by one are never due in another.
    let base = Date.UTC(2030, 0, 1);
    let t0 = 0;
    const at = (ms: number): number => t0 + ms;
    const key = (label: string): string => `id:${label}-${randomUUID().slice(0, 8)}|group:*`;
    const alert = (dedupeKey: string, ms: number, overrides: Partial<AlertRecord> = {}): AlertRecord => {
      const outboxId = randomUUID();
      const severity = overrides.severity ?? 'SEV-3';
      return {
        now: at(ms),
        dedupeWindowMs: WINDOW,
        mode: 'open',
        dedupeKey,
        monitor: 'monitor',
        group: '*',
        title: `title ${dedupeKey}`,
        severity,
        outboxId,
        request: request(outboxId, `title ${dedupeKey}`, severity),
        ...overrides,
      };
    };

    beforeAll(async () => {
      store = await h.open();
      other = await h.open();
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await other?.close();
    });
    // The tests of one store's lease clock only (not skipped: not defined for the other store).
    const callerClock = (title: string, test: () => Promise<void>): void => {
      if (h.leaseClock === 'caller') it(title, test);
    };
    const serverClock = (title: string, test: () => Promise<void>): void => {
      if (h.leaseClock === 'server') it(title, test, 30_000);
    };
    beforeEach(() => {
      base -= 30 * DAY;
      t0 = base;
    });

    it('opens an incident: a pending create row that round trips, listed newest first', async () => {
      const k = key('open');
      const a = alert(k, 0, { severity: 'SEV-1' });
      const outcome = await store.recordAlert(a);
      expect(outcome).toEqual({
        action: 'opened',
        outboxId: a.outboxId,
        incidentRef: a.outboxId,
        title: a.title,
        severity: 'SEV-1',
        alertCount: 1,
      });
      const entry = await other.get(a.outboxId);
      expect(entry).toMatchObject({
        id: a.outboxId,
        kind: 'create',
        incidentRef: a.outboxId,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: at(0),
        title: a.title,
        severity: 'SEV-1',
        lastError: null,
        incidentId: null,
        monitor: 'monitor',
        group: '*',
        incidentState: 'open',
        alertCount: 1,
        createdAt: at(0),
      });
      expect(entry!.payload).toEqual(a.request);
      expect(await store.get('missing')).toBeUndefined();
      const b = alert(key('open-b'), 1);
      await store.recordAlert(b);
      const ids = (await store.list({ limit: 200 })).map((e) => e.id);
      expect(ids.indexOf(b.outboxId)).toBeLessThan(ids.indexOf(a.outboxId));
      expect((await store.list({ limit: 1 })).length).toBe(1);
      expect((await store.list({ limit: 200, state: 'delivered' })).every((e) => e.state === 'delivered')).toBe(true);
    });

    it('pages back from a row (beforeSeq): pages neither skip nor repeat while new rows arrive, with the state filter', async () => {
      const record = async (label: string, ms: number): Promise<string> => {
        const a = alert(key(label), ms);
        await store.recordAlert(a);
        return a.outboxId;
      };
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push(await record(`page-${i}`, i));
      const first = await other.list({ limit: 2 });
      expect(first.map((e) => e.id)).toEqual([ids[4], ids[3]]);
      const newer = await record('page-new', 10);
      const second = await other.list({ limit: 2, beforeSeq: first[1]!.seq });
      expect(second.map((e) => e.id)).toEqual([ids[2], ids[1]]);
      const third = await store.list({ limit: 2, beforeSeq: second[1]!.seq, state: 'pending' });
      expect(third[0]!.id).toBe(ids[0]);
      expect(third.every((e) => e.state === 'pending' && e.seq < second[1]!.seq)).toBe(true);
      const older = (await store.list({ limit: 200, beforeSeq: first[1]!.seq })).map((e) => e.id);
      expect(older).not.toContain(newer);
      expect(older).not.toContain(ids[3]);
      expect(older.slice(0, 3)).toEqual([ids[2], ids[1], ids[0]]);
    });

    it('dedupes within the window (update rows, severity only raised), opens a new incident past it', async () => {
      const k = key('dedupe');
      const first = alert(k, 0, { severity: 'SEV-3' });
      await store.recordAlert(first);
      const second = await other.recordAlert(alert(k, 10_000, { severity: 'SEV-2' }));
      expect(second).toMatchObject({
        action: 'updated',
        incidentRef: first.outboxId,
        severity: 'SEV-2',
        alertCount: 2,
        title: first.title,
      });
      const third = await store.recordAlert(alert(k, 20_000, { severity: 'SEV-4' }));
      expect(third).toMatchObject({ action: 'updated', severity: 'SEV-2', alertCount: 3 });
      const raised = await store.get(second.outboxId!);
      expect(raised).toMatchObject({ kind: 'update', incidentRef: first.outboxId, state: 'pending', alertCount: 3 });
      expect(raised!.payload).toEqual({
        severity: 'SEV-2',
        fields: { alert_count: '2', last_alert: new Date(at(10_000)).toISOString() },
      } satisfies IncidentUpdate);
      expect((await store.get(third.outboxId!))!.payload).toEqual({
        fields: { alert_count: '3', last_alert: new Date(at(20_000)).toISOString() },
      });
      // The window runs from the last alert: 20 s + 60 s.
      const late = await store.recordAlert(alert(k, 20_000 + WINDOW));
      expect(late.action).toBe('opened');
      expect(late.incidentRef).not.toBe(first.outboxId);
      expect((await store.get(first.outboxId))!.incidentState).toBe('superseded');
      // Another group of the same monitor is another incident.
      expect((await store.recordAlert(alert(k.replace('group:*', 'group:env:prod'), 21_000))).action).toBe('opened');
    });

    it('resolves the incident a new one supersedes in Datadog: an update row after the new create', async () => {
      // Past the window the old incident was only closed locally: it stayed active in Datadog for good (for a
      // Datadog monitor, its Recovered was lost; nothing else would ever resolve it).
      const k = key('supersede');
      const first = alert(k, 0, { severity: 'SEV-2' });
      await store.recordAlert(first);
      const next = alert(k, 5000 + WINDOW);
      const late = await other.recordAlert(next);
      expect(late).toMatchObject({ action: 'opened', outboxId: next.outboxId, superseded: first.outboxId });
      const resolution = await store.get(`${next.outboxId}-supersedes`);
      expect(resolution).toMatchObject({
        kind: 'update',
        incidentRef: first.outboxId,
        state: 'pending',
        title: first.title,
        severity: 'SEV-2',
        incidentState: 'superseded',
      });
      expect(resolution!.payload).toMatchObject({
        state: 'resolved',
        fields: { resolved_at: new Date(at(5000 + WINDOW)).toISOString() },
        note: expect.stringContaining('Recovered was lost') as unknown,
        successor: { outboxId: next.outboxId, title: next.title },
      });
      expect(resolution!.seq).toBeGreaterThan((await store.get(next.outboxId))!.seq);
      // It goes once the old incident's create is delivered, after the new create (oldest first).
      const t = 10_000 + WINDOW;
      const claimed = await store.claimDue('w', at(t), LEASE, 1);
      expect(claimed.map((e) => e.id)).toEqual([first.outboxId]);
      await store.markDelivered(first.outboxId, 'w', { incidentId: 'dd-old', url: 'https://dd/old' }, at(t));
      expect((await store.claimDue('w', at(t + 1), LEASE, 1)).map((e) => e.id)).toEqual([next.outboxId]);
      await store.markDelivered(next.outboxId, 'w', { incidentId: 'dd-new', url: 'https://dd/new' }, at(t + 2));
      const due = await other.claimDue('w2', at(t + 3), LEASE, 1);
      expect(due.map((e) => [e.id, e.incidentId])).toEqual([[resolution!.id, 'dd-old']]);
      // The new incident takes the recovery.
      const recovery = await store.recordRecovery({ now: at(t + 4), dedupeKey: k, outboxId: randomUUID() });
      expect(recovery).toMatchObject({ action: 'resolved', incidentRef: next.outboxId });
    });

    it('a warning (update-only) updates an open incident and never opens one', async () => {
      const k = key('warn');
      expect(await store.recordAlert(alert(k, 0, { mode: 'update-only' }))).toEqual({ action: 'ignored' });
      await store.recordAlert(alert(k, 1000));
      expect((await store.recordAlert(alert(k, 2000, { mode: 'update-only' }))).action).toBe('updated');
    });

    it('a recovery resolves the open incident (an update row) once; the next alert opens a new incident', async () => {
      const k = key('recover');
      expect(await store.recordRecovery({ now: at(0), dedupeKey: k, outboxId: randomUUID() })).toEqual({
        action: 'ignored',
      });
      const opened = alert(k, 0);
      await store.recordAlert(opened);
      const id = randomUUID();
      const resolved = await other.recordRecovery({ now: at(5000), dedupeKey: k, outboxId: id });
      expect(resolved).toMatchObject({ action: 'resolved', outboxId: id, incidentRef: opened.outboxId });
      const row = await store.get(id);
      expect(row).toMatchObject({ kind: 'update', state: 'pending', incidentState: 'resolved' });
      expect(row!.payload).toEqual({ state: 'resolved', fields: { resolved_at: new Date(at(5000)).toISOString() } });
      expect((await store.recordRecovery({ now: at(6000), dedupeKey: k, outboxId: randomUUID() })).action).toBe(
        'ignored',
      );
      const again = await store.recordAlert(alert(k, 7000));
      expect(again.action).toBe('opened');
    });

    it('a flapping monitor reopens its incident resolved within the reopen window, firings counted; past it, a new one', async () => {
      // Each firing after a recovery opened (and paged) a new incident: a monitor flapping every few minutes paged the
      // on-call once per flap, each incident holding one firing.
      const REOPEN = 30 * 60_000;
      const k = key('flap');
      const first = alert(k, 0, { reopenWindowMs: REOPEN, severity: 'SEV-3' });
      await store.recordAlert(first);
      await other.recordRecovery({ now: at(60_000), dedupeKey: k, outboxId: randomUUID() });
      const second = await other.recordAlert(alert(k, 120_000, { reopenWindowMs: REOPEN, severity: 'SEV-2' }));
      expect(second).toMatchObject({
        action: 'reopened',
        incidentRef: first.outboxId,
        severity: 'SEV-2',
        alertCount: 2,
        firings: 2,
      });
      const row = await store.get(second.outboxId!);
      expect(row).toMatchObject({ kind: 'update', incidentRef: first.outboxId, incidentState: 'open', alertCount: 2 });
      const payload = row!.payload as { state?: string; severity?: string; note?: string; fields?: object };
      expect(payload).toMatchObject({
        state: 'active',
        severity: 'SEV-2',
        fields: { alert_count: '2', last_alert: new Date(at(120_000)).toISOString() },
      });
      expect(payload.note).toContain('Firing 2 of this incident');
      expect(payload.note).toContain('1 min after this incident was resolved');
      // Open again: the next alert within the dedupe window updates it; another flap reopens it once more.
      expect((await store.recordAlert(alert(k, 130_000, { reopenWindowMs: REOPEN }))).action).toBe('updated');
      await store.recordRecovery({ now: at(200_000), dedupeKey: k, outboxId: randomUUID() });
      const third = await other.recordAlert(alert(k, 300_000, { reopenWindowMs: REOPEN }));
      expect(third).toMatchObject({ action: 'reopened', incidentRef: first.outboxId, firings: 3, alertCount: 4 });
      // Past the window, or with the window off: a new incident.
      await store.recordRecovery({ now: at(400_000), dedupeKey: k, outboxId: randomUUID() });
      const late = await store.recordAlert(alert(k, 400_000 + REOPEN + 1, { reopenWindowMs: REOPEN }));
      expect(late.action).toBe('opened');
      const k2 = key('flap-off');
      await store.recordAlert(alert(k2, 0));
      await store.recordRecovery({ now: at(1000), dedupeKey: k2, outboxId: randomUUID() });
      expect((await store.recordAlert(alert(k2, 2000, { reopenWindowMs: 0 }))).action).toBe('opened');
      // Two replicas taking the same flap at once reopen it once.
      const k3 = key('flap-race');
      const opened3 = alert(k3, 0, { reopenWindowMs: REOPEN });
      await store.recordAlert(opened3);
      await store.recordRecovery({ now: at(1000), dedupeKey: k3, outboxId: randomUUID() });
      const racing = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? store : other).recordAlert(alert(k3, 2000 + i, { reopenWindowMs: REOPEN })),
        ),
      );
      expect(racing.filter((o) => o.action === 'reopened')).toHaveLength(1);
      expect(racing.filter((o) => o.action === 'updated')).toHaveLength(5);
      expect(new Set(racing.map((o) => o.incidentRef))).toEqual(new Set([opened3.outboxId]));
    });

    it('ignores a repeated ($ID) or out-of-order ($DATE) Datadog notification, across replicas', async () => {
      const k = key('events');
      const recovered = await store.recordRecovery({
        now: at(0),
        dedupeKey: k,
        outboxId: randomUUID(),
        event: { id: 'r1', at: at(5000) },
      });
      expect(recovered).toEqual({ action: 'ignored' });
      // A trigger that happened before the recovery already taken: delivered late.
      expect(await other.recordAlert(alert(k, 100, { event: { id: 't0', at: at(1000) } }))).toEqual({
        action: 'ignored',
        skipped: 'stale',
      });
      const opened = await other.recordAlert(alert(k, 200, { event: { id: 't1', at: at(9000) } }));
      expect(opened.action).toBe('opened');
      expect(await store.recordAlert(alert(k, 300, { event: { id: 't1', at: at(9000) } }))).toEqual({
        action: 'ignored',
        skipped: 'duplicate',
      });
      // A recovery older than the newest alert does not resolve it; a newer one does.
      const old = { now: at(400), dedupeKey: k, outboxId: randomUUID(), event: { id: 'r0', at: at(8000) } };
      expect(await store.recordRecovery(old)).toEqual({ action: 'ignored', skipped: 'stale' });
      const fresh = { now: at(500), dedupeKey: k, outboxId: randomUUID(), event: { id: 'r2', at: at(9500) } };
      expect((await other.recordRecovery(fresh)).action).toBe('resolved');
    });

    it("holds text with a NUL (JSON's \\u0000) as U+FFFD: recorded, deduped, resolved and retried like any other", async () => {
      // PostgreSQL's text refuses NUL: the alert was a 500 (a webhook retried for ever); both stores answer the same.
      const k = `${key('nul')}\u0000`;
      const a = alert(k, 0, { monitor: 'LLM err\u0000or ratio', group: 'env:pro\u0000d', title: 'x\u0000y' });
      const opened = await store.recordAlert({ ...a, event: { id: 'ev\u00001', at: at(0) } });
      expect(opened.action).toBe('opened');
      expect(await store.get(a.outboxId)).toMatchObject({
        monitor: 'LLM err\ufffdor ratio',
        group: 'env:pro\ufffdd',
        title: 'x\ufffdy',
        incidentState: 'open',
      });
      expect(await other.recordAlert({ ...alert(k, 10), event: { id: 'ev\u00001', at: at(0) } })).toEqual({
        action: 'ignored',
        skipped: 'duplicate',
      });
      expect((await other.recordAlert(alert(k, 20))).action).toBe('updated');
      await store.claimDue('w1', at(0), LEASE, 10);
      expect(await store.markRetry(a.outboxId, 'w1', 'HTTP 400: bad \u0000', at(5000), at(100))).toBe(true);
      expect(await store.get(a.outboxId)).toMatchObject({ lastError: 'HTTP 400: bad \ufffd' });
      const resolved = await other.recordRecovery({ now: at(30), dedupeKey: k, outboxId: randomUUID() });
      expect(resolved).toMatchObject({ action: 'resolved', incidentRef: a.outboxId, title: 'x\ufffdy' });
    });

    callerClock('claims due rows with a lease: one holder at a time, taken over once the lease expires', async () => {
      const a = alert(key('claim'), 0);
      await store.recordAlert(a);
      expect(await store.claimDue('w1', at(-1), LEASE, 10)).toEqual([]);
      const claimed = await store.claimDue('w1', at(0), LEASE, 10);
      expect(claimed.map((e) => e.id)).toEqual([a.outboxId]);
      expect(claimed[0]).toMatchObject({ state: 'delivering', claimedBy: 'w1', leaseUntil: at(LEASE) });
      expect(await other.claimDue('w2', at(LEASE - 1), LEASE, 10)).toEqual([]);
      // w1 died: its lease expires and w2 takes the row over; w1 can no longer mark it.
      const taken = await other.claimDue('w2', at(LEASE), LEASE, 10);
      expect(taken.map((e) => [e.id, e.claimedBy])).toEqual([[a.outboxId, 'w2']]);
      expect(await store.markDelivered(a.outboxId, 'w1', { incidentId: 'x', url: 'u' }, at(LEASE + 1))).toBe(false);
      expect(
        await other.markDelivered(a.outboxId, 'w2', { incidentId: 'dd-1', url: 'https://dd/1' }, at(LEASE + 2)),
      ).toBe(true);
      expect(await store.get(a.outboxId)).toMatchObject({
        state: 'delivered',
        incidentId: 'dd-1',
        incidentUrl: 'https://dd/1',
        deliveredAt: at(LEASE + 2),
        claimedBy: null,
      });
      expect(await store.claimDue('w1', at(10 * LEASE), LEASE, 10)).toEqual([]);
    });

    callerClock('renews a lease only for its holder: a renewed row is not taken over', async () => {
      const a = alert(key('renew'), 0);
      await store.recordAlert(a);
      await store.claimDue('w1', at(0), LEASE, 10);
      expect(await other.renewLease(a.outboxId, 'w2', at(2 * LEASE), at(LEASE - 10))).toBe(false);
      expect(await store.renewLease(a.outboxId, 'w1', at(2 * LEASE), at(LEASE - 10))).toBe(true);
      expect(await other.claimDue('w2', at(LEASE), LEASE, 10)).toEqual([]);
      expect((await other.claimDue('w2', at(2 * LEASE), LEASE, 10)).map((e) => e.claimedBy)).toEqual(['w2']);
      expect(await store.renewLease(a.outboxId, 'w1', at(3 * LEASE), at(2 * LEASE + 1))).toBe(false);
    });

    serverClock(
      'times leases on the database clock: a replica whose clock runs ahead never takes over a live lease',
      async () => {
        // A replica whose clock ran ahead by more than the lease took a row over while its holder was mid-create: the
        // incident was created twice. Here `now` is ten days ahead of the database's clock.
        const a = alert(key('skew'), 0);
        await store.recordAlert(a);
        const ahead = at(10 * DAY);
        const before = Date.now();
        const claimed = await store.claimDue('w1', at(0), LEASE, 10);
        expect(claimed.map((e) => [e.id, e.claimedBy])).toEqual([[a.outboxId, 'w1']]);
        // The lease ends LEASE after the database's now (this host's clock), not after the `now` given.
        expect(claimed[0]!.leaseUntil).toBeGreaterThanOrEqual(before + LEASE - 1);
        expect(claimed[0]!.leaseUntil).toBeLessThanOrEqual(Date.now() + LEASE + 1);
        expect(await other.claimDue('w2', ahead, LEASE, 10)).toEqual([]);
        // A renewal from a clock ahead moves the lease to the database's now plus the length asked, not ten days on.
        expect(await store.renewLease(a.outboxId, 'w1', ahead + LEASE, ahead)).toBe(true);
        expect((await store.get(a.outboxId))!.leaseUntil).toBeLessThanOrEqual(Date.now() + LEASE + 1);
        expect(await other.claimDue('w2', ahead + 2 * LEASE, LEASE, 10)).toEqual([]);
        // Renewed for 200 ms: once the database's clock passes it, the row is taken over (with any caller's now).
        expect(await store.renewLease(a.outboxId, 'w1', at(200), at(0))).toBe(true);
        const until = (await store.get(a.outboxId))!.leaseUntil!;
        for (let i = 0; i < 200 && Date.now() <= until + 10; i++) await sleep(50);
        const taken = await other.claimDue('w2', at(0), LEASE, 10);
        expect(taken.map((e) => [e.id, e.claimedBy])).toEqual([[a.outboxId, 'w2']]);
        expect(await store.markDelivered(a.outboxId, 'w1', { incidentId: 'x', url: 'u' }, at(1))).toBe(false);
        expect(await other.markDelivered(a.outboxId, 'w2', { incidentId: 'dd-1', url: 'https://dd/1' }, at(2))).toBe(
          true,
        );
      },
    );

    callerClock('times leases on the `now` it is given (one host, one clock)', async () => {
      const a = alert(key('caller-clock'), 0);
      await store.recordAlert(a);
      await store.claimDue('w1', at(0), LEASE, 10);
      expect((await other.claimDue('w2', at(LEASE), LEASE, 10)).map((e) => e.claimedBy)).toEqual(['w2']);
    });

    it('retries: attempts + 1, next attempt, the reason kept; release gives a row back as it was', async () => {
      const a = alert(key('retry'), 0);
      await store.recordAlert(a);
      await store.claimDue('w1', at(0), LEASE, 10);
      expect(await store.markRetry(a.outboxId, 'w1', 'HTTP 500: boom', at(5000), at(100))).toBe(true);
      expect(await store.get(a.outboxId)).toMatchObject({
        state: 'pending',
        attempts: 1,
        nextAttemptAt: at(5000),
        lastError: 'HTTP 500: boom',
        claimedBy: null,
      });
      expect((await store.lastErrors(50)).map((e) => e.id)).toContain(a.outboxId);
      expect(await store.claimDue('w1', at(4999), LEASE, 10)).toEqual([]);
      expect((await store.claimDue('w1', at(5000), LEASE, 10)).map((e) => e.attempts)).toEqual([1]);
      expect(await store.release(a.outboxId, 'w2', at(5001))).toBe(false);
      expect(await store.release(a.outboxId, 'w1', at(5001))).toBe(true);
      expect(await store.get(a.outboxId)).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: at(5000) });
    });

    it('delivers the updates of an incident after its create, one at a time and in order', async () => {
      const k = key('order');
      const create = alert(k, 0);
      await store.recordAlert(create);
      const u1 = await store.recordAlert(alert(k, 1000));
      const u2 = await store.recordRecovery({ now: at(2000), dedupeKey: k, outboxId: randomUUID() });
      // The create's delivery fails: the updates wait (not claimed, attempts untouched).
      expect((await store.claimDue('w', at(3000), LEASE, 10)).map((e) => e.id)).toEqual([create.outboxId]);
      await store.markRetry(create.outboxId, 'w', 'down', at(10_000), at(3000));
      expect(await store.claimDue('w', at(4000), LEASE, 10)).toEqual([]);
      expect((await store.claimDue('w', at(10_000), LEASE, 10)).map((e) => e.id)).toEqual([create.outboxId]);
      await store.markDelivered(create.outboxId, 'w', { incidentId: 'dd-9', url: 'https://dd/9' }, at(10_001));
      const first = await store.claimDue('w', at(10_002), LEASE, 10);
      expect(first.map((e) => [e.id, e.incidentId])).toEqual([[u1.outboxId, 'dd-9']]);
      expect(await other.claimDue('w2', at(10_003), LEASE, 10)).toEqual([]);
      await store.markDelivered(u1.outboxId!, 'w', { incidentId: 'dd-9', url: 'https://dd/9' }, at(10_004));
      const second = await other.claimDue('w2', at(10_005), LEASE, 10);
      expect(second.map((e) => e.id)).toEqual([u2.outboxId]);
      expect(second[0]!.payload).toMatchObject({ state: 'resolved' });
    });

    it('a create refused for good fails its waiting updates and closes its incident: the next alert opens anew', async () => {
      const k = key('failed');
      const create = alert(k, 0);
      await store.recordAlert(create);
      const update = await store.recordAlert(alert(k, 1000));
      await store.claimDue('w', at(2000), LEASE, 10);
      expect(await store.markFailed(create.outboxId, 'other-worker', 'HTTP 400: bad', at(2001))).toBe(false);
      expect(await store.markFailed(create.outboxId, 'w', 'HTTP 400: bad', at(2001))).toBe(true);
      expect(await store.get(create.outboxId)).toMatchObject({
        state: 'failed',
        lastError: 'HTTP 400: bad',
        incidentState: 'failed',
      });
      const failedUpdate = await store.get(update.outboxId!);
      expect(failedUpdate).toMatchObject({ state: 'failed' });
      expect(failedUpdate!.lastError).toContain('HTTP 400: bad');
      expect((await store.recordAlert(alert(k, 3000))).action).toBe('opened');
    });

    it('an update failed because its incident is gone closes the incident and its waiting updates; not otherwise', async () => {
      const k = key('gone');
      const create = alert(k, 0);
      await store.recordAlert(create);
      await store.claimDue('w', at(100), LEASE, 10);
      await store.markDelivered(create.outboxId, 'w', { incidentId: 'dd-gone', url: 'https://dd/gone' }, at(200));
      const refused = await store.recordAlert(alert(k, 1000));
      await store.claimDue('w', at(1100), LEASE, 10);
      expect(await store.markFailed(refused.outboxId!, 'w', 'HTTP 400: bad field', at(1200))).toBe(true);
      expect(await store.get(refused.outboxId!)).toMatchObject({ state: 'failed', incidentState: 'open' });

      const gone = await store.recordAlert(alert(k, 2000));
      expect(gone.action).toBe('updated');
      const waiting = await store.recordAlert(alert(k, 2500));
      expect((await store.claimDue('w', at(3000), LEASE, 10)).map((e) => e.id)).toEqual([gone.outboxId]);
      expect(await store.markFailed(gone.outboxId!, 'w', 'HTTP 404: Not found', at(3100), true)).toBe(true);
      expect(await store.get(gone.outboxId!)).toMatchObject({ state: 'failed', incidentState: 'failed' });
      const after = await store.get(waiting.outboxId!);
      expect(after).toMatchObject({ state: 'failed' });
      expect(after!.lastError).toContain('HTTP 404: Not found');
      expect((await store.recordAlert(alert(k, 4000))).action).toBe('opened');
    });

    it('retention deletes finished rows of closed incidents, never those of an open one', async () => {
      const closed = key('purged');
      const open = key('kept');
      const c = alert(closed, 0);
      const o = alert(open, 0);
      await store.recordAlert(c);
      await store.recordAlert(o);
      for (const row of await store.claimDue('w', at(10), LEASE, 10)) {
        await store.markDelivered(row.id, 'w', { incidentId: `dd-${row.id}`, url: 'https://dd/x' }, at(20));
      }
      const resolve = randomUUID();
      await store.recordRecovery({ now: at(30), dedupeKey: closed, outboxId: resolve });
      for (const row of await store.claimDue('w', at(40), LEASE, 10)) {
        await store.markDelivered(row.id, 'w', { incidentId: `dd-${c.outboxId}`, url: 'https://dd/x' }, at(50));
      }
      expect(await store.get(resolve)).toMatchObject({ state: 'delivered' });
      // Before the cut-off nothing of theirs is old enough; past it, the closed incident's two rows go.
      expect(await store.purgeFinished(at(45))).toEqual({ rows: 0, incidents: 0 });
      expect(await store.purgeFinished(at(1000))).toEqual({ rows: 2, incidents: 1 });
      expect(await store.get(c.outboxId)).toBeUndefined();
      expect(await store.get(resolve)).toBeUndefined();
      expect(await store.get(o.outboxId)).toMatchObject({ state: 'delivered', incidentState: 'open' });
    });

    it('counts rows by state and the age of the oldest waiting one', async () => {
      const before = await store.stats(at(0));
      const a = alert(key('stats'), 0);
      await store.recordAlert(a);
      const after = await other.stats(at(0));
      expect(after.pending).toBe(before.pending + 1);
      // The oldest waiting row may be another test's (at a later time): its age is not negative.
      expect(after.oldestPendingAgeMs).not.toBeNull();
      expect(after.oldestPendingAgeMs!).toBeGreaterThanOrEqual(0);
      expect((await store.stats(at(0) + 10 * 365 * DAY)).oldestPendingAgeMs!).toBeGreaterThan(9 * 365 * DAY);
    });

    it('counts the incidents open now and the age of the oldest: a recovery closes one, on every replica', async () => {
      const before = await store.stats(at(0));
      const k = key('open-count');
      await store.recordAlert(alert(k, 0));
      await store.recordAlert(alert(k, 1000)); // deduplicated: the same incident, still one open
      const opened = await other.stats(at(0));
      expect(opened.openIncidents).toBe(before.openIncidents + 1);
      expect(opened.oldestOpenAgeMs).not.toBeNull();
      expect((await store.stats(at(0) + 10 * 365 * DAY)).oldestOpenAgeMs!).toBeGreaterThan(9 * 365 * DAY);
      await other.recordRecovery({ now: at(2000), dedupeKey: k, outboxId: randomUUID() });
      expect((await store.stats(at(2000))).openIncidents).toBe(before.openIncidents);
    });

    it('two replicas recording the same alert at once open exactly one incident', async () => {
      const k = key('race');
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? store : other).recordAlert(alert(k, i))),
      );
      expect(outcomes.filter((o) => o.action === 'opened')).toHaveLength(1);
      expect(outcomes.filter((o) => o.action === 'updated')).toHaveLength(11);
      const refs = new Set(outcomes.map((o) => o.incidentRef));
      expect(refs.size).toBe(1);
      expect(Math.max(...outcomes.map((o) => o.alertCount ?? 0))).toBe(12);
    });

    it('an Idempotency-Key seen before writes nothing: the first row (same body), or a conflict (another body)', async () => {
      // A POST /incidents/create retried after its answer was lost (the client timed out after the commit) recorded the
      // alert again: an update of the incident (one more alert), or, past the dedupe window, a second incident.
      const k = key('idem');
      const idempotency = { key: `idem-${randomUUID()}`, fingerprint: 'body-1' };
      const first = await store.recordAlert(alert(k, 0, { idempotency, dedupeWindowMs: 0 }));
      expect(first.action).toBe('opened');
      const retry = await other.recordAlert(alert(k, 100, { idempotency, dedupeWindowMs: 0 }));
      expect(retry).toEqual({ action: 'opened', idempotency: 'replayed', outboxId: first.outboxId });
      expect(await store.get(retry.outboxId!)).toMatchObject({ kind: 'create', alertCount: 1, incidentState: 'open' });
      const conflict = await other.recordAlert(
        alert(key('idem-other'), 200, { idempotency: { ...idempotency, fingerprint: 'body-2' } }),
      );
      expect(conflict).toEqual({ action: 'ignored', idempotency: 'conflict', outboxId: first.outboxId });
      // A deduplicated request is replayed as one (the update row it wrote).
      const dedupeKey = key('idem-dedupe');
      await store.recordAlert(alert(dedupeKey, 0));
      const updateIdem = { key: `idem-${randomUUID()}`, fingerprint: 'body-3' };
      const updated = await store.recordAlert(alert(dedupeKey, 10, { idempotency: updateIdem }));
      expect(updated.action).toBe('updated');
      expect(await other.recordAlert(alert(dedupeKey, 20, { idempotency: updateIdem }))).toEqual({
        action: 'updated',
        idempotency: 'replayed',
        outboxId: updated.outboxId,
      });
      expect((await store.get(updated.outboxId!))!.alertCount).toBe(2);
      // Many retries at once on two replicas, with bodies that dedupe apart: one row written, the rest replay or conflict.
      const racing = { key: `idem-${randomUUID()}`, fingerprint: 'race' };
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? store : other).recordAlert(
            alert(key(`idem-race-${i % 3}`), i, {
              idempotency: i % 3 === 0 ? racing : { ...racing, fingerprint: `race-${i % 3}` },
            }),
          ),
        ),
      );
      const written = outcomes.filter((o) => o.idempotency === undefined);
      expect(written).toHaveLength(1);
      expect(new Set(outcomes.map((o) => o.outboxId))).toEqual(new Set([written[0]!.outboxId]));
    });

    it('two replicas claiming at once never hold the same row', async () => {
      const rows = await Promise.all(Array.from({ length: 8 }, (_, i) => store.recordAlert(alert(key(`c${i}`), 0))));
      const [x, y] = await Promise.all([store.claimDue('wx', at(1), LEASE, 5), other.claimDue('wy', at(1), LEASE, 5)]);
      const ids = [...x, ...y].map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(rows.map((r) => r.outboxId!).sort());
    });

    it('keeps everything across a restart of the database and of the store', async () => {
      const a = alert(key('restart'), 0);
      await store.recordAlert(a);
      await h.restartDatabase();
      let entry;
      for (let attempt = 0; attempt < 10 && entry === undefined; attempt++) {
        entry = await store.get(a.outboxId).catch(() => undefined);
        if (!entry) await new Promise((r) => setTimeout(r, 200));
      }
      expect(entry).toMatchObject({ id: a.outboxId, state: 'pending' });
      const reopened = await h.open();
      try {
        expect((await reopened.claimDue('w', at(0), LEASE, 10)).map((e) => e.id)).toEqual([a.outboxId]);
      } finally {
        await reopened.close();
      }
    });
  });
}
