/**
 * Foreign keys between synced tables (core's SPEC.md section 4a): read from the app's Drizzle schema
 * (`getTableConfig` of drizzle-orm's sqlite-core or pg-core, which hold the `references()` and
 * `foreignKey()` of a table) into the descriptors, and the engine's parent check (PD1), run inside the
 * write transaction before any row is written, so the app gets `PARENT_DELETED` rather than a generic
 * constraint error, with or without a foreign key in the database.
 *
 * A descriptor carries a foreign key only when lastword can judge it: one column, pointing at the `uid`
 * of another synced table (or of the same one). Left out: keys to a table lastword does not sync (it
 * cannot know that table's rows; the database still enforces them, and a refused row is `INVALID_VALUE`),
 * keys to any other column than the uid, and keys over several columns.
 */
import { LastwordError, assertParentsLive, assertTableDescriptor, parentRefs, type ForeignKeyAction, type ForeignKeyDescriptor } from '@lastword/core'
import { Column, Table, is } from 'drizzle-orm'
import { PgTable, getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core'
import { SQLiteTable, getTableConfig as sqliteTableConfig } from 'drizzle-orm/sqlite-core'
import type { Dialect } from './dialect/types.js'
import { readMeta, type ServerRecord } from './store.js'
import type { SyncedTable } from './tables.js'
import type { Tx } from './tx.js'

/** A Drizzle foreign key as both table kinds give it. */
interface DrizzleForeignKey {
  reference(): { columns: Column[]; foreignTable: Table; foreignColumns: Column[] }
  onDelete?: ForeignKeyAction | undefined
  onUpdate?: ForeignKeyAction | undefined
}

/** The foreign keys Drizzle knows for a table (inline `references()` and `foreignKey()` alike). */
function drizzleForeignKeys(table: Table): DrizzleForeignKey[] {
  if (is(table, SQLiteTable)) return sqliteTableConfig(table).foreignKeys as unknown as DrizzleForeignKey[]
  if (is(table, PgTable)) return pgTableConfig(table).foreignKeys as unknown as DrizzleForeignKey[]
  return []
}

/**
 * Gives each synced table's descriptor the foreign keys it can carry (see above), in the order Drizzle
 * lists them, and checks the result with core's `assertTableDescriptor`. A table with none keeps a
 * descriptor without `foreignKeys`.
 */
export function linkForeignKeys(tables: Iterable<SyncedTable>): void {
  const all = [...tables]
  for (const synced of all) {
    const keys: ForeignKeyDescriptor[] = []
    for (const fk of drizzleForeignKeys(synced.table)) {
      const { columns, foreignTable, foreignColumns } = fk.reference()
      const [column] = columns
      if (columns.length !== 1 || foreignColumns.length !== 1 || column === undefined) continue
      const child = synced.columns.find((c) => c.column === column)
      const parent = all.find((t) => t.table === foreignTable && t.uid === foreignColumns[0])
      if (child === undefined || parent === undefined || child.descriptor.type !== 'text') continue
      if (keys.some((k) => k.column === child.descriptor.name)) continue
      keys.push({ column: child.descriptor.name, references: parent.name, onDelete: fk.onDelete ?? 'no action', onUpdate: fk.onUpdate ?? 'no action' })
    }
    if (keys.length === 0) delete synced.descriptor.foreignKeys
    else synced.descriptor.foreignKeys = keys
    assertTableDescriptor(synced.descriptor)
  }
}

/** A record whose stored state a write would make live: its uid and resulting row. */
export interface LiveWrite {
  uid: string
  image: Record<string, unknown> | null
}

/**
 * PD1, in the write transaction: each write that leaves a record live is refused `PARENT_DELETED` when a
 * parent it points at is a tombstone in lastword's metadata, or absent (never written, or purged).
 * Returns the refusals by uid (the caller drops those writes as it drops rows the database refused).
 * One read of the metadata per parent table, whatever the number of writes. Within one transaction the
 * parent's state cannot change on SQLite (writes are serialised); on PostgreSQL a parent deleted by a
 * concurrent transaction of another table is seen once that one commits (READ COMMITTED): without a
 * foreign key in the database, a child written in that instant keeps its reference (documented residual).
 */
export function* refuseOrphans(
  dialect: Dialect,
  table: SyncedTable,
  writes: readonly LiveWrite[],
  own: (parent: string, uid: string) => { deleted_at: unknown } | undefined,
): Tx<Map<string, LastwordError>> {
  const refused = new Map<string, LastwordError>()
  if (table.descriptor.foreignKeys === undefined) return refused
  const wanted = new Map<string, Set<string>>()
  for (const write of writes) {
    for (const [fk, uid] of parentRefs(table.descriptor, write.image)) {
      const set = wanted.get(fk.references) ?? new Set<string>()
      set.add(uid)
      wanted.set(fk.references, set)
    }
  }
  const parents = new Map<string, ReadonlyMap<string, ServerRecord>>()
  for (const [parent, uids] of wanted) parents.set(parent, yield* readMeta(dialect, parent, [...uids]))
  for (const write of writes) {
    try {
      // A parent may be written by this very push or unit (`own`: the states it leaves).
      assertParentsLive(table.descriptor, write.image, (parent, uid) => own(parent, uid) ?? parents.get(parent)?.get(uid), 'server')
    } catch (error) {
      if (error instanceof LastwordError) refused.set(write.uid, error)
      else throw error
    }
  }
  return refused
}
