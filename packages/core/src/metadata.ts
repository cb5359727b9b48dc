/**
 * Per-record metadata (SPEC.md section 2).
 */
import { LastwordError } from './errors.js'
import { assertStamp, type Stamp } from './stamp.js'

/** A record's stamps. `deleted_at` set means the record is a tombstone. */
export interface RecordMeta {
  uid: string
  created_at: Stamp
  updated_at: Stamp
  deleted_at: Stamp | null
}

/** Server-side metadata: the stamps and the change number of the record's latest change. */
export interface ServerRecordMeta extends RecordMeta {
  rev: number
}

/** A row of an app table, without `uid`. Values are JSON-compatible; dates are ISO strings. */
export type RowValues = Record<string, unknown>

/** A record as it is written and synced: its stamps and, unless it is a tombstone, its row. */
export interface RecordState extends RecordMeta {
  /** The app's columns; `null` for a tombstone. */
  row: RowValues | null
  /** Tables declared `merge: 'field'` (SPEC.md section 3a): each column's stamp, on a live record. */
  fields?: Readonly<Record<string, Stamp>>
}

/**
 * A record's version: its latest stamp. Stamps are ordered `created_at <= updated_at <= deleted_at`
 * (checked by {@link assertMetaOrder}), so the version is `deleted_at ?? updated_at`.
 */
export function versionOf(meta: Pick<RecordMeta, 'updated_at' | 'deleted_at'>): Stamp {
  return meta.deleted_at ?? meta.updated_at
}

/** Whether the record is a tombstone. */
export function isTombstone(meta: Pick<RecordMeta, 'deleted_at'>): boolean {
  return meta.deleted_at !== null
}

/** uids: 1–64 characters of `A–Z a–z 0–9 _ -` (UUIDv7 by default; `constructor` is a valid uid). */
export const UID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** Whether `value` is a well-formed uid. */
export function isUid(value: unknown): value is string {
  return typeof value === 'string' && UID_PATTERN.test(value)
}

/** Throws `INVALID_UID` unless `value` is a well-formed uid. */
export function assertUid(value: unknown): string {
  if (!isUid(value)) {
    throw new LastwordError('INVALID_UID', `A uid is 1–64 characters of A–Z, a–z, 0–9, _ or -; got ${JSON.stringify(String(value).slice(0, 80))}`)
  }
  return value
}

/**
 * Checks the stamps of a record received from elsewhere: each well-formed, and
 * `created_at <= updated_at < deleted_at` (a delete is a write of its own, so it has a stamp of its own:
 * a tombstone and a live write can never share a version). Throws `INVALID_STAMP`.
 */
export function assertMetaOrder(meta: { created_at: unknown; updated_at: unknown; deleted_at: unknown }): void {
  const created = assertStamp(meta.created_at)
  const updated = assertStamp(meta.updated_at)
  const deleted = meta.deleted_at === null ? null : assertStamp(meta.deleted_at)
  if (updated < created) {
    throw new LastwordError('INVALID_STAMP', 'updated_at must not be older than created_at', { created_at: created, updated_at: updated })
  }
  if (deleted !== null && deleted <= updated) {
    throw new LastwordError('INVALID_STAMP', 'deleted_at must be newer than updated_at (a delete is a new write)', { updated_at: updated, deleted_at: deleted })
  }
}
