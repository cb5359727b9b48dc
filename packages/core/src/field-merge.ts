/**
 * Field-level merge (SPEC.md section 3a, rules F1–F8, laws FM1–FM4): the conflict rule of a table
 * declared `merge: 'field'`. Every column carries its own stamp; a record's state is a join of the
 * writes it received, so concurrent edits of different columns both survive, the later stamp wins per
 * column, and a delete wins over every edit older than it while an edit newer than it brings the
 * record back — with the columns as the record held them at the delete (edits older than the delete
 * included, whenever they arrive), overlaid with the newer edits.
 *
 * The state is (per column: the value with the greatest stamp; `created_at` the least; `updated_at` the
 * greatest edit stamp; the greatest delete stamp while it is greater than every edit stamp). That join
 * is commutative, idempotent and associative, so the final state does not depend on the delivery order
 * (`field-merge-laws.test.ts`). Pure; no I/O.
 */
import { LastwordError } from './errors.js'
import { assertUid, type RecordMeta, type RowValues } from './metadata.js'
import { compareStamps, isStamp, type Stamp } from './stamp.js'
import { hashString } from './checkpoint.js'
import type { TableDescriptor } from './descriptor.js'
import { canonicalJson } from './conflict-rules.js'

/** How a table resolves concurrent writes of one record: whole rows (the default) or column by column. */
export type MergeMode = 'row' | 'field'

/** The merge modes, for validation. */
export const MERGE_MODES: readonly MergeMode[] = ['row', 'field']

/** Each column's stamp: the stamp of the write that set its value. */
export type FieldStamps = Readonly<Record<string, Stamp>>

/**
 * A record of a field-merge table: its stamps, its values and each value's stamp. A live record holds
 * every column it knows in `row`; a tombstone may keep its last image (the server does, so a newer edit
 * can bring it back with its columns) or hold none (`row: null`, `fields: {}`: a client's delete, or a
 * tombstone as pages carry it).
 */
export interface FieldRecord extends RecordMeta {
  row: RowValues | null
  fields: FieldStamps
}

/** The rule that decided a field write, exactly as SPEC.md names it. */
export type FieldRuleId =
  | 'F1 create'
  | 'F2 same write seen twice'
  | 'F3 columns merged'
  | 'F4 later delete wins'
  | 'F5 edit newer than the delete brings the record back'
  | 'F6 older edit stays under the delete'
  | 'F7 older delete superseded'
  | 'F8 every column already newer'

/** What a field write does: the merged state, whether it differs from the stored one, and how the writer is answered. */
export interface FieldMerge {
  rule: FieldRuleId
  /** `applied` (the write shows in the result), `noop` (the same write again) or `superseded` (it does not show). */
  kind: 'applied' | 'noop' | 'superseded'
  /** The merged state: what the store holds after the write. */
  state: FieldRecord
  /** Whether `state` differs from the stored state (something must be written, even for `superseded`: F6). */
  changed: boolean
}

function maxOf(a: Stamp | null, b: Stamp | null): Stamp | null {
  if (a === null) return b
  if (b === null) return a
  return compareStamps(a, b) >= 0 ? a : b
}

/**
 * The stamps of a record's columns when it has none recorded: every column at its `updated_at` (a
 * record written before its table was declared `merge: 'field'`, or under `merge: 'row'`). Exact: a
 * whole-row write is a write of every column at its stamp.
 */
export function defaultFieldStamps(columns: readonly string[], updatedAt: Stamp): FieldStamps {
  const out: Record<string, Stamp> = {}
  for (const column of columns) out[column] = updatedAt
  return out
}

/**
 * The join of two states of one record (commutative, idempotent, associative: laws FM1–FM3). Per column
 * the greater stamp wins (at one stamp, the greater value in canonical JSON: deterministic); the delete
 * stamp is kept only while it is greater than every edit stamp — then the record is a tombstone whose
 * row is the image the edits left (or `null` when it knows no column).
 */
export function joinFieldRecords(a: FieldRecord, b: FieldRecord): FieldRecord {
  const fields: Record<string, Stamp> = {}
  const row: Record<string, unknown> = {}
  const pick = (record: FieldRecord, column: string): void => {
    const stamp = record.fields[column] as Stamp
    const value = record.row?.[column] ?? null
    const current = fields[column]
    const order = current === undefined ? 1 : compareStamps(stamp, current)
    if (order > 0 || (order === 0 && canonicalJson(value) > canonicalJson(row[column] ?? null))) {
      fields[column] = stamp
      row[column] = value
    }
  }
  for (const column of Object.keys(a.fields)) pick(a, column)
  for (const column of Object.keys(b.fields)) pick(b, column)
  const updated = maxOf(a.updated_at, b.updated_at) as Stamp
  const deleted = maxOf(a.deleted_at, b.deleted_at)
  const created = compareStamps(a.created_at, b.created_at) <= 0 ? a.created_at : b.created_at
  const tombstone = deleted !== null && compareStamps(deleted, updated) > 0
  const known = Object.keys(fields).length > 0
  return { uid: a.uid, created_at: created, updated_at: updated, deleted_at: tombstone ? deleted : null, row: known || !tombstone ? row : null, fields }
}

