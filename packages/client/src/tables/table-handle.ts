/**
 * The handle on one synced table: local writes (validated by core's `normalizeClientWrite`, stamped by
 * the client's clock, marked dirty for the next push), reads of the local copy, and live queries.
 */
import {
  LastwordError,
  assertUid,
  getColumn,
  isFieldMerge,
  keyOf,
  normalizeClientWrite,
  normalizeTableUid,
  normalizeUuid,
  hasUuidKey,
  toLastwordError,
  versionOf,
  type RowValues,
  type Stamp,
  type TableDescriptor,
  type Where,
} from '@lastword/core'
import type { TableHandle } from '../client-api.js'
import type { ClientClock } from '../clock.js'
import { uuidv7 } from '../ids.js'
import type { LiveQueries } from '../live/live-queries.js'
import { compileQuery, isLive, runQuery, toReadRow, type QueryOptions, type ReadRow } from '../query.js'
import type { Runtime } from '../runtime.js'
import type { LocalStore, StoredRecord, StoreTransaction } from '../store/types.js'
import type { DescriptorRegistry } from './descriptor-registry.js'
import { assertLocalParents, cascadeLocalDelete, type Cascaded } from './relations.js'

/** What a table handle needs from its client. */
export interface TableHandleDeps {
  store: LocalStore
  runtime: Runtime
  registry: DescriptorRegistry
  live: LiveQueries
  /** The clock, once the store is open. */
  clock(): Promise<ClientClock>
  /** Throws `CLOSED` once the client is closed. */
  assertOpen(): void
  /** Reads descriptors another tab stored (a table unknown here may be known there). */
  reloadTables(): Promise<void>
  /** A local write committed (with the children a parent's delete wrote in its transaction, PD4). */
  afterWrite(table: string, uid: string, cascaded?: ReadonlyMap<string, readonly string[]>): void
  report(error: LastwordError): void
}

type MakeRecord = (local: StoredRecord | undefined, stamp: () => Stamp) => StoredRecord

/** What a write does in its transaction once its record is made: checks its parents (PD3), or carries a delete to the children (PD4). */
type Related = (tx: StoreTransaction, record: StoredRecord, stamp: () => Stamp) => Promise<Cascaded | null>

