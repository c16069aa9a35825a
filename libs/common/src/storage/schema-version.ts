import type { DatabaseSync } from 'node:sqlite';
import { BootError } from '@app/config';

/**
 * A store's schema marks, kept in its meta table (`key TEXT PRIMARY KEY, value BIGINT NOT NULL`): `schema_version`,
 * the schema the build that last started on it writes, and `schema_usable_from`, the oldest schema whose builds can
 * still use it. Neither is ever lowered. A build raises `usableFrom` to its `version` only with a change earlier builds
 * would get wrong (a NOT NULL column without a default: their inserts fail; a column renamed or dropped; a changed
 * meaning), not with one they ignore (a nullable column, a new table or index): a rollback past that still works.
 */
export interface SchemaVersion {
  /** What the store calls itself in the refusal: `ledger`, `incident outbox`. */
  name: string;
  version: number;
  usableFrom: number;
}

export const SCHEMA_VERSION_KEY = 'schema_version';
export const SCHEMA_USABLE_FROM_KEY = 'schema_usable_from';

/** The marks a store holds (undefined: none, a store of an earlier version or a new one). */
export interface StoredSchemaVersion {
  version: number | undefined;
  usableFrom: number | undefined;
}

/** Reads the two marks from meta table rows (`key`, `value`). */
export function storedSchemaVersion(rows: readonly Record<string, unknown>[]): StoredSchemaVersion {
  const valueOf = (key: string): number | undefined => {
    const row = rows.find((r) => r.key === key);
    return row === undefined ? undefined : Number(row.value);
  };
  return { version: valueOf(SCHEMA_VERSION_KEY), usableFrom: valueOf(SCHEMA_USABLE_FROM_KEY) };
}

/**
 * The refusal to start on a store a newer build wrote and this one cannot use (its `schema_usable_from` is past this
 * build's version): run on, this build's writes would fail for good (every call dropped unrecorded, every webhook a
 * 500) or be read wrong. `variable` is the setting that points at it, `where` names it. Undefined when this build can
 * use it.
 */
export function newerSchemaError(
  known: SchemaVersion,
  stored: StoredSchemaVersion,
  variable: string,
  where: string,
): BootError | undefined {
  const usableFrom = stored.usableFrom ?? 0;
  if (usableFrom <= known.version) return undefined;
  const version = Math.max(stored.version ?? 0, usableFrom);
  return new BootError(
    variable,
    `${where} was written by a newer version of the service (${known.name} schema ${version}, usable by builds of ` +
      `schema ${usableFrom} or later); this build knows schema ${known.version}, and would fail or misread its ` +
      `writes. Nothing was changed: run that version or a later one, or restore the backup taken before the upgrade`,
  );
}

/** The marks to write once this build has upgraded the store: never lower than what a newer build wrote. */
export function schemaMarks(known: SchemaVersion, stored: StoredSchemaVersion): [key: string, value: number][] {
  return [
    [SCHEMA_VERSION_KEY, Math.max(stored.version ?? 0, known.version)],
    [SCHEMA_USABLE_FROM_KEY, Math.max(stored.usableFrom ?? 0, known.usableFrom)],
  ];
}

/** Writes a mark into `table`, keeping the larger value (SQLite spells the larger of two `MAX`, PostgreSQL `GREATEST`). */
export function schemaMarkUpsert(table: string, dialect: 'sqlite' | 'postgres'): string {
  const p = dialect === 'sqlite' ? ['?', '?'] : ['$1', '$2'];
  const larger = dialect === 'sqlite' ? 'MAX' : 'GREATEST';
  return (
    `INSERT INTO ${table} (key, value) VALUES (${p[0]}, ${p[1]}) ` +
    `ON CONFLICT (key) DO UPDATE SET value = ${larger}(${table}.value, excluded.value)`
  );
}

/** A meta table holding schema marks (and any other mark of the store: the ledger's rollup starts). */
export const metaTableDdl = (table: string): string =>
  `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value BIGINT NOT NULL)`;

/** The marks in `table` of a SQLite file (none before the table exists). */
export function sqliteSchemaVersion(db: DatabaseSync, table: string): StoredSchemaVersion {
  const present = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
  return storedSchemaVersion(present === undefined ? [] : db.prepare(`SELECT key, value FROM ${table}`).all());
}

/** One statement through a PostgreSQL client or pool (the store's own `query`). */
export type SchemaQuery = (text: string, values?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

/** The marks in `table` of a PostgreSQL database (none before the table exists). */
export async function postgresSchemaVersion(query: SchemaQuery, table: string): Promise<StoredSchemaVersion> {
  const { rows } = await query('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  return storedSchemaVersion(rows[0]?.present === true ? (await query(`SELECT key, value FROM ${table}`)).rows : []);
}

/**
 * A store's start on SQLite: refuses a file a newer build wrote that this one cannot use (nothing changed), else runs
 * `statements` (the idempotent schema) and writes the marks. For a store with no upgrade step between the two.
 */
export function applySqliteSchema(
  db: DatabaseSync,
  known: SchemaVersion,
  metaTable: string,
  where: string,
  statements: readonly string[],
): void {
  const stored = sqliteSchemaVersion(db, metaTable);
  const newer = newerSchemaError(known, stored, 'DATA_DIR', where);
  if (newer) throw newer;
  for (const statement of statements) db.exec(statement);
  const mark = db.prepare(schemaMarkUpsert(metaTable, 'sqlite'));
  for (const [key, value] of schemaMarks(known, stored)) mark.run(key, value);
}

/** The same on PostgreSQL, through one client (the caller holds the schema's advisory lock). */
export async function applyPostgresSchema(
  query: SchemaQuery,
  known: SchemaVersion,
  metaTable: string,
  where: string,
  statements: readonly string[],
): Promise<void> {
  const stored = await postgresSchemaVersion(query, metaTable);
  const newer = newerSchemaError(known, stored, 'DATABASE_URL', where);
  if (newer) throw newer;
  for (const statement of statements) await query(statement);
  for (const mark of schemaMarks(known, stored)) await query(schemaMarkUpsert(metaTable, 'postgres'), mark);
}
