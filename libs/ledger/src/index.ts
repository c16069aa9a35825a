// The ledger lib's public surface: its module, the services and ports other libs inject, the usage types,
// and what the command-line tools use (the store factory, the usage file parser, the Datadog usage source).
export { LedgerModule, createLedgerStore, createResponseCacheStore } from './ledger.module';
export { UsageLedger, type LedgerStatus } from './usage-ledger';
export * from './usage-record';
export {
  emptyPrincipalUsage,
  NO_PRINCIPAL,
  PRINCIPAL_DIMENSIONS,
  PRINCIPAL_MEASURES,
  rollUpByPrincipal,
  type PrincipalDimension,
  type PrincipalHourlyRow,
  type PrincipalMeasure,
  type PrincipalSpend,
  type PrincipalUsage,
  type PrincipalUsageQuery,
} from './principal-usage';
export { SpendReportService } from './spend/spend-report.service';
export {
  MAX_SPEND_HOURS,
  SPEND_GROUPINGS,
  SpendGroupDto,
  SpendMeasuresDto,
  SpendQueryDto,
  SpendReportDto,
  type SpendGrouping,
} from './spend/spend.dto';
export {
  addWindow,
  emptyWindow,
  LATENCY_LADDER_MS,
  type RepeatedPrompt,
  type RepeatedPromptQuery,
  WINDOW_MEASURES,
  type WindowMeasure,
  type WindowQuery,
  type WindowUsage,
} from './window-usage';
export * from './budget/budget.service';
export { ReservationStore, admits, type Admission, type ReservationRequest } from './budget/reservation-store.port';
export { MemoryReservationStore } from './budget/memory-reservation.store';
export { PostgresReservationStore } from './budget/postgres-reservation.store';
export { LEDGER_ERRORS } from './ledger.errors';
export {
  LedgerStore,
  type LedgerStoreKind,
  type LedgerStoreOptions,
  type PurgeResult,
} from './store/ledger-store.port';
export { LEDGER_SCHEMA } from './store/schema-version';
export { UsageMetricsSource, type UsageMetricsOptions } from './import/usage-metrics-source.port';
export { DatadogUsageMetricsSource } from './import/datadog-usage-metrics.source';
export { UsageImportService, type ImportSummary } from './import/usage-import.service';
export { parseUsageFile, formatFromPath, UsageImportError } from './import/usage-file.parser';
export { withoutRecordedHours, type ImportableRows } from './import/recorded-hours';
export {
  OffResponseCacheStore,
  RESPONSE_CACHE_MAX_PAYLOAD_CHARS,
  ResponseCacheStore,
  type ResponseCacheEntry,
  type ResponseCacheHit,
  type ResponseCacheStoreKind,
} from './cache/response-cache-store.port';
export { databaseTarget } from './store/database-boot-error';
