/**
 * Local writes: each one planned first (its input checked by core's `normalizeClientWrite` against the
 * table's descriptor, its uid chosen), then committed with others in ONE store transaction — a table
 * handle's single write, or every write of a `client.transaction` (SPEC.md section 12). A commit reads
 * each record, stamps the writes from one clock in order (stamps increasing), gives each its write
 * sequence number (`seq`, one counter per replica, persisted in the same transaction) and, for a
 * transaction, its unit id. A write that fails (a record absent, a uid taken) aborts the transaction:
 * nothing of it is stored.
 */
import { LastwordError, assertUid, getColumn, isFieldMerge, normalizeClientWrite, toLastwordError, versionOf, type RowValues, type Stamp, type TableDescriptor } from '@lastword/core'
import type { ClientClock } from '../clock.js'
import { uuidv7 } from '../ids.js'
import { isLive } from '../query.js'
import type { Runtime } from '../runtime.js'
import type { LocalStore, StoredRecord } from '../store/types.js'

/** Makes a record's new state from its stored one (`undefined`: none), stamping with `stamp`. Throws to refuse. */
export type MakeRecord = (local: StoredRecord | undefined, stamp: () => Stamp) => StoredRecord

/** One write, checked and ready to commit. */
export interface PlannedWrite {
  table: string
  uid: string
  make: MakeRecord
}

/** What planning and committing need of the client. */
export interface LocalWriteDeps {
  store: LocalStore
  runtime: Runtime
  /** The clock, once the store is open. */
  clock(): Promise<ClientClock>
  assertOpen(): void
  /** The table's descriptor (reloading the stored ones once if it is unknown); `NOT_FOUND`/`UNKNOWN_TABLE` otherwise. */
  descriptor(table: string): Promise<TableDescriptor>
  report(error: LastwordError): void
}

/** A create of `input` in `table`: its uid (given or a UUIDv7) and the record it makes. */
export async function planCreate(deps: LocalWriteDeps, table: string, input: unknown): Promise<PlannedWrite> {
  deps.assertOpen()
  const clock = await deps.clock()
  const descriptor = await deps.descriptor(table)
  if (!isPlainObject(input)) throw new LastwordError('INVALID_VALUE', `A row of "${table}" must be an object`)
  const { uid: given, ...values } = input
  const uid = given === undefined ? uuidv7(clock.now(), deps.runtime) : assertUid(given)
  const row = normalizeClientWrite(descriptor, values, null) as RowValues
  return {
    table,
    uid,
    make(local, stamp) {
      if (local !== undefined && local.deleted_at === null) {
        throw new LastwordError('INVALID_UID', `"${table}" already has a record "${uid}"; update it instead`, { uid })
      }
      const s = stamp()
      // Over a tombstone, a later create brings the record back (R5); the server knows the uid then.
      const record: StoredRecord = { table, uid, row, created_at: s, updated_at: s, deleted_at: null, dirty: true, acknowledged: local?.acknowledged ?? false }
      // A field-merge table: every column stamped, every writable one to push (SPEC.md section 3a).
      return isFieldMerge(descriptor) ? { ...record, ...fieldWrite(descriptor, Object.keys(row), s, {}, []) } : record
    },
  }
}

/** An update of record `uid` of `table` by `patch`. */
export async function planUpdate(deps: LocalWriteDeps, table: string, uid: string, patch: unknown): Promise<PlannedWrite> {
  deps.assertOpen()
  await deps.clock()
  const descriptor = await deps.descriptor(table)
  assertUid(uid)
  assertNoUid(descriptor, patch)
  normalizeClientWrite(descriptor, patch, null, true) // bad input fails before any transaction
  return {
    table,
    uid,
    make(local, stamp) {
      if (local === undefined || !isLive(local)) throw notFound(table, uid)
      const row = normalizeClientWrite(descriptor, patch, local.row) as RowValues
      // New stamps from this clock: an earlier refusal and re-stamping no longer describe the record.
      const { rejected: _cleared, restamped: _restamped, unknown, ...rest } = local
      // A column the patch sets is this write's from now on (SV2); the others it does not know stay unknown.
      const still = unknown?.filter((name) => !Object.prototype.hasOwnProperty.call(patch, name)) ?? []
      const kept = still.length > 0 ? { unknown: still } : {}
      const s = stamp()
      if (!isFieldMerge(descriptor)) {
        // A whole-row write: column stamps the record may carry (a table once merged by field, or the
        // server's while this code knows the table as a row table) no longer say who wrote what.
        const { fields: _fields, changed: _changed, ...whole } = rest
        return { ...whole, row, updated_at: s, dirty: true, ...kept }
      }
      // A field-merge table: the patched columns take the new stamp and join those to push.
      const keys = Object.keys(patch as Record<string, unknown>)
      const own = local.fields ?? Object.fromEntries(Object.keys(local.row ?? {}).map((c) => [c, local.updated_at]))
      return { ...rest, row, updated_at: s, dirty: true, ...kept, ...fieldWrite(descriptor, keys, s, own, local.dirty ? (local.changed ?? Object.keys(own)) : []) }
    },
  }
}