/** Whether two states are the same: the same stamps (record and columns); values follow from the stamps. */
export function sameFieldState(a: FieldRecord, b: FieldRecord): boolean {
  if (a.updated_at !== b.updated_at || a.deleted_at !== b.deleted_at || a.created_at !== b.created_at) return false
  const keys = Object.keys(a.fields)
  if (keys.length !== Object.keys(b.fields).length) return false
  for (const key of keys) {
    if (a.fields[key] !== b.fields[key]) return false
    if (canonicalJson(a.row?.[key] ?? null) !== canonicalJson(b.row?.[key] ?? null)) return false
  }
  return true
}

/**
 * Merges a write into the stored state of its record (the rule of a `merge: 'field'` table, F1–F8). A
 * pushed edit carries the columns its writer changed and their stamps (`fields`); a pushed delete
 * carries none.
 */
export function mergeFieldWrite(stored: FieldRecord | null | undefined, incoming: FieldRecord): FieldMerge {
  if (stored == null) return { rule: 'F1 create', kind: 'applied', state: joinFieldRecords(incoming, incoming), changed: true }
  const state = joinFieldRecords(stored, incoming)
  const changed = !sameFieldState(state, stored)
  if (incoming.deleted_at !== null) {
    if (state.deleted_at === incoming.deleted_at) {
      return changed ? { rule: 'F4 later delete wins', kind: 'applied', state, changed } : { rule: 'F2 same write seen twice', kind: 'noop', state, changed }
    }
    return { rule: 'F7 older delete superseded', kind: 'superseded', state, changed }
  }
  if (state.deleted_at !== null) return { rule: 'F6 older edit stays under the delete', kind: 'superseded', state, changed }
  if (stored.deleted_at !== null) return { rule: 'F5 edit newer than the delete brings the record back', kind: 'applied', state, changed }
  if (changed) return { rule: 'F3 columns merged', kind: 'applied', state, changed }
  const same = Object.keys(incoming.fields).every((c) => state.fields[c] === incoming.fields[c])
  return same ? { rule: 'F2 same write seen twice', kind: 'noop', state, changed } : { rule: 'F8 every column already newer', kind: 'superseded', state, changed }
}

/**
 * Checks the column stamps a record carries: known column names of `table`, well-formed stamps, none
 * after the record's `updated_at` and, on a live record, a value in `row` for each; `INVALID_STAMP` or
 * `UNKNOWN_COLUMN` otherwise. A cost bounded by the number of columns. Returns a fresh copy.
 */
export function assertFieldStamps(table: TableDescriptor, record: Pick<RecordMeta, 'updated_at' | 'deleted_at'> & { row: RowValues | null }, fields: unknown): FieldStamps {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new LastwordError('INVALID_STAMP', 'Column stamps must be an object')
  const out: Record<string, Stamp> = {}
  const keys = Object.keys(fields)
  if (keys.length > table.columns.length) throw new LastwordError('UNKNOWN_COLUMN', `More column stamps than "${table.name}" has columns`)
  for (const key of keys) {
    if (!table.columns.some((c) => c.name === key)) {
      throw new LastwordError('UNKNOWN_COLUMN', `A column stamp names a column that is not in "${table.name}"`, { table: table.name })
    }
    const stamp = (fields as Record<string, unknown>)[key]
    if (!isStamp(stamp)) throw new LastwordError('INVALID_STAMP', 'A column stamp is not a well-formed stamp', { column: key })
    if (compareStamps(stamp, record.updated_at) > 0) throw new LastwordError('INVALID_STAMP', 'A column stamp is later than the record\'s updated_at', { column: key })
    if (record.deleted_at === null && (record.row === null || !Object.prototype.hasOwnProperty.call(record.row, key))) {
      throw new LastwordError('INVALID_VALUE', 'A stamped column has no value in the row', { column: key })
    }
    out[key] = stamp
  }
  return out
}

/** A field record from metadata, its row and its stamps (every column at `updated_at` when none are recorded). */
export function toFieldRecord(meta: RecordMeta, row: RowValues | null, fields: FieldStamps | null | undefined, columns: readonly string[]): FieldRecord {
  assertUid(meta.uid)
  const stamps = fields ?? (row === null ? {} : defaultFieldStamps(columns, meta.updated_at))
  return { uid: meta.uid, created_at: meta.created_at, updated_at: meta.updated_at, deleted_at: meta.deleted_at, row, fields: stamps }
}

/**
 * A digest of a record's column stamps (14 hex digits, `hashString`): full reconciliation compares it when
 * the versions are equal, since a column write older than the record's version changes the record without
 * changing its version (F3).
 */
export function fieldDigest(fields: FieldStamps): string {
  return hashString(Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join(','))
}
