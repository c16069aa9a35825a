import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Pool } from 'pg';
import { TextRedactor, postgresPoolSettings, prepareDataDir, sqliteFileError } from '@app/common';
import { AppConfig } from '@app/config';
import { MetricsPort, ReadinessRegistry } from '@app/telemetry';
import { BudgetService } from './budget/budget.service';
import { MemoryReservationStore } from './budget/memory-reservation.store';
import { PostgresReservationStore } from './budget/postgres-reservation.store';
import { ReservationStore } from './budget/reservation-store.port';
import { BufferedUsageLedger } from './buffered-usage-ledger';
import { DatadogApiPort, DatadogModule } from '@app/datadog';
import { DatadogUsageMetricsSource } from './import/datadog-usage-metrics.source';
import { UsageImportService } from './import/usage-import.service';
import { UsageMetricsSource } from './import/usage-metrics-source.port';
import { OffResponseCacheStore, ResponseCacheStore } from './cache/response-cache-store.port';
import { PostgresResponseCacheStore } from './cache/postgres-response-cache.store';
import { SqliteResponseCacheStore } from './cache/sqlite-response-cache.store';
import { LedgerStore } from './store/ledger-store.port';
import { PostgresLedgerStore } from './store/postgres-ledger.store';
import { databaseBootError } from './store/database-boot-error';
import { SqliteLedgerStore } from './store/sqlite-ledger.store';
import { SpendController } from './spend/spend.controller';
import { SpendReportService } from './spend/spend-report.service';
import { UsageLedger } from './usage-ledger';

/** The embedded store's file under DATA_DIR. */
export const LEDGER_SQLITE_FILE = 'ledger.sqlite';

/** Where the embedded ledger lived before runtime state got its own folder (`./var`). */
const FORMER_DATA_DIR = './data';

/**
 * The ledger file a user of an earlier version still has under ./data when DATA_DIR is left at its new default
 * (./var) and ./var holds none: nothing is moved; the boot says how to keep using it. Undefined otherwise.
 */
export function formerLedgerNotice(
  dataDir: string,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  const current = join(dataDir, LEDGER_SQLITE_FILE);
  const former = join(FORMER_DATA_DIR, LEDGER_SQLITE_FILE);
  if (resolve(dataDir) === resolve(FORMER_DATA_DIR) || exists(current) || !exists(former)) return undefined;
  return (
    `A ledger from an earlier version is at ${former}, but runtime state now defaults to ${dataDir} (DATA_DIR), ` +
    `which holds none: a new, empty ledger is used. To keep the old one, stop the service and move it ` +
    `(mv ${former}* ${dataDir}/), or set DATA_DIR=${FORMER_DATA_DIR}. Nothing was moved.`
  );
}

export function createLedgerStore(config: AppConfig): LedgerStore {
  const url = config.ledger.databaseUrl;
  if (url) {
    // DATABASE_TIMEOUT_MS bounds each statement, and twice that the wait for a connection (new, or free in the pool: a
    // burst queues there): a database that stopped answering costs a request that much (then 503
    // DATABASE_UNAVAILABLE), not as long as it lasts.
    const timeout = config.ledger.databaseTimeoutMs;
    return new PostgresLedgerStore(
      new Pool(postgresPoolSettings(url.reveal(), { max: 5, statementTimeoutMs: timeout })),
    );
  }
  // Once, before any embedded store (the ledger's, the outbox's, the recommendations') opens its file under it.
  prepareDataDir(config.ledger.dataDir);
  const notice = formerLedgerNotice(config.ledger.dataDir);
  if (notice) new Logger('LedgerModule').warn(notice);
  return new SqliteLedgerStore(join(config.ledger.dataDir, LEDGER_SQLITE_FILE));
}

/** The embedded response cache's file under DATA_DIR (apart from the ledger's). */
export const RESPONSE_CACHE_SQLITE_FILE = 'response-cache.sqlite';

/**
 * The response cache's store (docs/cache.md): none with CACHE_MODE=off; a `response_cache` table on DATABASE_URL
 * (a pool of its own, 3 connections, each query bounded so a slow database costs a miss, not a slow call), else
 * `response-cache.sqlite` under DATA_DIR. Schemas are created on first use.
 */
