/**
 * The handle on one synced table: local writes (validated by core's `normalizeClientWrite`, stamped by
 * the client's clock, marked dirty for the next push), reads of the local copy, and live queries.
 */
import { LastwordError, hasUuidKey, keyOf, normalizeUuid, type Where } from '@lastword/core'
import type { TableHandle } from '../client-api.js'
import type { ClientClock } from '../clock.js'
import type { LiveQueries } from '../live/live-queries.js'
import { compileQuery, isLive, runQuery, toReadRow, type QueryOptions, type ReadRow } from '../query.js'
import type { Runtime } from '../runtime.js'
import type { LocalStore } from '../store/types.js'
import { commitWrites, planCreate, planDelete, planUpdate, written, type LocalWriteDeps, type PlannedWrite } from './local-writes.js'
import type { DescriptorRegistry } from './descriptor-registry.js'

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
  /** Local writes committed (one, or a transaction's, with the children a parent's delete wrote, PD4). */
  afterWrite(tables: string[], uids: string[]): void
  report(error: LastwordError): void
}

/** Creates the handle on `table`. */
export function createTableHandle<Row extends object>(table: string, deps: TableHandleDeps): TableHandle<Row> {
  const { store, registry, assertOpen } = deps
  const writes = localWriteDeps(deps)

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

  /** Commits one planned write in its own transaction. */
  async function write(planned: PlannedWrite): Promise<void> {
    const stored = await commitWrites(writes, [planned])
    const { tables, uids } = written(stored)
    deps.afterWrite(tables, uids)
  }

  return {
    name: table,
    async create(input) {
      const planned = await planCreate(writes, table, input)
      await write(planned)
      return planned.uid
    },
    async update(uid, patch) {
      await write(await planUpdate(writes, table, uid, patch))
    },
    async delete(uid) {
      await write(await planDelete(writes, table, uid))
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

/** What planning and committing local writes need, from a table handle's dependencies. */
export function localWriteDeps(deps: TableHandleDeps): LocalWriteDeps {
  return {
    store: deps.store,
    runtime: deps.runtime,
    clock: deps.clock,
    assertOpen: deps.assertOpen,
    async descriptor(table) {
      if (deps.registry.get(table) === undefined) await deps.reloadTables()
      return deps.registry.require(table)
    },
    known: (table) => deps.registry.get(table),
    all: () => deps.registry.all(),
    report: deps.report,
  }
}
