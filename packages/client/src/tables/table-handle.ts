/**
 * The handle on one synced table: local writes (validated by core's `normalizeClientWrite`, stamped by
 * the client's clock, marked dirty for the next push), reads of the local copy, and live queries.
 */
import { LastwordError, type Where } from '@lastword/core'
import type { TableHandle } from '../client-api.js'
import type { ClientClock } from '../clock.js'
import type { LiveQueries } from '../live/live-queries.js'
import { compileQuery, isLive, runQuery, toReadRow, type QueryOptions, type ReadRow } from '../query.js'
import type { Runtime } from '../runtime.js'
import type { LocalStore } from '../store/types.js'
import { commitWrites, planCreate, planDelete, planUpdate, type LocalWriteDeps, type PlannedWrite } from './local-writes.js'
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
  /** Local writes committed (one, or a transaction's). */
  afterWrite(tables: string[], uids: string[]): void
  report(error: LastwordError): void
}

/** Creates the handle on `table`. */
export function createTableHandle<Row extends object>(table: string, deps: TableHandleDeps): TableHandle<Row> {
  const { store, registry, assertOpen } = deps
  const writes = localWriteDeps(deps)

  /** Commits one planned write in its own transaction. */
  async function write(planned: PlannedWrite): Promise<void> {
    await commitWrites(writes, [planned])
    deps.afterWrite([table], [planned.uid])
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
      const record = await store.transaction('readonly', (tx) => tx.getRecord(table, uid))
      return record !== undefined && isLive(record) ? toReadRow<Row>(record) : null
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
      return (await store.transaction('readonly', (tx) => tx.getRecord(table, uid))) ?? null
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
    report: deps.report,
  }
}
