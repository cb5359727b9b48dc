/**
 * Capture on SQLite (ARCHITECTURE.md, "Capture"): AFTER INSERT / UPDATE / DELETE row triggers on each
 * captured table, generated from its columns, that do in the writer's own transaction what the engine's
 * write does — upsert `lastword_meta` (the image as the engine encodes it, stamps from the database clock
 * by core's `nextDatabaseStamp`, column stamps on field-merge tables), append `lastword_changes` with the
 * live image before, and take the next rev from the version row. SQLite has one writer per file, so a rev
 * taken inside the transaction is in commit order (trap 1).
 *
 * The engine's own writes are skipped: its write transaction inserts a row naming the table into
 * `lastword_capture_off` before it writes the app's rows and deletes it before commit. No other
 * connection can see an uncommitted row, and SQLite triggers cannot read a connection's temp tables or
 * functions registered by another process, so the mark lives in a table of the database itself.
 */
import { DATABASE_NODE } from '@lastword/core'
import { getTableName, sql } from 'drizzle-orm'
import type { SyncedColumn, SyncedTable } from '../tables.js'
import { all, run, type Tx } from '../tx.js'

/** The prefix of every trigger lastword installs (a trigger named so on a table no longer captured is dropped). */
const PREFIX = 'lastword_capture_'

/** A SQL identifier, quoted (names come from the app's schema, never from the wire). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** A SQL string literal. */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/**
 * An instant (SQLite holds it in whole ms) as ms since the Unix epoch. One `julianday` call, rounded
 * back to its ms: the same value as whole seconds from `strftime('%s')` plus the ms of `strftime('%f')`,
 * at a fraction of the cost of two formatted strings (a captured row reads the clock up to five times).
 */
export function msSql(instant: string): string {
  return `CAST(round((julianday(${instant}) - 2440587.5) * 86400000.0) AS INTEGER)`
}
/** The database clock in ms (`'now'` is one instant for the whole statement). */
const NOW_MS = msSql(`'now'`)

/** The value of `digits` hex digits (lowercase) of the text `text`. */
function hexValue(text: string, digits: number): string {
  const terms: string[] = []
  for (let i = 1; i <= digits; i++) terms.push(`(instr('0123456789abcdef', substr(${text}, ${i}, 1)) - 1) * ${16 ** (digits - i)}`)
  return `(${terms.join(' + ')})`
}

/**
 * Core's `nextDatabaseStamp(previous, now)` in SQL: the database clock when it is ahead of the previous
 * version's time, else its counter bumped (an overflow moves to the next ms). `previous` may be NULL.
 */
export function stampSql(previous: string): string {
  const node = literal(`-${DATABASE_NODE}`)
  return `(CASE WHEN ${previous} IS NULL OR printf('%012x', ${NOW_MS}) > substr(${previous}, 1, 12) THEN printf('%012x-0000', ${NOW_MS}) || ${node}
    WHEN substr(${previous}, 14, 4) <> 'ffff' THEN substr(${previous}, 1, 13) || printf('%04x', ${hexValue(`substr(${previous}, 14, 4)`, 4)} + 1) || ${node}
    ELSE printf('%012x-0000', ${hexValue(`substr(${previous}, 1, 12)`, 12)} + 1) || ${node} END)`
}

/** One column of `row` (NEW or OLD) as core's normalised value, for `json_object`. */
function valueSql(row: string, column: SyncedColumn): string {
  const ref = `${row}.${quoteIdent(column.sqlName)}`
  switch (column.descriptor.type) {
    case 'boolean':
      return `json(CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} THEN 'true' ELSE 'false' END)`
    case 'json':
      return `json(${ref})`
    case 'timestamp':
      // Stored as seconds (`mode: 'timestamp'`) or ms (`'timestamp_ms'`); core's form is ISO with ms and Z.
      return column.codec.stepMs === 1000
        ? `strftime('%Y-%m-%dT%H:%M:%S.000Z', ${ref}, 'unixepoch')`
        : `(strftime('%Y-%m-%dT%H:%M:%S', ${ref} / 1000, 'unixepoch') || printf('.%03dZ', ${ref} % 1000))`
    default:
      return ref
  }
}

