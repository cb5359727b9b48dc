/**
 * Records between the wire and the store: reading the rows and tombstones of a page or event (checked
 * before anything is stored), a push winner, a dirty record as it is pushed, and local scope membership.
 */
import {
  LastwordError,
  assertFieldStamps,
  fieldDigest,
  isFieldMerge,
  assertMetaOrder,
  assertSafeKey,
  assertStamp,
  assertUid,
  matches,
  maxStamp,
  versionOf,
  type RecordState,
  type RowValues,
  type Scope,
  type Stamp,
  type TableDescriptor,
  type WireRecord,
} from '@lastword/core'
import type { StoredRecord } from '../store/types.js'

/**
 * Reads the rows (`[uid, created_at, updated_at, ...values]`) and tombstones of a page or realtime
 * event into record states, checking uids, stamps and column names. Throws `BAD_REQUEST`/`INVALID_*`:
 * a malformed page is refused whole, before anything is stored.
 */
export function readRecords(columns: readonly string[], rows: readonly unknown[][], tombstones: readonly (readonly string[])[]): RecordState[] {
  for (const column of columns) assertSafeKey(column, 'page columns')
  const out: RecordState[] = []
  // A field-merge table's rows end with the column stamps (core's wire.ts, `liveRow`).
  const stampsOf = { name: 'page', columns: columns.map((name) => ({ name, type: 'json' as const, nullable: true, writable: true })) }
  for (const values of rows) {
    if (values.length !== columns.length + 3 && values.length !== columns.length + 4) {
      throw new LastwordError('BAD_REQUEST', `A row has ${values.length} values; ${columns.length + 3} expected (uid, two stamps, the columns), and the column stamps on a field-merge table`)
    }
    const [uid, created, updated] = values
    const meta = { uid: assertUid(uid), created_at: assertStamp(created), updated_at: assertStamp(updated), deleted_at: null }
    assertMetaOrder(meta)
    const row: RowValues = {}
    columns.forEach((column, i) => {
      row[column] = values[i + 3] ?? null
    })
    if (values.length === columns.length + 4) out.push({ ...meta, row, fields: assertFieldStamps(stampsOf, { ...meta, row }, values[columns.length + 3]) })
    else out.push({ ...meta, row })
  }
  for (const [uid, created, updated, deleted] of tombstones) {
    const meta = { uid: assertUid(uid), created_at: assertStamp(created), updated_at: assertStamp(updated), deleted_at: assertStamp(deleted) }
    assertMetaOrder(meta)
    out.push({ ...meta, row: null })
  }
  return out
}

/** A wire record (a push winner) as a record state. */
export function fromWireRecord(record: WireRecord): RecordState {
  const meta = {
    uid: assertUid(record.uid),
    created_at: assertStamp(record.created_at),
    updated_at: assertStamp(record.updated_at),
    deleted_at: record.deleted_at === null ? null : assertStamp(record.deleted_at),
  }
  assertMetaOrder(meta)
  if (record.row !== null) for (const key of Object.keys(record.row)) assertSafeKey(key, 'winner row')
  const row = meta.deleted_at === null ? record.row : null
  if (record.fields !== undefined && row !== null) {
    const columns = Object.keys(row).map((name) => ({ name, type: 'json' as const, nullable: true, writable: true }))
    return { ...meta, row, fields: assertFieldStamps({ name: 'winner', columns }, { ...meta, row }, record.fields) }
  }
  return { ...meta, row }
}

/**
 * A dirty record as it is pushed: stamps and the row of writable columns (server-owned columns are the
 * server's, and columns the record does not know are left out), or `null` for a delete.
 */
export function toWireRecord(record: StoredRecord, table: TableDescriptor | undefined): WireRecord {
  let row: Record<string, unknown> | null = null
  let fields: Record<string, Stamp> | undefined
  if (record.deleted_at === null && record.row !== null) {
    row = {}
    let columns = table === undefined ? Object.keys(record.row) : table.columns.filter((c) => c.writable).map((c) => c.name)
    // A field-merge table: only the columns written locally, with their stamps (SPEC.md section 3a).
    const stamps = record.fields
    if (isFieldMerge(table) && stamps !== undefined) {
      const changed = record.changed ?? columns
      columns = columns.filter((c) => changed.includes(c) && stamps[c] !== undefined)
      fields = {}
      for (const name of columns) fields[name] = stamps[name] as Stamp
    }
    // Columns added by a schema change after this write are not the writer's to set (SV2): left out, the server keeps them.
    const unknown = new Set(record.unknown ?? [])
    for (const name of columns) if (!unknown.has(name)) row[name] = record.row[name] ?? null
  }
  const wire: WireRecord = { uid: record.uid, created_at: record.created_at, updated_at: record.updated_at, deleted_at: record.deleted_at, row }
  if (fields !== undefined) wire.fields = fields
  // R10: the server, not knowing an acknowledged uid any more, refuses the write (PURGED) instead of creating it.
  if (record.acknowledged) wire.acknowledged = true
  // R12: where its acknowledged state was read, so the server can tell a purge from a restored database.
  if (record.acknowledged && record.knownAt !== undefined) wire.knownAt = record.knownAt
  return wire
}

/** A full-reconciliation entry's digest of a live field-merge record's column stamps (core's `fieldDigest`), if it has one. */
export function entryDigest(record: StoredRecord, table: TableDescriptor | undefined): string | undefined {
  return isFieldMerge(table) && record.deleted_at === null && record.fields !== undefined ? fieldDigest(record.fields) : undefined
}

/** Whether a record belongs to a scope locally: its row (for a tombstone, its last image) matches. */
export function inScope(record: StoredRecord, scope: Scope): boolean {
  return record.row !== null && matches(record.row, scope)
}

/** The greatest version among record states (core's `maxStamp`), to advance the clock past once. */
export function greatestVersion(records: readonly RecordState[]): Stamp | null {
  return records.reduce<Stamp | null>((top, r) => maxStamp(top, versionOf(r)), null)
}
