/**
 * The IndexedDB `LocalStore`, on the raw IndexedDB API of the factory it is given (`idb-requests.ts`:
 * no IndexedDB global is needed, so Node with fake-indexeddb passed as options works). One database per client name (`lastword:<name>`), its schema
 * versioned by the `upgrade` callback of `openDatabase`. Local writes commit with `{ durability: 'strict' }`
 * (browsers default to relaxed durability; docs/guarantees.md). A connection closed under
 * us — Safari closing background tabs, DevTools clearing storage (`close`), another tab upgrading or
 * deleting the database (`versionchange`) — is dropped and reopened on the next transaction; a
 * transaction that failed because its connection went away is run again on the new one.
 */
import { LastwordError } from '@lastword/core'
import { openDatabase, request, transactionDone } from './idb-requests.js'
import type { LocalStore, ScanOptions, StoreMeta, StoreMode, StoreTransaction, StoredRecord, StoredScope } from './types.js'
import { closedStoreError, toStoreError } from './store-errors.js'
import { defaultMarkerId, readOrCreateMarker } from './replica-marker.js'

/** The schema version of the client database; bump it with a new step in `upgrade`. */
export const IDB_SCHEMA_VERSION = 1

/** Records read per request by a bounded scan (see `scan`). */
const SCAN_BATCH = 2_000
/** The smallest batch of a filtered scan (a filter may drop most of what is read). */
const SCAN_MIN_FILTERED_BATCH = 200

/** A record as IndexedDB holds it: `dirtyTable` is set only while dirty, so the `dirty` index is sparse. */
type IdbRecord = StoredRecord & { dirtyTable?: string }

type Db = IDBDatabase
type Tx = IDBTransaction
const STORES = ['records', 'scopes', 'meta'] as const

/** Options of {@link createIdbStore}. */
export interface IdbStoreOptions {
  /** The database name (the client uses `lastword:<name>`). */
  name: string
  /** The IndexedDB factory; defaults to the global `indexedDB`. Tests pass a fresh `fake-indexeddb` one. */
  indexedDB?: IDBFactory
  /** The key-range constructor matching the factory; defaults to the global `IDBKeyRange`. */
  IDBKeyRange?: typeof IDBKeyRange
  /**
   * The database was deleted, evicted or replaced while this store had it open (replica-marker.ts): told
   * when the store reopens it and finds another replica marker (or none).
   */
  onReplaced?: () => void
  /** The connection was closed under the store (`close`, `versionchange`): a reopen checks the marker. */
  onConnectionLost?: () => void
  /** Ids for the replica marker (default: the platform's randomness). */
  newMarkerId?: () => string
}

/** The IndexedDB store. */
export interface IdbStore extends LocalStore {
  /** The database name. */
  readonly name: string
  /** The replica marker's id of the database open now (`undefined` before the first open). */
  readonly replica: string | undefined
}

/**
 * Each IndexedDB store's current raw connection, opened if needed. Kept off the store's type: only
 * fault-injection tests need it (to force-close the connection), through `@lastword/client/testing`.
 */
const rawConnections = new WeakMap<LocalStore, () => Promise<IDBDatabase>>()

/** The raw connection of a store made by {@link createIdbStore}, or `undefined` for any other store. */
export function rawConnectionOf(store: LocalStore): (() => Promise<IDBDatabase>) | undefined {
  return rawConnections.get(store)
}

/**
 * Creates the IndexedDB store. Opening is lazy: the first transaction opens (and, if needed, creates or
 * upgrades) the database.
 *
 * @example
 * import { IDBFactory } from 'fake-indexeddb'
 * const store = createIdbStore({ name: 'lastword:test', indexedDB: new IDBFactory() })
 */