/** The row's image as JSON, keyed by the descriptor's names in its order: the JSON value the engine stores. */
export function imageSql(table: SyncedTable, row: string): string {
  if (table.columns.length === 0) return `json_object()`
  return `json_object(${table.columns.map((c) => `${literal(c.descriptor.name)}, ${valueSql(row, c)}`).join(', ')})`
}

/** Every column at `stamp`, as JSON (a field-merge record created or brought back whole). */
function allFieldsSql(table: SyncedTable, stamp: string): string {
  return `json_object(${table.columns.map((c) => `${literal(c.descriptor.name)}, ${stamp}`).join(', ')})`
}

/** Each column's JSON path in an image or in column stamps. */
function path(column: SyncedColumn): string {
  return literal(`$."${column.descriptor.name}"`)
}

/**
 * The column stamps after an update of a live field-merge record: the stored ones (none stored: every
 * column at `updated_at`, core's `defaultFieldStamps`), with the columns whose value differs from the
 * stored image at `stamp`. `json_set` takes every column; an unchanged one is set at a scratch path that
 * is removed again, so a column the stored stamps do not name stays unnamed (read as `created_at`).
 */
function changedFieldsSql(table: SyncedTable, stamp: string): string {
  const base = `coalesce(lastword_meta.fields, ${allFieldsSql(table, 'lastword_meta.updated_at')})`
  const pairs = table.columns.map(
    (c) => `CASE WHEN json_extract(excluded.image, ${path(c)}) IS NOT json_extract(lastword_meta.image, ${path(c)}) THEN ${path(c)} ELSE '$.lw_unchanged' END, ${stamp}`,
  )
  return `json_remove(json_set(${base}, ${pairs.join(', ')}), '$.lw_unchanged')`
}

const NEXT_REV = `(SELECT rev FROM lastword_state WHERE id = 1) + 1`

/** The statements of a live write of `NEW`: a create, an update, or a re-create of a tombstone. */
function liveStatements(table: SyncedTable, tbl: string): string[] {
  const field = table.descriptor.merge === 'field'
  const uid = `NEW.${quoteIdent(table.uidSqlName)}`
  const fresh = stampSql('NULL')
  const next = stampSql('coalesce(lastword_meta.deleted_at, lastword_meta.updated_at)')
  // A row table's re-create takes the new stamp as its creation (R5); a field-merge record keeps its least (section 3a).
  const created = field ? 'lastword_meta.created_at' : `CASE WHEN lastword_meta.deleted_at IS NULL THEN lastword_meta.created_at ELSE ${next} END`
  const fields = field ? `CASE WHEN lastword_meta.deleted_at IS NULL THEN ${changedFieldsSql(table, next)} ELSE ${allFieldsSql(table, next)} END` : 'NULL'
  return [
    `INSERT INTO lastword_changes (rev, tbl, uid, before, at) VALUES (${NEXT_REV}, ${tbl}, ${uid},
      (SELECT image FROM lastword_meta WHERE tbl = ${tbl} AND uid = ${uid} AND deleted_at IS NULL), ${NOW_MS})`,
    `INSERT INTO lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image, fields)
      VALUES (${tbl}, ${uid}, ${fresh}, ${fresh}, NULL, ${NEXT_REV}, ${imageSql(table, 'NEW')}, ${field ? allFieldsSql(table, fresh) : 'NULL'})
      ON CONFLICT (tbl, uid) DO UPDATE SET created_at = ${created}, updated_at = ${next}, deleted_at = NULL, rev = excluded.rev,
        image = excluded.image, fields = ${fields}`,
    `UPDATE lastword_state SET rev = rev + 1 WHERE id = 1`,
  ]
}

/** The statements of a delete of `OLD` (the trigger fires only for a record lastword holds live). */
function deleteStatements(table: SyncedTable, tbl: string): string[] {
  const uid = `OLD.${quoteIdent(table.uidSqlName)}`
  const where = `tbl = ${tbl} AND uid = ${uid} AND deleted_at IS NULL`
  return [
    `INSERT INTO lastword_changes (rev, tbl, uid, before, at) SELECT ${NEXT_REV}, ${tbl}, ${uid}, image, ${NOW_MS} FROM lastword_meta WHERE ${where}`,
    // The tombstone keeps the last image, so scopes still apply to the deletion (trap 2).
    `UPDATE lastword_meta SET deleted_at = ${stampSql('updated_at')}, rev = ${NEXT_REV}, image = coalesce(image, ${imageSql(table, 'OLD')}) WHERE ${where}`,
    `UPDATE lastword_state SET rev = rev + 1 WHERE id = 1`,
  ]
}

