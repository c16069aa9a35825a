import type { SchemaVersion } from '@app/common';

/**
 * The ledger's schema marks in `ledger_meta` (`schema_version`, `schema_usable_from`: libs/common schema-version.ts),
 * written by every start since 2026-12-07; a ledger without them is of an earlier version, which this build upgrades.
 * Raise `version` with any change to the ledger's tables, and `usableFrom` to it with a change earlier builds would
 * get wrong.
 *
 * 1: the tables as of 2026-12-07 morning. 2 (additive, usable from 1): `usage_hourly.timed_latency_ms_sum` and
 * `latency_count` (builds of schema 1 go on adding to `latency_ms_sum` alone), `usage_records.record_key` on
 * PostgreSQL (nullable: their rows have none). 3 (additive, usable from 1): `usage_hourly.errors_unknown` (the imported
 * requests without an error count; builds of schema 1 and 2 write none, their calls' errors are known).
 */
export const LEDGER_SCHEMA: SchemaVersion = { name: 'ledger', version: 3, usableFrom: 1 };