export function createIdbStore(options: IdbStoreOptions): IdbStore {
  const factory = options.indexedDB ?? globalThis.indexedDB
  if (factory === undefined) {
    throw new LastwordError('BAD_REQUEST', 'IndexedDB is not available here; pass `indexedDB` (e.g. from fake-indexeddb) or use createMemoryStore()')
  }
  const KeyRange = options.IDBKeyRange ?? globalThis.IDBKeyRange
  const { name } = options
  let current: Promise<Db> | null = null
  /** The connection `current` resolved to, once it did. */
  let currentDb: Db | null = null
  let closed = false
  /** Connections that were closed under us: a transaction that failed on one of them is retried. */
  const lost = new WeakSet<Db>()
  /** The replica marker of the database this store works on (replica-marker.ts). */
  let replica: string | undefined

  function drop(db: Db): void {
    if (!lost.has(db) && !closed) queueMicrotask(() => options.onConnectionLost?.())
    lost.add(db)
    if (currentDb === db) {
      current = null
      currentDb = null
    }
  }

  function open(): Promise<Db> {
    return openDatabase(factory, name, IDB_SCHEMA_VERSION, upgrade).then(async (db) => {
      db.addEventListener('close', () => drop(db))
      db.addEventListener('versionchange', () => {
        // Another connection upgrades or deletes the database: let it, reopen on the next transaction.
        drop(db)
        db.close()
      })
      // Before any transaction runs on it: is it still the database this store worked on?
      const id = await readOrCreateMarker(db, options.newMarkerId ?? defaultMarkerId)
      const replaced = replica !== undefined && id !== replica
      replica = id
      if (replaced) options.onReplaced?.()
      return db
    })
  }

  function connection(): Promise<Db> {
    if (closed) return Promise.reject(closedStoreError())
    if (current === null) {
      const opening = open()
      current = opening
      opening.then(
        (db) => {
          if (current === opening) currentDb = db
        },
        () => {
          if (current === opening) current = null
        },
      )
    }
    return current
  }

  async function transaction<T>(mode: StoreMode, fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let db: Db
      try {
        db = await connection()
      } catch (error) {
        throw toStoreError(error)
      }
      let tx: Tx
      try {
        tx = db.transaction([...STORES], mode, { durability: 'strict' })
      } catch (error) {
        // InvalidStateError: the connection is closing (force-closed, or a versionchange is pending).
        drop(db)
        if (attempt < 3 && !closed) continue
        throw closed ? closedStoreError() : toStoreError(error)
      }
      const done = transactionDone(tx)
      done.catch(() => undefined)
      try {
        const result = await fn(wrapTransaction(tx, KeyRange))
        await done
        return result
      } catch (error) {
        try {
          tx.abort()
        } catch {
          // Already finished or aborted.
        }
        if (lost.has(db) && attempt < 3 && !closed) continue
        throw closed ? closedStoreError() : toStoreError(error)
      }
    }
  }

  const store: IdbStore = {
    kind: 'indexeddb',
    name,
    get replica() {
      return replica
    },
    transaction,
    async clear() {
      if (closed) throw closedStoreError()
      // Deleted on purpose: a database made afterwards is a new replica, not a lost one.
      replica = undefined
      const db = current
      current = null
      currentDb = null
      if (db !== null) {
        const open = await db.catch(() => null)
        if (open !== null) {
          lost.add(open)
          open.close()
        }
      }
      try {
        await request(factory.deleteDatabase(name))
      } catch (error) {
        throw toStoreError(error)
      }
    },
    async close() {
      closed = true
      const db = current
      current = null
      currentDb = null
      if (db !== null) (await db.catch(() => null))?.close()
    },
  }
  rawConnections.set(store, () => connection())
  return store
}

function upgrade(db: Db, oldVersion: number): void {
  if (oldVersion < 1) {
    const records = db.createObjectStore('records', { keyPath: ['table', 'uid'] })
    records.createIndex('table', 'table')
    records.createIndex('dirty', 'dirtyTable')
    const scopes = db.createObjectStore('scopes', { keyPath: 'key' })
    scopes.createIndex('table', 'table')
    db.createObjectStore('meta')
  }
}

function toIdb(record: StoredRecord): IdbRecord {
  const out: IdbRecord = { ...record }
  if (record.dirty) out.dirtyTable = record.table
  else delete out.dirtyTable
  if (out.rejected === undefined) delete out.rejected
  return out
}

function fromIdb(value: IdbRecord): StoredRecord {
  const { dirtyTable: _ignored, ...record } = value
  return record
}

