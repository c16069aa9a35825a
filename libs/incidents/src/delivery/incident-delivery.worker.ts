import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DAY_MS, heldBack, TextRedactor, truncate, WarningThrottle } from '@app/common';
import { AppConfig } from '@app/config';
import { type DeliveredIncident, DatadogIncidentsPort, type IncidentRequest, type IncidentUpdate } from '@app/datadog';
import { formatTags, MetricsPort } from '@app/telemetry';
import { clip } from '../content/incident-content';
import { INCIDENT_METRICS } from '../incidents.metrics';
import { IncidentOutboxStore } from '../outbox/incident-outbox.port';
import type { DeliveredRef, OutboxEntry, OutboxUpdatePayload } from '../outbox/outbox.types';
import { retryDelayMs } from './backoff';
import {
  type ClassifiedError,
  classifyDeliveryError,
  DELIVERY_ERROR_REASONS,
  DeliveryStoppedError,
  DeliveryTimeoutError,
  LeaseLostError,
  UNCONFIGURED_REASON,
} from './delivery-error';

/** Whether `work` settles within `ms` (it goes on either way). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

/**
 * Rows claimed at once: one. Each claimed row's lease runs from its claim, so a row claimed in a batch and delivered
 * after the others could outlive its lease before it is even tried, and be delivered twice.
 */
const BATCH = 1;
/** Claims per poll at most (a poll never runs unbounded). */
const MAX_CLAIMS = 200;
/** The longest note sent with an update (a textbox field, as the context fields: CONTENT_LIMITS.field). */
const NOTE_MAX_CHARS = 500;
/** The longest reason kept on a row. */
const REASON_MAX_CHARS = 300;
/** How long shutdown waits for a delivery under way, before it aborts it and gives its row back. */
const SHUTDOWN_WAIT_MS = 5000;
/** How long shutdown then waits for the aborted delivery to give its row back (one store write). */
const RELEASE_WAIT_MS = 2000;
/** How often finished rows past retention (LEDGER_RETENTION_DAYS) are deleted. */
const PURGE_EVERY_MS = 3_600_000;
/** At most one `incident outbox unavailable` warning this often while the outbox's database is away. */
const OUTAGE_LOG_INTERVAL_MS = 60_000;

const ERROR_TAGS = Object.fromEntries(
  DELIVERY_ERROR_REASONS.map((reason) => [reason, formatTags({ reason })]),
) as Record<(typeof DELIVERY_ERROR_REASONS)[number], string[]>;
const KIND_TAGS = { create: formatTags({ kind: 'create' }), update: formatTags({ kind: 'update' }) };

/**
 * Delivers the outbox to Datadog. Every `INCIDENTS_DELIVERY_INTERVAL_MS` (and right after a request is written:
 * `kick`) it claims due rows with a lease of `INCIDENTS_LEASE_MS` and, for each:
 * - a create: `findByKey(idempotency key)` first, `create` only when Datadog holds no incident with that key, so a
 *   retry after a lost answer, a crash or an expired lease finds the incident instead of opening a second one;
 * - an update: `update(Datadog id, change)` (the claim only hands out an update once its create is delivered, and
 *   the updates of one incident one at a time, in order);
 * then marks it delivered with Datadog's id and link. A failure that can succeed later (no answer, 401/403, 408,
 * 429, 5xx, no API keys) puts the row back with attempts + 1 and the next attempt after an exponential, jittered
 * backoff between INCIDENTS_RETRY_BASE_MS and INCIDENTS_RETRY_MAX_MS, the reason kept (redacted, bounded); one that
 * cannot (another 4xx) fails the row. Nothing is marked delivered unless Datadog answered with the incident.
 * A row whose lease expired (a replica died mid-delivery) is claimed again by any replica.
 */
/**
 * The lease of the row being delivered, as this process last saw it renewed: its end measured on the monotonic clock
 * (`performance.now()`, from when the renewal was sent: never later than the store's own end) and on the wall clock
 * (what the SQLite outbox stores and other processes on the host compare with); 0 once lost. A create runs only
 * while both last (`leaseLeft`): on the wall clock alone, a clock set back by an hour made this process believe its
 * lease lasted an hour longer while the PostgreSQL outbox (the database's clock) let another replica claim the row.
 */