/** The trigger names of one captured table. */
function triggerNames(table: SyncedTable): { insert: string; update: string; rekeyOld: string; rekeyNew: string; remove: string } {
  const base = `${PREFIX}${table.name}`
  return { insert: `${base}_ins`, update: `${base}_upd`, rekeyOld: `${base}_rekey_old`, rekeyNew: `${base}_rekey_new`, remove: `${base}_del` }
}

/** The DDL of one captured table's triggers (dropped and created again: they follow its columns). */
export function captureTriggers(table: SyncedTable): string[] {
  const tbl = literal(table.name)
  const target = quoteIdent(getTableName(table.table))
  const names = triggerNames(table)
  const uid = quoteIdent(table.uidSqlName)
  const on = `NOT EXISTS (SELECT 1 FROM lastword_capture_off WHERE tbl = ${tbl})`
  const known = (row: string) => `EXISTS (SELECT 1 FROM lastword_meta WHERE tbl = ${tbl} AND uid = ${row}.${uid} AND deleted_at IS NULL)`
  // An update that changes no synced column changes nothing a client holds.
  const changed = table.columns.length === 0 ? '0' : table.columns.map((c) => `NEW.${quoteIdent(c.sqlName)} IS NOT OLD.${quoteIdent(c.sqlName)}`).join(' OR ')
  const trigger = (name: string, event: string, when: string, body: string[]): string =>
    `CREATE TRIGGER ${quoteIdent(name)} AFTER ${event} ON ${target} FOR EACH ROW WHEN ${when} BEGIN ${body.map((s) => `${s};`).join(' ')} END`
  return [
    ...Object.values(names).map((name) => `DROP TRIGGER IF EXISTS ${quoteIdent(name)}`),
    trigger(names.insert, 'INSERT', on, liveStatements(table, tbl)),
    trigger(names.update, 'UPDATE', `${on} AND NEW.${uid} IS OLD.${uid} AND (${changed})`, liveStatements(table, tbl)),
    // A changed uid: the old record is deleted, the new one written.
    trigger(names.rekeyOld, 'UPDATE', `${on} AND NEW.${uid} IS NOT OLD.${uid} AND ${known('OLD')}`, deleteStatements(table, tbl)),
    trigger(names.rekeyNew, 'UPDATE', `${on} AND NEW.${uid} IS NOT OLD.${uid}`, liveStatements(table, tbl)),
    trigger(names.remove, 'DELETE', `${on} AND ${known('OLD')}`, deleteStatements(table, tbl)),
  ]
}

/** Drops lastword's triggers from every table but those of `keep`. */
export function* dropCapture(keep: readonly SyncedTable[]): Tx<void> {
  const kept = new Set(keep.flatMap((t) => Object.values(triggerNames(t))))
  const installed = yield* all(sql`SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, ${PREFIX.length}) = ${PREFIX}`)
  for (const row of installed) {
    const name = String(row['name'])
    if (!kept.has(name)) yield* run(sql.raw(`DROP TRIGGER IF EXISTS ${quoteIdent(name)}`))
  }
}

/** Installs the triggers of `tables` and drops lastword's triggers of every other table. */
export function* installCapture(tables: readonly SyncedTable[]): Tx<void> {
  yield* dropCapture(tables)
  for (const table of tables) for (const statement of captureTriggers(table)) yield* run(sql.raw(statement))
}

/** The engine's mark on its own writes of `table` (see the module comment). */
export function* captureOff(table: string): Tx<void> {
  yield* run(sql`INSERT OR IGNORE INTO lastword_capture_off (tbl) VALUES (${table})`)
}

/** Removes the mark before commit. */
export function* captureOn(table: string): Tx<void> {
  yield* run(sql`DELETE FROM lastword_capture_off WHERE tbl = ${table}`)
}
