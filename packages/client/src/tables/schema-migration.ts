/**
 * Migrating the stored records when the server's descriptors bring a new schema version of a table
 * (SPEC.md section 11): in the same store transaction as the new descriptors, so an interrupted
 * migration leaves the old descriptors and the old records together, to be migrated again on the next
 * hello — nothing is lost, nothing half-done. The mapping is core's (`schemaMapping`, `mapRow`):
 *
 * - a renamed column's value moves to its new name (SV4), a dropped column's value is left behind (SV3),
 *   a widened column keeps its values (SV5);
 * - a column added since (SV1): a dirty record keeps its write, the column listed in `unknown` (read as
 *   null, left out of its push so the server keeps its value; the server's state of that write completes
 *   it, core's A3); a clean live record is dropped and its table's scopes reconcile in full, which
 *   brings it back with every column;
 * - a field-merge record's column stamps (`fields`) and columns still to push (`changed`) follow the same
 *   renames and drops.
 */
import { mapRow, schemaMapping, schemaVersionOf, type TableDescriptor } from '@lastword/core'
import type { StoreTransaction, StoredRecord } from '../store/types.js'

/** A table whose schema changed, for the app's `schema` event. */
export interface SchemaMigration {
  table: string
  from: number
  to: number
}

function changed(before: TableDescriptor, after: TableDescriptor): boolean {
  return schemaVersionOf(before) !== schemaVersionOf(after) || JSON.stringify(before.columns) !== JSON.stringify(after.columns)
}

/** Migrates the records of every table whose descriptor changed from `before` to `after`, within `tx`. */
export async function migrateStoredRecords(
  tx: StoreTransaction,
  before: readonly TableDescriptor[] | undefined,
  after: readonly TableDescriptor[],
): Promise<SchemaMigration[]> {
  const old = new Map((before ?? []).map((t) => [t.name, t]))
  const done: SchemaMigration[] = []
  for (const next of after) {
    const prev = old.get(next.name)
    if (prev === undefined || !changed(prev, next) || schemaVersionOf(prev) > schemaVersionOf(next)) continue
    const mapping = schemaMapping(prev, next)
    const records = await tx.scanRecords(next.name)
    const puts: StoredRecord[] = []
    const drops: string[] = []
    for (const record of records) {
      if (record.row === null) continue
      const mapped = mapRow(mapping, record.row, false)
      if (!mapped.ok) continue // lenient mapping never fails
      const live = record.deleted_at === null
      if (live && !record.dirty && mapping.added.length > 0) {
        drops.push(record.uid)
        continue
      }
      // Earlier unknown columns follow their renames; the ones added now join them (live records only).
      const carried = (record.unknown ?? []).map((name) => {
        const fate = mapping.columns.get(name)
        return fate?.kind === 'kept' ? fate.to : null
      })
      const unknown = [...new Set([...carried.filter((n): n is string => n !== null), ...(live ? mapped.unknown : [])])]
      const row = { ...mapped.row }
      for (const name of unknown) row[name] = null
      const { unknown: _old, ...rest } = record
      // A field-merge record's column stamps and columns still to push follow the same renames and drops.
      const renamed = (name: string): string[] => {
        const fate = mapping.columns.get(name)
        return fate === undefined ? [name] : fate.kind === 'kept' ? [fate.to] : []
      }
      if (rest.fields !== undefined) rest.fields = Object.fromEntries(Object.entries(rest.fields).flatMap(([name, stamp]) => renamed(name).map((to) => [to, stamp])))
      if (rest.changed !== undefined) rest.changed = rest.changed.flatMap(renamed)
      puts.push(unknown.length > 0 ? { ...rest, row, unknown } : { ...rest, row })
    }
    if (puts.length > 0) await tx.putRecords(puts)
    if (drops.length > 0) {
      await tx.deleteRecords(next.name, drops)
      for (const scope of await tx.listScopes(next.name)) {
        const { seen: _seen, ...rest } = scope
        await tx.putScope({ ...rest, checkpoint: null, fullCursor: null })
      }
    }
    done.push({ table: next.name, from: schemaVersionOf(prev), to: schemaVersionOf(next) })
  }
  return done
}
