import { BootError } from '@app/config';

/**
 * The ledger's schema version, kept in `ledger_meta` (`schema_version`) by every start since 2026-12-07 (a ledger
 * without it is of an earlier version, which this build upgrades). Raise it with any change to the ledger's tables.
 */
export const LEDGER_SCHEMA_VERSION = 1;

/**
 * The oldest schema version whose builds can still use a ledger this build has written (`schema_usable_from`). Raise it
 * to LEDGER_SCHEMA_VERSION only with a change that earlier builds would get wrong: a NOT NULL column without a default
 * (their inserts fail: every record refused and dropped), a column renamed or dropped, a changed meaning. A nullable
 * column, a new table or index is ignored by them, and leaves it where it is (they can still run: a rollback works).
 */
export const LEDGER_SCHEMA_USABLE_FROM = 1;

export const SCHEMA_VERSION_KEY = 'schema_version';
export const SCHEMA_USABLE_FROM_KEY = 'schema_usable_from';

/** The marks a ledger holds (undefined: none, a ledger of an earlier version or a new one). */
export interface StoredSchemaVersion {
  version: number | undefined;
  usableFrom: number | undefined;
}

/** Reads the two marks from `ledger_meta` rows (`key`, `value`). */
export function storedSchemaVersion(rows: readonly Record<string, unknown>[]): StoredSchemaVersion {
  const valueOf = (key: string): number | undefined => {
    const row = rows.find((r) => r.key === key);
    return row === undefined ? undefined : Number(row.value);
  };
  return { version: valueOf(SCHEMA_VERSION_KEY), usableFrom: valueOf(SCHEMA_USABLE_FROM_KEY) };
}

/**
 * The refusal to start on a ledger a newer build wrote and this one cannot use (its `schema_usable_from` is past this
 * build's version): run on, this build's inserts would fail for good and every call would be dropped unrecorded, or
 * be recorded wrong. `variable` is the setting that points at it, `where` names it. Undefined when this build can
 * use it.
 */
export function newerSchemaError(stored: StoredSchemaVersion, variable: string, where: string): BootError | undefined {
  const usableFrom = stored.usableFrom ?? 0;
  if (usableFrom <= LEDGER_SCHEMA_VERSION) return undefined;
  const version = Math.max(stored.version ?? 0, usableFrom);
  return new BootError(
    variable,
    `${where} was written by a newer version of the service (ledger schema ${version}, usable by builds of schema ` +
      `${usableFrom} or later); this build knows schema ${LEDGER_SCHEMA_VERSION}, and would drop or misread its ` +
      `records. Nothing was changed: run that version or a later one, or restore the backup taken before the upgrade`,
  );
}

/** The marks to write once this build has upgraded the ledger: never lower than what a newer build wrote. */
export function schemaMarks(stored: StoredSchemaVersion): [key: string, value: number][] {
  return [
    [SCHEMA_VERSION_KEY, Math.max(stored.version ?? 0, LEDGER_SCHEMA_VERSION)],
    [SCHEMA_USABLE_FROM_KEY, Math.max(stored.usableFrom ?? 0, LEDGER_SCHEMA_USABLE_FROM)],
  ];
}
