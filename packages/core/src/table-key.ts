/**
 * A table's key (SPEC.md section 4, "The key"): the app's primary key column is the record's uid. The
 * wire and the stores call it `uid` whatever its name; the descriptor's `key` names it as the app does
 * (absent: `uid`), and `keyType: 'uuid'` says it is a PostgreSQL `uuid` column, whose uids are UUIDs in
 * canonical form. Rows read by the app carry the uid under the key's name.
 */
import type { TableDescriptor } from './descriptor.js'
import { LastwordError } from './errors.js'
import { assertUid } from './metadata.js'
import { isCanonicalUuid, normalizeUuid } from './uuid.js'

/** The name rows carry a table's uid under when its descriptor names no key. */
export const DEFAULT_KEY = 'uid'

/** The name the app's rows carry the uid under: the descriptor's `key`, or `uid`. */
export function keyOf(table: Pick<TableDescriptor, 'key'>): string {
  return table.key ?? DEFAULT_KEY
}

/** Whether the table's uids are UUIDs (a PostgreSQL `uuid` key). */
export function hasUuidKey(table: Pick<TableDescriptor, 'keyType'>): boolean {
  return table.keyType === 'uuid'
}

/**
 * A record's uid as it travels (a push, a page, a realtime event): core's uid shape, and on a uuid key a
 * UUID in canonical lowercase form, exactly (the wire has one spelling of a uid). Throws `INVALID_UID`,
 * never echoing the value.
 */
export function assertTableUid(table: Pick<TableDescriptor, 'name' | 'keyType'>, value: unknown): string {
  const uid = assertUid(value)
  if (hasUuidKey(table) && !isCanonicalUuid(uid)) {
    throw new LastwordError('INVALID_UID', `"${table.name}" is keyed by a uuid column: a uid is a UUID in lowercase 8-4-4-4-12 form`, { table: table.name })
  }
  return uid
}

/**
 * A uid the app gives (a create's key, the uid of an update, a delete, a lookup): on a uuid key a UUID in
 * either case, taken in its canonical form; otherwise as {@link assertTableUid}. Throws `INVALID_UID`.
 */
export function normalizeTableUid(table: Pick<TableDescriptor, 'name' | 'keyType'>, value: unknown): string {
  const uuid = hasUuidKey(table) ? normalizeUuid(value) : undefined
  return assertTableUid(table, uuid ?? value)
}
