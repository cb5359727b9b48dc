/**
 * Local writes: each one planned first (its input checked by core's `normalizeClientWrite` against the
 * table's descriptor, its uid chosen), then committed with others in ONE store transaction — a table
 * handle's single write, or every write of a `client.transaction` (SPEC.md section 12). A commit reads
 * each record, stamps the writes from one clock in order (stamps increasing), gives each its write
 * sequence number (`seq`, one counter per replica, persisted in the same transaction) and, for a
 * transaction, its unit id. A write that fails (a record absent, a uid taken) aborts the transaction:
 * nothing of it is stored.
 */
import {
  LastwordError,
  assertUid,
  getColumn,
  isFieldMerge,
  keyOf,
  normalizeClientWrite,
  normalizeTableUid,
  toLastwordError,
  versionOf,
  type RowValues,
  type Stamp,
  type TableDescriptor,
} from '@lastword/core'
import type { ClientClock } from '../clock.js'
import { uuidv7 } from '../ids.js'
import { isLive } from '../query.js'
import type { Runtime } from '../runtime.js'
import type { LocalStore, StoredRecord, StoreTransaction } from '../store/types.js'
import { assertLocalParents, cascadeLocalDelete } from './relations.js'

/** Makes a record's new state from its stored one (`undefined`: none), stamping with `stamp`. Throws to refuse. */
export type MakeRecord = (local: StoredRecord | undefined, stamp: () => Stamp) => StoredRecord

/**
 * What a write does in its transaction once its record is made, before it is stored: checks its parents
 * (PD3: a refusal leaves the transaction without a write), or carries a delete to the children (PD4,
 * each child stored through `put`, so it takes its write sequence number and unit like any write).
 */
export type Related = (tx: StoreTransaction, record: StoredRecord, stamp: () => Stamp, put: (record: StoredRecord) => Promise<void>) => Promise<void>

/** One write, checked and ready to commit. */
export interface PlannedWrite {
  table: string
  uid: string
  make: MakeRecord
  related?: Related
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
  /** The table's descriptor if it is known now. */
  known(table: string): TableDescriptor | undefined
  /** Every known descriptor (a parent's delete looks for the tables that point at it, PD4). */
  all(): TableDescriptor[]
  report(error: LastwordError): void
}

/** A create of `input` in `table`: its uid (given or a UUIDv7) and the record it makes. */
export async function planCreate(deps: LocalWriteDeps, table: string, input: unknown): Promise<PlannedWrite> {
  deps.assertOpen()
  const clock = await deps.clock()
  const descriptor = await deps.descriptor(table)
  if (!isPlainObject(input)) throw new LastwordError('INVALID_VALUE', `A row of "${table}" must be an object`)
  // The uid is the table's key (core's keyOf): given under its name, or a UUIDv7, which a text and a
  // uuid key alike take (RFC 9562: version 7, the RFC 4122 variant).
  const { [keyOf(descriptor)]: given, ...values } = input
  const uid = given === undefined ? uuidv7(clock.now(), deps.runtime) : normalizeTableUid(descriptor, given)
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
    related: checkParents(descriptor),
  }
}

/** An update of record `uid` of `table` by `patch`. */
export async function planUpdate(deps: LocalWriteDeps, table: string, given: string, patch: unknown): Promise<PlannedWrite> {
  deps.assertOpen()
  await deps.clock()
  const descriptor = await deps.descriptor(table)
  const uid = normalizeTableUid(descriptor, given)
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
    related: checkParents(descriptor),
  }
}

/** A delete of record `uid` of `table`. */
export async function planDelete(deps: LocalWriteDeps, table: string, given: string): Promise<PlannedWrite> {
  deps.assertOpen()
  await deps.clock()
  const descriptor = deps.known(table)
  const uid = descriptor === undefined ? assertUid(given) : normalizeTableUid(descriptor, given)
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
    // PD4: a deletion carried to the children this replica holds, in the same transaction.
    related: (tx, record, stamp, put) => cascadeLocalDelete(tx, deps.all(), table, record.uid, stamp, put).then(() => undefined),
  }
}

/** PD3: a live record's parents, as this replica knows them. */
function checkParents(descriptor: TableDescriptor): Related {
  return async (tx, record) => {
    if (record.row !== null && record.deleted_at === null) await assertLocalParents(tx, descriptor, record.row)
  }
}

/** The tables and uids of records committed together, for live queries and other tabs. */
export function written(records: readonly StoredRecord[]): { tables: string[]; uids: string[] } {
  return { tables: [...new Set(records.map((r) => r.table))], uids: records.map((r) => r.uid) }
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
      const put = async (made: StoredRecord): Promise<void> => {
        const { unit: _left, ...rest } = made
        const record: StoredRecord = { ...rest, seq: ++seq, ...(unit === undefined ? {} : { unit }) }
        await tx.putRecord(record)
        stored.push(record)
      }
      for (const write of writes) {
        const local = await tx.getRecord(write.table, write.uid)
        // A write must win over the state it was made on, even if that state came from another tab
        // (its own writer) whose stamps this clock has not seen: advance past it first.
        if (local !== undefined) clock.receive(versionOf(local))
        const stamp = (): Stamp => clock.next()
        const made = write.make(local, stamp)
        // Before the record is stored: a refusal (PD3) aborts the transaction; children a delete carries
        // to (PD4) are stored first, so they are pushed before it.
        if (write.related !== undefined) await write.related(tx, made, stamp, put)
        await put(made)
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
 * A patch may not carry the table's key (`uid`, or the app's primary key: a record's uid never changes):
 * core's rule skips the key, so it is refused here as the unknown column it is.
 */
function assertNoUid(descriptor: TableDescriptor, patch: unknown): void {
  const key = keyOf(descriptor)
  if (isPlainObject(patch) && Object.prototype.hasOwnProperty.call(patch, key)) getColumn(descriptor, key)
}

function notFound(table: string, uid: string): LastwordError {
  return new LastwordError('NOT_FOUND', `"${table}" has no record "${uid}" (or it was deleted)`, { table, uid })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