/** A delete of record `uid` of `table`. */
export async function planDelete(deps: LocalWriteDeps, table: string, uid: string): Promise<PlannedWrite> {
  deps.assertOpen()
  await deps.clock()
  assertUid(uid)
  return {
    table,
    uid,
    make(local, stamp) {
      if (local === undefined || !isLive(local)) throw notFound(table, uid)
      // The row stays as the tombstone's last image: scopes match the delete by it.
      // New stamps from this clock: an earlier refusal and re-stamping no longer describe the record.
      const { rejected: _cleared, restamped: _restamped, ...rest } = local
      return { ...rest, deleted_at: stamp(), dirty: true }
    },
  }
}

/**
 * Commits `writes` in order in ONE store transaction, each past any stamp its record carries, with
 * consecutive write sequence numbers and, given `unit`, that unit id (without it, a record leaves any
 * unit it was in). Returns the records as stored. All or nothing.
 */
export async function commitWrites(deps: LocalWriteDeps, writes: readonly PlannedWrite[], unit?: string): Promise<StoredRecord[]> {
  deps.assertOpen()
  const clock = await deps.clock()
  deps.assertOpen()
  try {
    return await deps.store.transaction('readwrite', async (tx) => {
      const stored: StoredRecord[] = []
      let seq = (await tx.getMeta('seq')) ?? 0
      for (const write of writes) {
        const local = await tx.getRecord(write.table, write.uid)
        // A write must win over the state it was made on, even if that state came from another tab
        // (its own writer) whose stamps this clock has not seen: advance past it first.
        if (local !== undefined) clock.receive(versionOf(local))
        const { unit: _left, ...made } = write.make(local, () => clock.next())
        const record: StoredRecord = { ...made, seq: ++seq, ...(unit === undefined ? {} : { unit }) }
        await tx.putRecord(record)
        stored.push(record)
      }
      await tx.putMeta('seq', seq)
      await clock.persist(tx)
      return stored
    })
  } catch (error) {
    const lw = toLastwordError(error)
    // Storage failures are the app's to know about even if the caller swallows the rejection (D01).
    if (lw.code === 'QUOTA_EXCEEDED' || lw.code === 'INTERNAL') deps.report(lw)
    throw lw
  }
}

/** The column stamps and columns to push after a local write of `columns` at `stamp` (field-merge tables). */
function fieldWrite(descriptor: TableDescriptor, columns: readonly string[], stamp: Stamp, fields: Readonly<Record<string, Stamp>>, changed: readonly string[]): { fields: Record<string, Stamp>; changed: string[] } {
  const next: Record<string, Stamp> = { ...fields }
  for (const column of columns) next[column] = stamp
  const writable = new Set(descriptor.columns.filter((c) => c.writable).map((c) => c.name))
  return { fields: next, changed: [...new Set([...changed, ...columns])].filter((c) => writable.has(c)) }
}

/**
 * A patch may not carry `uid` (a record's uid never changes): core's rule skips the key, so it is
 * refused here as the unknown column it is, unless the table has a column of that name.
 */
function assertNoUid(descriptor: TableDescriptor, patch: unknown): void {
  if (isPlainObject(patch) && Object.prototype.hasOwnProperty.call(patch, 'uid')) getColumn(descriptor, 'uid')
}

function notFound(table: string, uid: string): LastwordError {
  return new LastwordError('NOT_FOUND', `"${table}" has no record "${uid}" (or it was deleted)`, { table, uid })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