interface HeldLease {
  until: number;
  wallUntil: number;
}

/** How long the lease is still held (ms), the shorter of its two ends; negative once it ended or was lost. */
export function leaseLeft(held: HeldLease): number {
  if (held.until <= 0) return -1;
  return Math.min(held.until - performance.now(), held.wallUntil - Date.now());
}

@Injectable()
export class IncidentDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('IncidentDelivery');
  /** This process's name on the rows it claims. */
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** The jitter's source, in [0, 1); replaced in tests. */
  random: () => number = Math.random;
  /**
   * The longest a delivery's Datadog calls may take before the row is retried: a safety net only (the adapter aborts
   * its own calls sooner), as a call given up on may still land; the lease is renewed while they run.
   */
  callTimeoutMs = 120_000;
  /** How long shutdown waits for a delivery under way before aborting it (replaced in tests). */
  shutdownWaitMs = SHUTDOWN_WAIT_MS;
  /** Aborted at shutdown once `shutdownWaitMs` has passed: the Datadog calls still under way are given up. */
  private readonly stopping = new AbortController();

  /** The last delivery attempt that failed, until one succeeds (the `incidents` readiness check says it). */
  private lastFailure: { at: number; error: ClassifiedError } | undefined;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private cyclesStarted = 0;
  private cyclesFinished = 0;
  private readonly rowWaiters = new Map<string, Set<() => void>>();
  private cycleWaiters: { target: number; done: () => void }[] = [];
  /**
   * The polls that met an outbox it could not use (a database outage): one warning a minute at most, however often
   * it polls (every INCIDENTS_DELIVERY_INTERVAL_MS), and one line when a poll gets through again.
   */
  private readonly outageLog = new WarningThrottle(OUTAGE_LOG_INTERVAL_MS);
  /**
   * Failed delivery attempts, one warning a minute per reason (unreachable, server, rate_limited, ...): during a
   * Datadog outage every pending row fails each of its retries the same way, and a line per attempt was a flood
   * (about 50 lines a second with 700 rows pending). Each row's last error stays in `GET /incidents/status`, and
   * `incidents.delivery.errors` counts every attempt.
   */
  private readonly retryLog = new WarningThrottle(OUTAGE_LOG_INTERVAL_MS);
  private failedPolls = 0;

  constructor(
    private readonly store: IncidentOutboxStore,
    private readonly datadog: DatadogIncidentsPort,
    private readonly config: AppConfig,
    private readonly metrics: MetricsPort,
    private readonly redactor: TextRedactor,
  ) {}

  /**
   * Polls from boot on: a restarted process resumes what its predecessor left (pending rows, expired leases). With
   * Datadog configured, the SDK is loaded first, while the service starts and before it listens: a module loads
   * synchronously, blocking the event loop (about 1.3 s on a small machine, 5-8 s on a loaded one), so loaded later
   * (it was 3 s after boot) it stalled every request the load balancer had just begun to send; on the first alert it
   * would delay that alert's delivery.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.datadog.name === 'datadog') await this.datadog.warmUp();
    this.started = true;
    this.schedule(0);
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  /**
   * Retention: deletes delivered and failed rows (and closed incidents) older than LEDGER_RETENTION_DAYS, as the
   * ledger does its records; an incident still open keeps its rows. Never throws.
   */
  async purge(now = Date.now()): Promise<{ rows: number; incidents: number } | undefined> {
    try {
      const purged = await this.store.purgeFinished(now - this.config.ledger.retentionDays * DAY_MS);
      if (purged.rows + purged.incidents > 0) {
        this.logger.log(
          `outbox retention: ${purged.rows} finished rows and ${purged.incidents} closed incidents deleted`,
        );
      }
      return purged;
    } catch (error) {
      this.logger.warn(`outbox retention failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /**
   * Stops polling; rows claimed and not started are given back; a delivery under way is waited for (bounded), then
   * aborted and its row given back too, while the store is still open (IncidentsModule closes it after this hook).
   * Before, a delivery Datadog held (an API that accepts and never answers) ran on past the wait: its row stayed
   * claimed until its lease expired, its retry met a closed store, and its request held the process.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const running = this.running;
    if (running && !(await settlesWithin(running, this.shutdownWaitMs))) {
      this.stopping.abort();
      await settlesWithin(running, RELEASE_WAIT_MS);
    }
    for (const waiters of this.rowWaiters.values()) for (const done of waiters) done();
    for (const waiter of this.cycleWaiters) waiter.done();
  }

  /** Runs a delivery poll as soon as possible (a request was just written). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else if (this.started) this.schedule(0);
    else void this.deliverDue();
  }

  /**
   * Resolves once `outboxId` was tried by this process (delivered, retried or failed), or a poll that started after
   * this call ended without it (another replica holds it, or it waits for its create), or after `timeoutMs`.
   */
  settled(outboxId: string, timeoutMs: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      let waiters = this.rowWaiters.get(outboxId);
      if (!waiters) this.rowWaiters.set(outboxId, (waiters = new Set()));
      const cycleWaiter = { target: this.cyclesStarted + 1, done: () => finish() };
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(finish);
        if (waiters.size === 0 && this.rowWaiters.get(outboxId) === waiters) this.rowWaiters.delete(outboxId);
        this.cycleWaiters = this.cycleWaiters.filter((w) => w !== cycleWaiter);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      waiters.add(finish);
      this.cycleWaiters.push(cycleWaiter);
      this.kick();
    });
  }

  /**
   * One poll: claims and delivers due rows until none is left (bounded), then reports the outbox gauges. `now` fixes
   * the clock (tests); by default each step reads it. A poll already under way is joined (and another one follows).
   */
  deliverDue(now?: number): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = this.poll(now).finally(() => {
      this.running = undefined;
      this.cyclesFinished += 1;
      const finished = this.cyclesFinished;
      for (const waiter of this.cycleWaiters.filter((w) => w.target <= finished)) waiter.done();
      const again = this.again;
      this.again = false;
      if (this.started) this.schedule(again ? 0 : this.config.incidents.deliveryIntervalMs);
    });
    this.running = run;
    return run;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.deliverDue();
    }, ms);
    // The poll never keeps the process alive.
    this.timer.unref();
  }

  private async poll(fixedNow: number | undefined): Promise<void> {
    this.cyclesStarted += 1;
    const clock = (): number => fixedNow ?? Date.now();
    try {
      for (let claim = 0; claim < MAX_CLAIMS && !this.stopped; claim++) {
        const entries = await this.store.claimDue(this.workerId, clock(), this.config.incidents.leaseMs, BATCH);
        for (let i = 0; i < entries.length; i++) {
          if (this.stopped) {
            await Promise.all(entries.slice(i).map((e) => this.store.release(e.id, this.workerId, clock())));
            break;
          }
          await this.deliver(entries[i]!, clock);
        }
        // Until a claim finds nothing: delivering a create makes its updates due in the same poll.
        if (entries.length === 0) break;
      }
      if (!this.stopped) await this.report(clock());
      this.outboxAvailable();
    } catch (error) {
      this.failedPolls += 1;
      const suppressed = this.outageLog.admit();
      if (suppressed !== undefined) {
        this.logger.warn(
          `incident outbox unavailable: ${this.reason(error)}; polling on, logged once a minute${heldBack(suppressed)}`,
        );
      }
    }
  }

  /** A poll got through: after an outage, says so once (the polls that failed, the warnings held back). */
  private outboxAvailable(): void {
    if (this.failedPolls === 0) return;
    const failed = this.failedPolls;
    this.failedPolls = 0;
    this.outageLog.clear();
    this.logger.log(`incident outbox available again after ${failed} failed polls`);
  }

  private async deliver(entry: OutboxEntry, clock: () => number): Promise<void> {
    try {
      if (this.datadog.name === 'unconfigured') {
        await this.retry(entry, { reason: 'unconfigured', retryable: true, message: UNCONFIGURED_REASON }, clock());
        return;
      }
      let ref: DeliveredRef;
      try {
        ref = await this.withHeartbeat(entry, (held) => this.send(entry, clock, held));
      } catch (error) {
        if (error instanceof LeaseLostError) {
          this.logger.warn(`${error.message}; its new holder delivers it`);
          return;
        }
        if (error instanceof DeliveryStoppedError) {
          await this.store.release(entry.id, this.workerId, clock());
          this.logger.warn(`outbox ${entry.id} (${entry.kind}): ${error.message}; given back for the next process`);
          return;
        }
        const classified = classifyDeliveryError(error);
        this.lastFailure = { at: clock(), error: classified };
        if (classified.retryable) await this.retry(entry, classified, clock());
        else await this.fail(entry, classified, clock());
        return;
      }
      this.lastFailure = undefined;
      // Datadog answers again: the next failure is news, logged at once.
      this.retryLog.reset();
      if (await this.store.markDelivered(entry.id, this.workerId, ref, clock())) {
        this.metrics.increment(INCIDENT_METRICS.delivered.name, 1, KIND_TAGS[entry.kind]);
        this.logger.log(
          `incident ${entry.kind} delivered: outbox ${entry.id} -> ${ref.incidentId} (attempt ${entry.attempts + 1})`,
        );
      } else {
        this.logger.warn(`outbox ${entry.id}: lease lost before it was marked delivered; its new holder finds it`);
      }
    } finally {
      this.notify(entry.id);
    }
  }

  /**
   * Renews the row's lease every third of INCIDENTS_LEASE_MS while `work` runs: a delivery slower than the lease
   * (a slow Datadog, the SDK loading) keeps its row, and only a holder that died lets its lease expire. `work` is
   * handed the lease as this process last saw it renewed (`held.until`, wall clock; 0 once another worker holds the
   * row), so that a create can stop before the lease it relies on ends (`fencedCreate`).
   */
  private async withHeartbeat<T>(entry: OutboxEntry, work: (held: HeldLease) => Promise<T>): Promise<T> {
    const leaseMs = this.config.incidents.leaseMs;
    const held: HeldLease = { until: performance.now() + leaseMs, wallUntil: Date.now() + leaseMs };
    const timer = setInterval(
      () => {
        // Stopping: the lease is left to expire, so that another replica can take the row over.
        if (this.stopped) return;
        const now = Date.now();
        const sentAt = performance.now();
        this.store.renewLease(entry.id, this.workerId, now + leaseMs, now).then(
          (kept) => {
            if (kept) {
              if (held.until > 0) {
                held.until = Math.max(held.until, sentAt + leaseMs);
                held.wallUntil = Math.max(held.wallUntil, now + leaseMs);
              }
              return;
            }
            held.until = 0;
            this.logger.warn(`outbox ${entry.id}: lease lost during its delivery`);
          },
          (error: unknown) => this.logger.warn(`outbox ${entry.id}: lease not renewed: ${this.reason(error)}`),
        );
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    try {
      return await work(held);
    } finally {
      clearInterval(timer);
    }
  }

  /** Sends one row: for a create, the key lookup first and the create only when Datadog holds none. */
  private async send(entry: OutboxEntry, clock: () => number, held: HeldLease): Promise<DeliveredRef> {
    // A duration in this process: the monotonic clock (a wall clock set back made the safety timeout that much later).
    const deadline = performance.now() + this.callTimeoutMs;
    if (entry.kind === 'create') {
      const request = entry.payload as IncidentRequest;
      const found = await this.bounded(
        'findByKey',
        () => deadline - performance.now(),
        (signal) => this.datadog.findByKey(request.idempotencyKey, { signal }),
      );
      const incident: DeliveredIncident = found ?? (await this.fencedCreate(entry, request, deadline, clock, held));
      for (const warning of incident.warnings ?? []) this.logger.warn(`incident ${incident.id}: ${warning}`);
      return { incidentId: incident.id, url: incident.url };
    }
    if (!entry.incidentId) throw new Error(`update ${entry.id}: its incident has no Datadog id yet`);
    const incidentId = entry.incidentId;
    const update = await this.withSuccessor(entry.payload);
    const result = await this.bounded(
      'update',
      () => deadline - performance.now(),
      (signal) => this.datadog.update(incidentId, update, { signal }),
    );
    for (const warning of result.warnings ?? []) this.logger.warn(`incident ${incidentId}: ${warning}`);
    return { incidentId, url: entry.incidentUrl ?? '' };
  }

  /**
   * The update to send: for the resolution of a superseded incident, its note starts with where the alerts went, a
   * link to the successor (also attached) when Datadog holds it by now (the successor's create is sent first: it has
   * the earlier seq), else its title.
   */
  private async withSuccessor(payload: OutboxUpdatePayload): Promise<IncidentUpdate> {
    const { successor, ...update } = payload;
    if (!successor) return update;
    const next = await this.store.get(successor.outboxId);
    const url = next?.state === 'delivered' ? next.incidentUrl : null;
    const by = url ?? `the incident "${clip(successor.title, 100)}" (not in Datadog yet when this one was resolved)`;
    return {
      ...update,
      note: clip(`Resolved by the control plane, superseded by ${by}. ${update.note ?? ''}`.trim(), NOTE_MAX_CHARS),
      ...(url ? { links: [...(update.links ?? []), { title: 'Continued in', url }] } : {}),
    };
  }

  /**
   * **A create is fenced by the lease.** Between the key lookup and the create, the lease is renewed and checked: a
   * worker whose row was taken over (its heartbeats delayed past the lease by a stalled process or a slow store)
   * sends nothing, and the new holder's lookup decides. The create then runs only while the lease it relies on lasts
   * (less a tenth of it, at least 50 ms), as renewed by the heartbeat: when renewals stop succeeding it is aborted
   * before another replica can claim the row, so the new holder's lookup runs after this create answered or was
   * aborted, and finds it if it landed. Left open: a process stalled between the check and the send for longer than
   * the lease (no timer can fire in a stalled process), and Datadog applying an aborted create later than the new
   * holder's lookup.
   */
  private async fencedCreate(
    entry: OutboxEntry,
    request: IncidentRequest,
    deadline: number,
    clock: () => number,
    held: HeldLease,
  ): Promise<DeliveredIncident> {
    const leaseMs = this.config.incidents.leaseMs;
    const now = clock();
    const renewedAt = performance.now();
    if (!(await this.store.renewLease(entry.id, this.workerId, now + leaseMs, now))) {
      held.until = 0;
      throw new LeaseLostError(entry.id);
    }
    if (held.until > 0) {
      held.until = Math.max(held.until, renewedAt + leaseMs);
      held.wallUntil = Math.max(held.wallUntil, now + leaseMs);
    }
    const margin = Math.max(50, Math.floor(leaseMs / 10));
    return this.bounded(
      'create',
      () => Math.min(deadline - performance.now(), leaseLeft(held) - margin),
      (signal) => this.datadog.create(request, { signal }),
    );
  }

  /**
   * Runs one port call while `left()` (ms still allowed, read again whenever it runs out: the heartbeat may have moved
   * it) is positive; past it the call is aborted (its signal), so a create given up on cannot land later and escape the next attempt's key
   * lookup.
   */
  private async bounded<T>(
    operation: string,
    left: () => number,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      onStop = (): void => {
        const error = new DeliveryStoppedError(operation);
        abort.abort(error);
        reject(error);
      };
      if (this.stopping.signal.aborted) onStop();
      else this.stopping.signal.addEventListener('abort', onStop, { once: true });
      const arm = (): void => {
        const ms = left();
        if (ms > 0) {
          timer = setTimeout(arm, ms);
          timer.unref();
          return;
        }
        const error = new DeliveryTimeoutError(operation, Math.round(performance.now() - started));
        abort.abort(error);
        reject(error);
      };
      timer = setTimeout(arm, Math.max(1, left()));
      timer.unref();
    });
    try {
      return await Promise.race([call(abort.signal), timeout]);
    } finally {
      clearTimeout(timer);
      if (onStop) this.stopping.signal.removeEventListener('abort', onStop);
    }
  }

  private async retry(entry: OutboxEntry, error: ClassifiedError, now: number): Promise<void> {
    const attempts = entry.attempts + 1;
    const { retryBaseMs, retryMaxMs } = this.config.incidents;
    const delay = retryDelayMs(attempts, retryBaseMs, retryMaxMs, this.random());
    const reason = this.reason(error.message);
    await this.store.markRetry(entry.id, this.workerId, reason, now + delay, now);
    this.metrics.increment(INCIDENT_METRICS.deliveryErrors.name, 1, ERROR_TAGS[error.reason]);
    const line = `outbox ${entry.id} (${entry.kind}) not delivered, attempt ${attempts}, next in ${delay} ms: ${reason}`;
    if (error.reason === 'unconfigured') {
      this.logger.debug(line);
      return;
    }
    const suppressed = this.retryLog.admit(error.reason);
    if (suppressed !== undefined) {
      this.logger.warn(`${line}; logged once a minute per reason${heldBack(suppressed)}`);
    }
  }

  private async fail(entry: OutboxEntry, error: ClassifiedError, now: number): Promise<void> {
    const reason = this.reason(error.message);
    // 404 on an update: the incident was deleted in Datadog. It is closed here too, so the next alert opens one.
    const incidentGone = entry.kind === 'update' && error.status === 404;
    await this.store.markFailed(entry.id, this.workerId, reason, now, incidentGone);
    this.metrics.increment(INCIDENT_METRICS.deliveryErrors.name, 1, ERROR_TAGS[error.reason]);
    this.logger.error(
      `outbox ${entry.id} (${entry.kind}) refused by Datadog, not retried: ${reason}` +
        (incidentGone ? '; its incident no longer exists in Datadog: closed here, the next alert opens a new one' : ''),
    );
  }

  /**
   * What keeps incidents from Datadog, as this process last saw it: its last delivery attempt failed and none has
   * succeeded since (undefined otherwise). Keys Datadog refuses (401/403) are named, as every delivery fails until
   * they are fixed; another failure says what it was. Delivery is retried either way.
   */
  deliveryProblem(): string | undefined {
    const failure = this.lastFailure;
    if (failure === undefined) return undefined;
    const at = new Date(failure.at).toISOString();
    const { reason, status } = failure.error;
    if (status === 401 || status === 403) {
      return (
        `Datadog refuses our keys (HTTP ${status}, ${at}): check DD_API_KEY, DD_APP_KEY (its incident scopes) and ` +
        `the site they belong to (DD_SITE, DATADOG_API_URL); no incident reaches Datadog until they are fixed`
      );
    }
    return `the last delivery failed (${reason}, ${at}): ${this.reason(failure.error.message)}; retried with backoff`;
  }

  /** A reason fit to store and show: redacted (keys, PII) and bounded. */
  private reason(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return truncate(this.redactor.redact(message.slice(0, 2000)), REASON_MAX_CHARS);
  }

  private notify(outboxId: string): void {
    const waiters = this.rowWaiters.get(outboxId);
    if (waiters) for (const done of [...waiters]) done();
  }

  private async report(now: number): Promise<void> {
    const stats = await this.store.stats(now);
    this.metrics.gauge(INCIDENT_METRICS.outboxPending.name, stats.pending + stats.delivering);
    this.metrics.gauge(INCIDENT_METRICS.outboxFailed.name, stats.failed);
    this.metrics.gauge(INCIDENT_METRICS.outboxOldestAge.name, stats.oldestPendingAgeMs ?? 0);
    this.metrics.gauge(INCIDENT_METRICS.open.name, stats.openIncidents);
    this.metrics.gauge(INCIDENT_METRICS.openOldestAge.name, stats.oldestOpenAgeMs ?? 0);
  }
}
