import type { SchemaVersion } from '@app/common';

/**
 * The ledger's schema marks in `ledger_meta` (`schema_version`, `schema_usable_from`: libs/common schema-version.ts),
 * written by every start since 2026-12-07; a ledger without them is of an earlier version, which this build upgrades.
 * Raise `version` with any change to the ledger's tables, and `usableFrom` to it with a change earlier builds would
 * get wrong.
 */
export const LEDGER_SCHEMA: SchemaVersion = { name: 'ledger', version: 1, usableFrom: 1 };
