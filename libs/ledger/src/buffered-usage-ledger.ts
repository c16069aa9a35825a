import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  DAY_MS,
  headOf,
  heldBack,
  HOUR_MS,
  hourStart,
  monotonicNow,
  storableText,
  type StoreRefusal,
  storeRefusal,
  type TextRedactor,
  truncate,
  utcDayStart,
  WarningThrottle,
} from '@app/common';
import { formatTags, type MetricsPort } from '@app/telemetry';
import { LEDGER_METRICS, LEDGER_TAG } from './ledger.metrics';
import type { LedgerStore } from './store/ledger-store.port';
import { REPAIR_LOOKBACK_MS } from './store/rollup-repair';
import { type LedgerStatus, UsageLedger } from './usage-ledger';
import type { PrincipalSpend, PrincipalUsageQuery } from './principal-usage';
import { emptyHourly, type HourlyQuery, type HourlyUsage, type UsageRecord } from './usage-record';
import { type ImportableRows, withoutRecordedHours } from './import/recorded-hours';
import type { RepeatedPrompt, RepeatedPromptQuery, WindowQuery, WindowUsage } from './window-usage';

export interface BufferedLedgerOptions {
  flushMs: number;
  retentionDays: number;
  storePreview: boolean;
  /** Records kept while the store fails; beyond it the oldest are dropped (and counted). */
  maxBuffer?: number;
  /** Characters of the redacted preview kept. */
  previewChars?: number;
  /**
   * Records per store write (default 100). A flush writes its batch in writes of at most this many, letting the event
   * loop serve requests between them: SQLite writes synchronously, and a second's records at 650 calls/s in one
   * transaction held the loop for about 10 ms, a step in every in-flight call's latency.
   */
  writeChunk?: number;
  /** The wall clock (record timestamps, the UTC day of budgets); default Date.now. */
  now?: () => number;
}

/** Lets the event loop run what is waiting (I/O, timers) before the next store write. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A failing store is said once a minute (with the flushes failed since), not on every flush tick. */
export const LEDGER_FLUSH_WARNING_INTERVAL_MS = 60_000;

const MAX_LABEL = 100;
const label = (value: unknown, fallback: string): string =>
  typeof value === 'string' && value.length > 0 ? storableText(headOf(value, MAX_LABEL)) : fallback;
const optionalLabel = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? storableText(headOf(value, MAX_LABEL)) : null;
const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
const amount = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
const nullableAmount = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;

/** The prompt ids a stop's line lists at most (the rest are counted). */
const STOP_IDS_SHOWN = 20;

/** A record's time for a log line: ISO when a Date can hold it (a timestamp out of range may be why it was refused). */
const instant = (ts: number): string => (Math.abs(ts) <= 8.64e15 ? new Date(ts).toISOString() : `ts ${ts}`);

/**
 * The ledger over a LedgerStore: `record` appends to an in-memory buffer; a timer writes it every flushMs,
 * in writes of at most `writeChunk` records (records + rollups in one transaction each). A failing store never
 * reaches a request: what was not written stays buffered (up to maxBuffer) and is retried on the next tick.
 */