/** Creates the handle on `table`. */
export function createTableHandle<Row extends object>(table: string, deps: TableHandleDeps): TableHandle<Row> {
  const { store, registry, assertOpen } = deps

  /** The descriptor, reloading the stored descriptors once if it is unknown. */
  async function loadDescriptor(): Promise<TableDescriptor> {
    if (registry.get(table) === undefined) await deps.reloadTables()
    return registry.require(table)
  }

  /**
   * The uid an app gives to look a record up: on a uuid key, a UUID of either case in its canonical form
   * (as writes take it); anything else as given (a lookup of a malformed uid finds nothing).
   */
  function lookupUid(uid: string): string {
    const descriptor = registry.get(table)
    return descriptor !== undefined && hasUuidKey(descriptor) ? (normalizeUuid(uid) ?? uid) : uid
  }

  /** The table's key, for the rows read (`uid` until the descriptor is known: nothing is stored before). */
  const rowKey = (): string => {
    const descriptor = registry.get(table)
    return descriptor === undefined ? 'uid' : keyOf(descriptor)
  }

  /** Writes one record in one transaction, past any stamp it already carries. */
  async function write(uid: string, make: MakeRecord, related?: Related): Promise<void> {
    assertOpen()
    const clock = await deps.clock()
    assertOpen()
    const done: { cascaded: Cascaded | null } = { cascaded: null }
    try {
      await store.transaction('readwrite', async (tx) => {
        const local = await tx.getRecord(table, uid)
        // A write must win over the state it was made on, even if that state came from another tab
        // (its own writer) whose stamps this clock has not seen: advance past it first.
        if (local !== undefined) clock.receive(versionOf(local))
        const stamp = (): Stamp => clock.next()
        const record = make(local, stamp)
        // Before anything is written: a refusal (PD3) leaves the transaction without a write.
        done.cascaded = related === undefined ? null : await related(tx, record, stamp)
        await tx.putRecord(record)
        await clock.persist(tx)
      })
    } catch (error) {
      const lw = toLastwordError(error)
      // Storage failures are the app's to know about even if the caller swallows the rejection (D01).
      if (lw.code === 'QUOTA_EXCEEDED' || lw.code === 'INTERNAL') deps.report(lw)
      throw lw
    }
    deps.afterWrite(table, uid, done.cascaded ?? undefined)
  }

  /** PD3: a live record's parents, as this replica knows them. */
  const checkParents = (descriptor: TableDescriptor): Related => async (tx, record) => {
    if (record.row !== null && record.deleted_at === null) await assertLocalParents(tx, descriptor, record.row)
    return null
  }
  /** PD4: a deletion carried to the children this replica holds. */
  const cascade: Related = (tx, record, stamp) => cascadeLocalDelete(tx, registry.all(), table, record.uid, stamp)

  return {
    name: table,
    async create(input) {
      assertOpen()
      const clock = await deps.clock()
      const descriptor = await loadDescriptor()
      if (!isPlainObject(input)) throw new LastwordError('INVALID_VALUE', `A row of "${table}" must be an object`)
      // The uid is the table's key (core's keyOf): given under its name, or a UUIDv7, which a text and a
      // uuid key alike take (RFC 9562: version 7, the RFC 4122 variant).
      const { [keyOf(descriptor)]: given, ...values } = input as Record<string, unknown>
      const uid = given === undefined ? uuidv7(clock.now(), deps.runtime) : normalizeTableUid(descriptor, given)
      const row = normalizeClientWrite(descriptor, values, null) as RowValues
      await write(uid, (local, stamp) => {
        if (local !== undefined && local.deleted_at === null) {
          throw new LastwordError('INVALID_UID', `"${table}" already has a record "${uid}"; update it instead`, { uid })
        }
        const s = stamp()
        // Over a tombstone, a later create brings the record back (R5); the server knows the uid then.
        const record: StoredRecord = { table, uid, row, created_at: s, updated_at: s, deleted_at: null, dirty: true, acknowledged: local?.acknowledged ?? false }
        // A field-merge table: every column stamped, every writable one to push (SPEC.md section 3a).
        return isFieldMerge(descriptor) ? { ...record, ...fieldWrite(descriptor, Object.keys(row), s, {}, []) } : record
      }, checkParents(descriptor))
      return uid
    },
    async update(given, patch) {
      assertOpen()
      await deps.clock()
      const descriptor = await loadDescriptor()
      const uid = normalizeTableUid(descriptor, given)
      assertNoUid(descriptor, patch)
      normalizeClientWrite(descriptor, patch, null, true) // bad input fails before any transaction
      await write(uid, (local, stamp) => {
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
      }, checkParents(descriptor))
    },
    async delete(given) {
      assertOpen()
      await deps.clock()
      const descriptor = registry.get(table)
      const uid = descriptor === undefined ? assertUid(given) : normalizeTableUid(descriptor, given)
      await write(uid, (local, stamp) => {
        if (local === undefined || !isLive(local)) throw notFound(table, uid)
        // The row stays as the tombstone's last image: scopes match the delete by it.
        // New stamps from this clock: an earlier refusal and re-stamping no longer describe the record.
        const { rejected: _cleared, restamped: _restamped, ...rest } = local
        return { ...rest, deleted_at: stamp(), dirty: true }
      }, cascade)
    },
    async findUnique(uid) {
      assertOpen()
      await deps.clock()
      const record = await store.transaction('readonly', (tx) => tx.getRecord(table, lookupUid(uid)))
      return record !== undefined && isLive(record) ? toReadRow<Row>(record, rowKey()) : null
    },
    async findMany(where = {}, queryOptions = {}) {
      assertOpen()
      await deps.clock()
      if (registry.get(table) === undefined) await deps.reloadTables()
      if (registry.size === 0) return [] // nothing can be stored before the descriptors are known
      const query = compileQuery(registry.require(table), where as Where, queryOptions as QueryOptions)
      const records = await store.transaction('readonly', (tx) => tx.scanRecords(table))
      return runQuery<Row>(query, records)
    },
    subscribe(where, callback, queryOptions = {}) {
      assertOpen()
      if (typeof callback !== 'function') throw new LastwordError('BAD_REQUEST', 'subscribe needs a callback')
      return deps.live.subscribe<Row>(table, where as Where, callback as (rows: ReadRow<Row>[]) => void, queryOptions as QueryOptions)
    },
    async record(uid) {
      assertOpen()
      await deps.clock()
      return (await store.transaction('readonly', (tx) => tx.getRecord(table, lookupUid(uid)))) ?? null
    },
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