export function createResponseCacheStore(config: AppConfig): ResponseCacheStore {
  if (config.cache.mode === 'off') return new OffResponseCacheStore();
  const url = config.ledger.databaseUrl;
  if (url) {
    return new PostgresResponseCacheStore(
      new Pool(postgresPoolSettings(url.reveal(), { max: 3, statementTimeoutMs: 2000, connectionWaitMs: 2000 })),
    );
  }
  return new SqliteResponseCacheStore(join(config.ledger.dataDir, RESPONSE_CACHE_SQLITE_FILE));
}

/**
 * CACHE_MODE=off on the embedded store: the answers an earlier CACHE_MODE=exact run left in `response-cache.sqlite`
 * are deleted (overwritten in the file: secure_delete). Before, nothing read them and no sweep ran with the cache off,
 * so they stayed in clear past their TTL, for ever. Returns how many; 0 without such a file (none is created).
 */
export async function emptyLeftoverResponseCache(config: AppConfig): Promise<number> {
  if (config.cache.mode !== 'off' || config.ledger.databaseUrl) return 0;
  const file = join(config.ledger.dataDir, RESPONSE_CACHE_SQLITE_FILE);
  if (!existsSync(file)) return 0;
  const store = new SqliteResponseCacheStore(file);
  try {
    return await store.purgeExpired(Number.MAX_SAFE_INTEGER);
  } finally {
    await store.close();
  }
}

/** Margin on a reservation's time to live past the call deadline and a ledger flush. */
const RESERVATION_MARGIN_MS = 1000;

/**
 * How long a reservation counts at most: the call deadline (no attempt starts past it and each attempt's timeout
 * is cut to it), plus one ledger flush interval (a settled reservation counts until the call's record is
 * flushed), plus a margin.
 */
export function reservationTtlMs(config: AppConfig): number {
  return config.llm.deadlineMs + config.ledger.flushMs + RESERVATION_MARGIN_MS;
}

/**
 * How long a call's budget admission may wait for PostgreSQL (a connection, then the answer) before the call is
 * decided on this process's figures. Without a query timeout, a database that stopped answering on an open
 * connection (frozen, a network partition) held every LLM call that drew that connection for as long as it lasted.
 */
export const RESERVATION_DB_TIMEOUT_MS = 2000;

/**
 * Budget reservations: shared in PostgreSQL with DATABASE_URL (a pool of their own, 5 connections, each admission
 * bounded by RESERVATION_DB_TIMEOUT_MS), else per process in memory. Without a budget the store is never used.
 */
export function createReservationStore(config: AppConfig, ledger: UsageLedger): ReservationStore {
  const url = config.ledger.databaseUrl;
  if (!url || config.budget.dailyUsd === undefined) return new MemoryReservationStore();
  const pool = new Pool(
    postgresPoolSettings(url.reveal(), {
      max: 5,
      statementTimeoutMs: RESERVATION_DB_TIMEOUT_MS,
      connectionWaitMs: RESERVATION_DB_TIMEOUT_MS,
    }),
  );
  return new PostgresReservationStore(pool, ledger, config.ledger.flushMs);
}

/**
 * Usage ledger, budgets and usage import. The LLM pipeline records into `UsageLedger` and asks `BudgetService`
 * before each call; the forecast reads the ledger. Modules that inject these import `LedgerModule`. Its one route,
 * `GET /usage/spend`, reports the spend per API key.
 */