export class BufferedUsageLedger extends UsageLedger {
  private readonly logger = new Logger('UsageLedger');
  private buffer: UsageRecord[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dropped = 0;
  /** Records the store refused for good, dropped (since start), and its words for the last one. */
  private refused = 0;
  private lastRefusal: string | null = null;
  private written = 0;
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;
  private lastPurgeAt = 0;
  private readonly flushWarnings: WarningThrottle;
  /** Flushes failed in a row (0 when the last one wrote). */
  private failedFlushes = 0;
  /** Set by `stop`: a failed flush is then the last one, said by `stop` (nothing is kept for a retry). */
  private stopping = false;
  private readonly tags: string[];
  private readonly bufferFullTags: string[];
  private readonly now: () => number;
  private readonly maxBuffer: number;
  private readonly writeChunk: number;
  /** Store's figure for `spendDay`, as of the last refresh, and this instance's spend written since. */
  private spendDay = 0;
  private spendStored = 0;
  private spendSinceRefresh = 0;

  constructor(
    private readonly store: LedgerStore,
    private readonly metrics: MetricsPort,
    private readonly redactor: TextRedactor,
    private readonly options: BufferedLedgerOptions,
  ) {
    super();
    this.tags = formatTags({ store: store.kind });
    this.bufferFullTags = formatTags({ store: store.kind, [LEDGER_TAG.reason]: 'buffer_full' });
    this.now = options.now ?? Date.now;
    this.maxBuffer = options.maxBuffer ?? 50_000;
    this.writeChunk = Math.max(1, options.writeChunk ?? 100);
    // Throttled on the monotonic clock (a test's clock when it brings one): a wall clock stepped back would hold the
    // next warning for as long as it went back.
    this.flushWarnings = new WarningThrottle(LEDGER_FLUSH_WARNING_INTERVAL_MS, options.now ?? monotonicNow);
  }

  /** Opens the store, loads today's spend and starts the flush timer. */
  async start(): Promise<void> {
    await this.store.init();
    await this.purgeIfDue();
    await this.refreshSpend();
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    this.timer.unref();
  }

  /**
   * Stops the timer and writes what is buffered. What the store does not take then (it is down at the stop) is lost
   * with the process: said as such in one error line (how many, their spend, their time span and prompt ids) and
   * counted in `ledger.records.dropped` (`reason:stopped`). Before, the last flush's failure said "kept for retry",
   * or nothing when the outage had been warned of within the minute, and the records went with the process.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    await this.flush();
    if (this.buffer.length > 0) this.loseAtStop(this.buffer.splice(0));
  }

  private loseAtStop(lost: readonly UsageRecord[]): void {
    this.dropped += lost.length;
    this.metrics.increment(
      LEDGER_METRICS.recordsDropped.name,
      lost.length,
      formatTags({ store: this.store.kind, [LEDGER_TAG.reason]: 'stopped' }),
    );
    const spend = lost.reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
    const times = lost.map((r) => r.ts);
    const ids = lost.flatMap((r) => (r.promptId ? [r.promptId] : []));
    const shown = ids.slice(0, STOP_IDS_SHOWN).join(', ');
    const more = ids.length > STOP_IDS_SHOWN ? ` and ${ids.length - STOP_IDS_SHOWN} more` : '';
    const without = lost.length - ids.length;
    const withoutId = without > 0 ? ` (and ${without} without one)` : '';
    this.logger.error(
      `ledger stopped with ${lost.length} usage records its store did not take (${(this.lastError ?? 'unknown error').replace(/\.$/, '')}): ` +
        `they are lost, not written at the next start: $${Number(spend.toFixed(6))} of spend, calls from ` +
        `${instant(Math.min(...times))} to ${instant(Math.max(...times))}, ` +
        `prompt ids ${shown === '' ? 'none' : shown}${more}${withoutId}`,
    );
  }

  record(entry: UsageRecord): void {
    try {
      const record = this.normalise(entry);
      this.rollSpendDay(this.now());
      this.buffer.push(record);
      if (record.costUsd && utcDayStart(record.ts) === this.spendDay) this.spendSinceRefresh += record.costUsd;
      if (this.buffer.length > this.maxBuffer) {
        const excess = this.buffer.length - this.maxBuffer;
        this.buffer.splice(0, excess);
        this.dropped += excess;
        this.metrics.increment(LEDGER_METRICS.recordsDropped.name, excess, this.bufferFullTags);
      }
    } catch (error) {
      // Never into the request: count it as dropped.
      this.dropped += 1;
      this.logger.warn(`usage record dropped: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private normalise(e: UsageRecord): UsageRecord {
    const status = (['error', 'safety_block', 'aborted', 'rejected'] as const).includes(e.status as never)
      ? e.status
      : 'ok';
    const preview =
      this.options.storePreview && typeof e.preview === 'string' && e.preview.length > 0
        ? storableText(truncate(this.redactor.redact(e.preview), this.options.previewChars ?? 200))
        : null;
    return {
      ts: typeof e.ts === 'number' && Number.isFinite(e.ts) ? Math.round(e.ts) : this.now(),
      endpoint: label(e.endpoint, 'unknown'),
      provider: label(e.provider, 'unknown'),
      model: label(e.model, 'unknown'),
      status,
      errorType: typeof e.errorType === 'string' ? storableText(headOf(e.errorType, MAX_LABEL)) : null,
      latencyMs: amount(e.latencyMs),
      inputTokens: count(e.inputTokens),
      outputTokens: count(e.outputTokens),
      cachedTokens: count(e.cachedTokens),
      reasoningTokens: count(e.reasoningTokens),
      tokensEstimated: e.tokensEstimated === true,
      costUsd: nullableAmount(e.costUsd),
      qualityScore: nullableAmount(e.qualityScore),
      flags: Array.isArray(e.flags)
        ? e.flags.filter((f) => typeof f === 'string').map((f) => storableText(headOf(f, 50)))
        : [],
      retryCount: count(e.retryCount),
      fallbackUsed: e.fallbackUsed === true,
      routerDecision: typeof e.routerDecision === 'string' ? storableText(headOf(e.routerDecision, 200)) : null,
      promptHash: label(e.promptHash, ''),
      promptChars: count(e.promptChars),
      answerChars: count(e.answerChars),
      preview,
      promptId: optionalLabel(e.promptId),
      traceId: optionalLabel(e.traceId),
      key: randomUUID(),
      savedCostUsd: nullableAmount(e.savedCostUsd),
      principal: optionalLabel(e.principal),
    };
  }

  flush(): Promise<void> {
    // One flush at a time; a caller arriving during a flush waits for it and then flushes what is left.
    const run = async (): Promise<void> => {
      if (this.flushing) await this.flushing.catch(() => undefined);
      await this.writeBuffer();
    };
    const next = run();
    this.flushing = next;
    return next;
  }

  private async writeBuffer(): Promise<void> {
    if (this.buffer.length > 0) {
      const batch = this.buffer;
      this.buffer = [];
      const started = performance.now();
      let next = 0;
      let written = 0;
      /** Records of the chunk being written that a failure that may pass left unwritten. */
      let kept: readonly UsageRecord[] = [];
      try {
        while (next < batch.length) {
          if (next > 0) await yieldToLoop();
          const chunk = batch.length <= this.writeChunk ? batch : batch.slice(next, next + this.writeChunk);
          next += chunk.length;
          try {
            await this.store.append(chunk);
            written += chunk.length;
          } catch (error) {
            const refusal = storeRefusal(error);
            if (!refusal) {
              kept = chunk;
              throw error;
            }
            // Refused for good: not the store's state but a record's. Write the chunk around the bad record(s).
            const around = await this.writeAround(chunk, refusal);
            written += around.written;
            if (around.error !== undefined) {
              kept = around.unwritten;
              throw around.error;
            }
          }
        }
        this.lastFlushAt = this.now();
        this.lastError = null;
        if (this.failedFlushes > 0) {
          this.logger.log(`ledger flush recovered after ${this.failedFlushes} failed: ${written} records written`);
          this.failedFlushes = 0;
          this.flushWarnings.clear();
        }
        this.metrics.distribution(LEDGER_METRICS.flushDuration.name, performance.now() - started, this.tags);
      } catch (error) {
        // The writes that succeeded are in the store (and the records it refused for good are dropped); only the rest
        // is kept for the next tick, in order (no duplicates).
        this.buffer = kept.concat(batch.slice(next), this.buffer).slice(-this.maxBuffer);
        this.lastError = error instanceof Error ? error.message : String(error);
        this.metrics.increment(LEDGER_METRICS.flushErrors.name, 1, this.tags);
        this.failedFlushes += 1;
        const suppressed = this.stopping ? undefined : this.flushWarnings.admit();
        if (suppressed !== undefined) {
          const lost = this.dropped > 0 ? `; ${this.dropped} records dropped since start (buffer full)` : '';
          this.logger.warn(
            `ledger flush failed (${this.buffer.length} records kept for retry${lost}; next warning in a minute at ` +
              `the earliest): ${this.lastError}${heldBack(suppressed)}`,
          );
        }
        return;
      } finally {
        this.written += written;
        if (written > 0) this.metrics.increment(LEDGER_METRICS.recordsWritten.name, written, this.tags);
      }
      this.metrics.gauge(LEDGER_METRICS.bufferSize.name, this.buffer.length, this.tags);
    }
    try {
      await this.refreshSpend();
      await this.purgeIfDue();
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
    }
  }

  /**
   * Writes a chunk the store refused for good (`storeRefusal`: a value it cannot hold, a constraint) around the
   * record(s) at fault: halves of it are written in turn, a refused half halved again, down to single records; a
   * single record refused is dropped (counted, logged with its prompt id and the store's words, never its text). One
   * bad record among 100 costs about 14 writes, once. Before, the chunk stayed buffered and was refused at every tick:
   * nothing recorded after it was written again. A failure that may pass (an outage) stops it: `unwritten` (in order)
   * is what it had not written.
   */
  private async writeAround(
    chunk: readonly UsageRecord[],
    first: StoreRefusal,
  ): Promise<{ written: number; unwritten: readonly UsageRecord[]; error?: Error }> {
    let written = 0;
    const half = (part: readonly UsageRecord[]): (readonly UsageRecord[])[] => {
      const middle = Math.ceil(part.length / 2);
      return [part.slice(0, middle), part.slice(middle)];
    };
    const pending: (readonly UsageRecord[])[] = chunk.length > 1 ? half(chunk) : [];
    if (chunk.length === 1) this.refuse(chunk[0]!, first);
    while (pending.length > 0) {
      const part = pending.shift()!;
      await yieldToLoop();
      try {
        await this.store.append(part);
        written += part.length;
      } catch (error) {
        const refusal = storeRefusal(error);
        if (!refusal) {
          const failure = error instanceof Error ? error : new Error(String(error));
          return { written, unwritten: [part, ...pending].flat(), error: failure };
        }
        if (part.length === 1) this.refuse(part[0]!, refusal);
        else pending.unshift(...half(part));
      }
    }
    return { written, unwritten: [] };
  }

  /** Drops one record the store refused for good: counted (status, metric by reason) and logged without its text. */
  private refuse(record: UsageRecord, refusal: StoreRefusal): void {
    this.refused += 1;
    this.lastRefusal = refusal.reason;
    this.metrics.increment(
      LEDGER_METRICS.recordsDropped.name,
      1,
      formatTags({ store: this.store.kind, [LEDGER_TAG.reason]: refusal.kind }),
    );
    const id = record.promptId ?? (record.traceId ? `none (trace ${record.traceId})` : 'none');
    this.logger.error(
      `usage record dropped, refused by the store for good (prompt id ${id}, endpoint ${record.endpoint}, ` +
        `model ${record.model}, ${instant(record.ts)}): ${refusal.reason}`,
    );
  }

  private async refreshSpend(): Promise<void> {
    const now = this.now();
    const day = utcDayStart(now);
    const stored = await this.store.costBetween(day, day + DAY_MS);
    // After the read: what is still buffered now is certainly not in the store's figure.
    const pending = this.buffer.reduce((sum, r) => (utcDayStart(r.ts) === day ? sum + (r.costUsd ?? 0) : sum), 0);
    this.spendDay = day;
    this.spendStored = stored;
    this.spendSinceRefresh = pending;
  }

  private async purgeIfDue(): Promise<void> {
    const now = this.now();
    if (now - this.lastPurgeAt < HOUR_MS) return;
    this.lastPurgeAt = now;
    const result = await this.store.purgeBefore(now - this.options.retentionDays * DAY_MS);
    if (result.records + result.hours > 0) {
      this.logger.log(`retention: purged ${result.records} records and ${result.hours} hourly rows`);
    }
    await this.repairRollups(now);
  }

  /**
   * Rebuilds the 10-second and by-key rollups of the last day's complete hours where a replica of an earlier version
   * recorded calls without them (a rolling upgrade, a rollback): the health score, insights and the spend by key
   * count those calls again. Best effort: a failure is logged and tried again at the next hour's purge.
   */
  private async repairRollups(now: number): Promise<void> {
    const to = hourStart(now);
    try {
      const hours = await this.store.repairRollups(to - REPAIR_LOOKBACK_MS, to);
      if (hours > 0) {
        this.logger.warn(
          `rollups: rebuilt ${hours} hour(s) from their records: calls recorded without their 10-second or by-key ` +
            `rollups (a replica of an earlier version, during a rolling upgrade or a rollback)`,
        );
      }
    } catch (error) {
      this.logger.warn(
        `rollups: repair failed, tried again in an hour: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  spendToday(now = this.now()): number {
    this.rollSpendDay(now);
    return utcDayStart(now) === this.spendDay ? this.spendStored + this.spendSinceRefresh : 0;
  }

  /**
   * A new UTC day before the next refresh (which only follows a flush that wrote): today's spend starts from the
   * records of today still buffered, and the ones recorded after count as they come. Before, the day's figure stayed
   * the previous day's until a flush succeeded: while the store was failing across midnight, an enforced budget read
   * $0 all day, whatever the service spent.
   */
  private rollSpendDay(now: number): void {
    const day = utcDayStart(now);
    if (day <= this.spendDay) return;
    this.spendDay = day;
    this.spendStored = 0;
    this.spendSinceRefresh = this.buffer.reduce(
      (sum, r) => (utcDayStart(r.ts) === day ? sum + (r.costUsd ?? 0) : sum),
      0,
    );
  }

  hourly(query: HourlyQuery): Promise<HourlyUsage[]> {
    return this.store.hourly(query);
  }

  principalUsage(query: PrincipalUsageQuery): Promise<PrincipalSpend> {
    return this.store.principalUsage(query);
  }

  window(query: WindowQuery): Promise<WindowUsage[]> {
    return this.store.window(query);
  }

  repeatedPrompts(query: RepeatedPromptQuery): Promise<RepeatedPrompt[]> {
    return this.store.repeatedPrompts(query);
  }

  async hourlySeries(from: number, to: number): Promise<HourlyUsage[]> {
    const start = hourStart(from);
    const rows = await this.store.hourly({ from: start, to });
    const byHour = new Map(rows.map((r) => [r.hour, r]));
    const series: HourlyUsage[] = [];
    for (let hour = start; hour < to; hour += HOUR_MS) series.push(byHour.get(hour) ?? emptyHourly(hour));
    return series;
  }

  async spendBetween(from: number, to: number): Promise<number> {
    const pending = this.buffer.reduce((sum, r) => (r.ts >= from && r.ts < to ? sum + (r.costUsd ?? 0) : sum), 0);
    return (await this.store.costBetween(hourStart(from), to)) + pending;
  }

  async importHourly(rows: readonly HourlyUsage[]): Promise<ImportableRows> {
    const importable = await withoutRecordedHours(
      rows,
      async (from, to) =>
        (await this.store.countRecords(from, to)) + this.buffer.filter((r) => r.ts >= from && r.ts < to).length,
    );
    if (importable.rows.length > 0) await this.store.putHourly(importable.rows);
    return importable;
  }

  status(): LedgerStatus {
    return {
      store: this.store.kind,
      buffered: this.buffer.length,
      dropped: this.dropped,
      refused: this.refused,
      lastRefusal: this.lastRefusal,
      written: this.written,
      lastFlushAt: this.lastFlushAt,
      lastError: this.lastError,
    };
  }
}
