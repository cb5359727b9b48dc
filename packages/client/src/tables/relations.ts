/**
 * Foreign keys in the replica (core's SPEC.md section 4a): inside a local write's transaction, a child
 * written against a parent this replica holds as deleted is refused (PD3, `PARENT_DELETED`, nothing
 * written), and a parent's local delete carries its `onDelete` to the children this replica holds (PD4:
 * `cascade` deletes them, `set null` clears their reference), in the same transaction, so no reader ever
 * sees an orphan. A parent the replica does not hold (outside every local scope) cannot be judged here:
 * the write is taken and the server decides (PD1, then P9 on the client).
 */
import { assertParentsLive, childEffects, isFieldMerge, type ChildEffect, type Stamp, type TableDescriptor } from '@lastword/core'
import { isLive } from '../query.js'
import type { StoredRecord, StoreTransaction } from '../store/types.js'

/** PD3: throws `PARENT_DELETED` when a parent `row` points at is a tombstone in this replica (a pending local delete included). */
export async function assertLocalParents(tx: StoreTransaction, table: TableDescriptor, row: Readonly<Record<string, unknown>>): Promise<void> {
  const known = new Map<string, StoredRecord | undefined>()
  for (const fk of table.foreignKeys ?? []) {
    const uid = row[fk.column]
    if (typeof uid === 'string') known.set(`${fk.references}\u0000${uid}`, await tx.getRecord(fk.references, uid))
  }
  assertParentsLive(table, row, (parent, uid) => known.get(`${parent}\u0000${uid}`), 'client')
}

/** The children a cascade wrote, by table, for live queries and other tabs. */
export type Cascaded = Map<string, string[]>

/**
 * PD4: applies the deletion of `parent`/`uid` to the children held in this replica, depth first (a
 * deleted child's own children follow its table's rules), each with a fresh stamp, dirty (pushed like any
 * local write). Returns what it wrote. Tables form no cycle the walk could loop on: a record is visited once.
 */
export async function cascadeLocalDelete(
  tx: StoreTransaction,
  tables: readonly TableDescriptor[],
  parent: string,
  uid: string,
  stamp: () => Stamp,
  put: (record: StoredRecord) => Promise<void> = (record) => tx.putRecord(record),
  cascaded: Cascaded = new Map(),
  visited: Set<string> = new Set([`${parent}\u0000${uid}`]),
): Promise<Cascaded> {
  for (const effect of childEffects(tables, parent)) {
    const children = await tx.scanRecords(effect.table, { filter: (r) => isLive(r) && r.row?.[effect.column] === uid })
    const descriptor = tables.find((t) => t.name === effect.table)
    for (const child of children) {
      const key = `${effect.table}\u0000${child.uid}`
      if (visited.has(key)) continue
      visited.add(key)
      await put(childAfter(child, effect, descriptor, stamp()))
      const written = cascaded.get(effect.table) ?? []
      written.push(child.uid)
      cascaded.set(effect.table, written)
      if (effect.effect === 'delete') await cascadeLocalDelete(tx, tables, effect.table, child.uid, stamp, put, cascaded, visited)
    }
  }
  return cascaded
}

/** A child as the parent's deletion leaves it: a tombstone (its row kept as the last image), or its reference cleared. */
function childAfter(child: StoredRecord, effect: ChildEffect, descriptor: TableDescriptor | undefined, stamp: Stamp): StoredRecord {
  // New stamps from this clock: an earlier refusal and re-stamping no longer describe the record.
  const { rejected: _cleared, restamped: _restamped, ...rest } = child
  if (effect.effect === 'delete') return { ...rest, deleted_at: stamp, dirty: true }
  const row = { ...(child.row ?? {}), [effect.column]: null }
  if (!isFieldMerge(descriptor)) {
    const { fields: _fields, changed: _changed, ...whole } = rest
    return { ...whole, row, updated_at: stamp, dirty: true }
  }
  // A field-merge table: the cleared column takes the new stamp and joins those to push.
  const fields = { ...(child.fields ?? {}), [effect.column]: stamp }
  const changed = [...new Set([...(child.dirty ? (child.changed ?? []) : []), effect.column])]
  return { ...rest, row, updated_at: stamp, dirty: true, fields, changed }
}
