/**
 * The engine's side of field-level merge (core's field-merge.ts, SPEC.md section 3a, F1–F8): a pushed
 * record's column stamps checked, the record as core's merge sees it, and core's `mergeFieldWrite`
 * applied to the stored state. The rule itself is core's; this module only translates.
 */
import {
  LastwordError,
  assertFieldStamps,
  defaultFieldStamps,
  isFieldMerge,
  mergeFieldWrite,
  normalizeRow,
  toFieldRecord,
  type FieldRecord,
  type FieldStamps,
  type RecordMeta,
  type Resolution,
  type Stamp,
  type WireRecord,
} from '@lastword/core'
import type { ServerRecord } from './store.js'
import type { SyncedTable } from './tables.js'

/**
 * A record's column stamps, for the table's columns as they are now: every column at its `updated_at`
 * when none are recorded (written under `merge: 'row'` or before the stamps existed: exact); a column the
 * stamps do not name (added to the table since) at its `created_at`, the earliest the record knows; a
 * stamp of a column the table no longer has, left out (pages would otherwise be refused for it).
 */
export function columnStamps(table: SyncedTable, record: Pick<ServerRecord, 'created_at' | 'updated_at' | 'fields'>): FieldStamps {
  const names = table.descriptor.columns.map((c) => c.name)
  const stored = record.fields
  if (stored === null) return defaultFieldStamps(names, record.updated_at)
  const out: Record<string, Stamp> = {}
  for (const name of names) out[name] = Object.prototype.hasOwnProperty.call(stored, name) ? (stored[name] as Stamp) : record.created_at
  return out
}

/** The stored state as core's merge sees it. */
export function storedFieldRecord(table: SyncedTable, stored: ServerRecord | undefined): FieldRecord | undefined {
  if (stored === undefined) return undefined
  return toFieldRecord(stored, stored.image, stored.image === null ? {} : columnStamps(table, stored), table.descriptor.columns.map((c) => c.name))
}

/**
 * The columns a pushed live record writes and their stamps. On a field-merge table `fields` names them
 * (checked by core's `assertFieldStamps`) and the row carries exactly those; without `fields`, the record
 * is a whole-row write, every column at its `updated_at`. `fields` on a row table is `BAD_REQUEST`.
 * Returns the stamps and the row of those columns, normalised (`null` when the push is a whole row).
 */
export function pushedColumns(table: SyncedTable, record: WireRecord, meta: RecordMeta): { fields: FieldStamps | null; row: Record<string, unknown> | null } {
  if (!isFieldMerge(table.descriptor)) {
    if (record.fields !== undefined) throw new LastwordError('BAD_REQUEST', `Column stamps (fields) are for tables declared merge: 'field'; "${table.name}" merges rows`)
    return { fields: null, row: null }
  }
  if (meta.deleted_at !== null) {
    if (record.fields !== undefined && Object.keys(record.fields).length > 0) throw new LastwordError('BAD_REQUEST', 'A tombstone carries no column stamps')
    return { fields: {}, row: null }
  }
  if (record.fields === undefined) return { fields: null, row: null }
  const input = (record.row ?? null) as Record<string, unknown> | null
  const fields = assertFieldStamps(table.descriptor, { updated_at: meta.updated_at, deleted_at: null, row: input }, record.fields)
  if (input !== null && Object.keys(input).some((key) => !Object.prototype.hasOwnProperty.call(fields, key))) {
    throw new LastwordError('BAD_REQUEST', 'A field-merge push carries values only for the columns it stamps')
  }
  const columns = table.descriptor.columns.filter((c) => Object.prototype.hasOwnProperty.call(fields, c.name))
  return { fields, row: normalizeRow({ name: table.name, columns }, input ?? {}) }
}

/**
 * The incoming record of a field-merge write: the pushed columns with their stamps (a whole-row write:
 * every column of `composed` at `updated_at`); when the server knows no image of the record, the other
 * columns of `composed` (server-filled, or `null`) at its `created_at`, so a live record always holds
 * every column.
 */
export function incomingFieldRecord(
  meta: RecordMeta,
  pushed: FieldStamps | null,
  composed: Record<string, unknown> | null,
  storedImage: Record<string, unknown> | null,
): FieldRecord {
  if (meta.deleted_at !== null || composed === null) return { ...meta, row: null, fields: {} }
  const fields: Record<string, Stamp> = {}
  const row: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(composed)) {
    const stamp = pushed === null ? meta.updated_at : pushed[name] ?? (storedImage === null ? meta.created_at : undefined)
    if (stamp === undefined) continue
    fields[name] = stamp
    row[name] = value
  }
  return { ...meta, row, fields }
}

/** One field-merge write against the stored state: core's decision, and the state to store when it changes. */
export function mergeStored(
  table: SyncedTable,
  current: ServerRecord | undefined,
  incoming: FieldRecord,
  rev: number,
): { resolution: Resolution<ServerRecord>; state: ServerRecord; changed: boolean } {
  const merge = mergeFieldWrite(storedFieldRecord(table, current), incoming)
  const s = merge.state
  const state: ServerRecord = { uid: s.uid, created_at: s.created_at, updated_at: s.updated_at, deleted_at: s.deleted_at, rev, image: s.row, fields: s.fields }
  const winner = merge.changed ? state : (current as ServerRecord)
  const resolution: Resolution<ServerRecord> =
    merge.kind === 'superseded' ? { kind: 'superseded', rule: merge.rule, winner } : { kind: merge.kind, rule: merge.rule }
  return { resolution, state: merge.changed ? state : (current ?? state), changed: merge.changed }
}

/** A stored state as a wire record with its column stamps (a push's winner or merged state). */
export function fieldWireRecord(table: SyncedTable, state: ServerRecord): WireRecord {
  const live = state.deleted_at === null
  return {
    uid: state.uid,
    created_at: state.created_at,
    updated_at: state.updated_at,
    deleted_at: state.deleted_at,
    row: live ? state.image : null,
    ...(live ? { fields: columnStamps(table, state) } : {}),
  }
}