@Module({
  imports: [DatadogModule],
  controllers: [SpendController],
  providers: [
    { provide: LedgerStore, inject: [AppConfig], useFactory: createLedgerStore },
    {
      provide: BufferedUsageLedger,
      inject: [LedgerStore, MetricsPort, TextRedactor, AppConfig],
      useFactory: (store: LedgerStore, metrics: MetricsPort, redactor: TextRedactor, config: AppConfig) =>
        new BufferedUsageLedger(store, metrics, redactor, {
          flushMs: config.ledger.flushMs,
          retentionDays: config.ledger.retentionDays,
          storePreview: config.ledger.storePreview,
        }),
    },
    { provide: UsageLedger, useExisting: BufferedUsageLedger },
    { provide: ReservationStore, inject: [AppConfig, UsageLedger], useFactory: createReservationStore },
    {
      provide: SpendReportService,
      inject: [UsageLedger],
      useFactory: (ledger: UsageLedger) => new SpendReportService(ledger),
    },
    { provide: ResponseCacheStore, inject: [AppConfig], useFactory: createResponseCacheStore },
    {
      provide: BudgetService,
      inject: [UsageLedger, MetricsPort, AppConfig, ReservationStore],
      useFactory: (ledger: UsageLedger, metrics: MetricsPort, config: AppConfig, reservations: ReservationStore) =>
        new BudgetService(
          ledger,
          metrics,
          {
            dailyUsd: config.budget.dailyUsd,
            policy: config.budget.policy,
            reservationTtlMs: reservationTtlMs(config),
          },
          reservations,
        ),
    },
    {
      provide: UsageMetricsSource,
      inject: [DatadogApiPort, AppConfig],
      useFactory: (datadog: DatadogApiPort, config: AppConfig): UsageMetricsSource =>
        new DatadogUsageMetricsSource(datadog, config),
    },
    {
      provide: UsageImportService,
      inject: [UsageLedger, UsageMetricsSource],
      useFactory: (ledger: UsageLedger, source: UsageMetricsSource) => new UsageImportService(ledger, source),
    },
  ],
  exports: [
    UsageLedger,
    BudgetService,
    ReservationStore,
    LedgerStore,
    UsageImportService,
    UsageMetricsSource,
    ResponseCacheStore,
  ],
})
export class LedgerModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(BufferedUsageLedger) private readonly ledger: BufferedUsageLedger,
    private readonly store: LedgerStore,
    private readonly budget: BudgetService,
    private readonly readiness: ReadinessRegistry,
    private readonly responseCache: ResponseCacheStore,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      await this.ledger.start();
      await this.budget.init();
    } catch (error) {
      // The first connection of the start (the ledger's schema): a database that cannot be reached is the URL's.
      const url = this.config.ledger.databaseUrl;
      if (url) throw databaseBootError(url, error) ?? error;
      // The embedded ledger's first reads (today's spend, the retention purge) meet a damaged file: name it.
      throw this.store instanceof SqliteLedgerStore ? sqliteFileError(this.store.file, error) : error;
    }
    await this.emptyLeftoverResponseCache();
    this.readiness.register('ledger', async () => {
      const status = this.ledger.status();
      try {
        await this.store.ping();
      } catch (error) {
        return {
          status: 'degraded',
          detail: `${status.store}: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      if (status.lastError) {
        return {
          status: 'degraded',
          detail: `${status.store}: ${status.buffered} buffered, last error: ${status.lastError}`,
        };
      }
      // A refused record is dropped and the ledger goes on: not degraded, but said until the process restarts.
      const refused =
        status.refused > 0 ? `, ${status.refused} refused by the store and dropped (last: ${status.lastRefusal})` : '';
      return {
        status: 'ok',
        detail: `${status.store}: ${status.written} written, ${status.buffered} buffered${refused}`,
      };
    });
  }

  /** CACHE_MODE=off: the answers an earlier run cached are deleted; a failure is a warning, never a failed boot. */
  private async emptyLeftoverResponseCache(): Promise<void> {
    const logger = new Logger('LedgerModule');
    try {
      const deleted = await emptyLeftoverResponseCache(this.config);
      if (deleted > 0) {
        logger.log(
          `CACHE_MODE=off: deleted ${deleted} cached answer(s) left in ${RESPONSE_CACHE_SQLITE_FILE} by an earlier CACHE_MODE=exact`,
        );
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(`CACHE_MODE=off: the answers left in ${RESPONSE_CACHE_SQLITE_FILE} could not be deleted: ${message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.budget.stop();
    await this.ledger.stop().catch(() => undefined);
    await this.budget.close().catch(() => undefined);
    await this.store.close();
    await this.responseCache.close().catch(() => undefined);
  }
}