function wrapTransaction(tx: Tx, KeyRange: typeof IDBKeyRange | undefined): StoreTransaction {
  const records = tx.objectStore('records')
  const scopes = tx.objectStore('scopes')
  const meta = tx.objectStore('meta')

  async function scan(table: string, options: ScanOptions): Promise<StoredRecord[]> {
    const { after, limit, filter } = options
    if (KeyRange === undefined) {
      // One request through the `table` index (an index orders equal keys by primary key: uid order).
      let all = (await request<IdbRecord[]>(records.index('table').getAll(table))).map(fromIdb)
      if (after != null) all = all.filter((r) => r.uid > after)
      if (filter !== undefined) all = all.filter(filter)
      return limit === undefined ? all : all.slice(0, limit)
    }
    // `[table, []]` sorts after every `[table, string]`: arrays come after strings in key order.
    const rangeAfter = (from: string | null): IDBKeyRange => KeyRange.bound([table, from ?? ''], [table, []], from !== null, false)
    if (limit === undefined) {
      // Everything after `after`: one request on the primary key (no per-record lookup through the index).
      const all = (await request<IdbRecord[]>(records.getAll(rangeAfter(after ?? null)))).map(fromIdb)
      return filter === undefined ? all : all.filter(filter)
    }
    // Batches of `getAll` over the primary-key range, each starting after the last uid read: one request
    // per batch rather than one per record, and linear in what is read. Not a cursor: fake-indexeddb
    // (which tests and the benchmark run on) restarts its walk of a bounded range from the range's lower
    // bound on every `continue`, which made each full-reconciliation page quadratic.
    const out: StoredRecord[] = []
    const max = limit
    let from = after ?? null
    while (out.length < max) {
      const wanted = max - out.length
      // With a filter, some records read are dropped: read at least a modest batch even for a few wanted.
      const count = Math.min(SCAN_BATCH, filter === undefined ? wanted : Math.max(wanted, SCAN_MIN_FILTERED_BATCH))
      const values = await request<IdbRecord[]>(records.getAll(rangeAfter(from), count))
      for (const value of values) {
        const record = fromIdb(value)
        if (filter !== undefined && !filter(record)) continue
        out.push(record)
        if (out.length >= max) break
      }
      const last = values[values.length - 1]
      if (values.length < count || last === undefined) break
      from = last.uid
    }
    return out
  }

  /**
   * Records by uid in one pass. With key ranges: one probe of the keys between the least and the greatest
   * uid (at most twice as many as wanted); an empty span (a page of new records) costs nothing more, a
   * span no denser than that is read in one request; otherwise the gets are issued together.
   */
  async function getMany(table: string, uids: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    if (uids.length === 0) return []
    if (KeyRange !== undefined && uids.length > 1) {
      let min = uids[0] as string
      let max = min
      for (const uid of uids) {
        if (uid < min) min = uid
        if (uid > max) max = uid
      }
      const range = KeyRange.bound([table, min], [table, max])
      const cap = 2 * uids.length
      const keys = (await request(records.getAllKeys(range, cap + 1))) as [string, string][]
      if (keys.length <= cap) {
        const stored = new Set(keys.map((key) => key[1]))
        if (!uids.some((uid) => stored.has(uid))) return uids.map(() => undefined)
        const byUid = new Map<string, StoredRecord>()
        for (const value of await request<IdbRecord[]>(records.getAll(range, keys.length))) byUid.set(value.uid, fromIdb(value))
        return uids.map((uid) => byUid.get(uid))
      }
    }
    const values = await Promise.all(uids.map((uid) => request<IdbRecord | undefined>(records.get([table, uid]))))
    return values.map((value) => (value === undefined ? undefined : fromIdb(value)))
  }

  return {
    async getRecord(table, uid) {
      const value = await request<IdbRecord | undefined>(records.get([table, uid]))
      return value === undefined ? undefined : fromIdb(value)
    },
    getRecords: (table, uids) => getMany(table, uids),
    scanRecords: (table, options = {}) => scan(table, options),
    async dirtyRecords(table) {
      const index = records.index('dirty')
      const values = await request<IdbRecord[]>(table === undefined ? index.getAll() : index.getAll(table))
      return values.map(fromIdb)
    },
    countDirty: () => request(records.index('dirty').count()),
    async putRecord(record) {
      await request(records.put(toIdb(record)))
    },
    async putRecords(list) {
      // Issued together, awaited together: no round trip through the event loop per record.
      await Promise.all(list.map((record) => request(records.put(toIdb(record)))))
    },
    async deleteRecord(table, uid) {
      await request(records.delete([table, uid]))
    },
    async deleteRecords(table, uids) {
      await Promise.all(uids.map((uid) => request(records.delete([table, uid]))))
    },
    getScope: (key) => request<StoredScope | undefined>(scopes.get(key)),
    async listScopes(table) {
      return request<StoredScope[]>(table === undefined ? scopes.getAll() : scopes.index('table').getAll(table))
    },
    async putScope(scope) {
      await request(scopes.put(scope))
    },
    async deleteScope(key) {
      await request(scopes.delete(key))
    },
    getMeta: async <K extends keyof StoreMeta>(key: K) => (await request(meta.get(key))) as StoreMeta[K] | undefined,
    async putMeta(key, value) {
      await request(meta.put(value, key))
    },
    async deleteMeta(key) {
      await request(meta.delete(key))
    },
  }
}
