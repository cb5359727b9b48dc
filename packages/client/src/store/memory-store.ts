/**
 * The in-memory `LocalStore`: the same behaviour as the IndexedDB store (one suite runs against both),
 * nothing persisted. For tests, server-side rendering, and apps that do not want a local copy to outlive
 * the page. Transactions run one at a time; a failing one leaves nothing behind.
 */
import type { LocalStore, ScanOptions, StoreMeta, StoreMode, StoreTransaction, StoredRecord, StoredScope } from './types.js'
import { closedStoreError, toStoreError } from './store-errors.js'

const copy = <T>(value: T): T => structuredClone(value)

interface State {
  records: Map<string, Map<string, StoredRecord>>
  scopes: Map<string, StoredScope>
  meta: Map<string, unknown>
}

/**
 * Creates an in-memory store. Two clients given the same store object share it, as two tabs share one
 * IndexedDB database.
 *
 * @example
 * const client = createSyncClient({ name: 'app', url, store: createMemoryStore() })
 */
export function createMemoryStore(): LocalStore {
  let state: State = { records: new Map(), scopes: new Map(), meta: new Map() }
  /**
   * The committed uids of each table in key order, sorted on first use and dropped by a commit that adds
   * or removes one: a paged scan (full reconciliation) then costs its page, not a sort of the table.
   */
  let sortedUids = new Map<string, string[]>()
  let closed = false
  let queue: Promise<unknown> = Promise.resolve()

  async function run<T>(mode: StoreMode, fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    if (closed) throw closedStoreError()
    // Pending writes of this transaction; `null` marks a deletion.
    const records = new Map<string, Map<string, StoredRecord | null>>()
    const scopes = new Map<string, StoredScope | null>()
    const meta = new Map<string, unknown>()
    let finished = false
    const writable = (): void => {
      if (finished) throw new Error('InvalidStateError: the transaction has finished')
      if (mode !== 'readwrite') throw new Error('ReadOnlyError: the transaction is read-only')
    }
    const readRecord = (table: string, uid: string): StoredRecord | undefined => {
      const pending = records.get(table)?.get(uid)
      if (pending !== undefined) return pending ?? undefined
      return state.records.get(table)?.get(uid)
    }
    /** The table's uids in key order, this transaction's writes included. Read-only: may be the shared cache. */
    const tableUids = (table: string): readonly string[] => {
      const committed = state.records.get(table)
      let sorted = sortedUids.get(table)
      if (sorted === undefined) sortedUids.set(table, (sorted = [...(committed?.keys() ?? [])].sort(compareKeys)))
      const pending = records.get(table)
      if (pending === undefined) return sorted
      let same = true
      for (const [uid, value] of pending) if ((value !== null) !== (committed?.has(uid) === true)) same = false
      if (same) return sorted
      const uids = new Set<string>(sorted)
      for (const [uid, value] of pending) {
        if (value === null) uids.delete(uid)
        else uids.add(uid)
      }
      return [...uids].sort(compareKeys)
    }
    const readScope = (key: string): StoredScope | undefined => {
      const pending = scopes.get(key)
      if (pending !== undefined) return pending ?? undefined
      return state.scopes.get(key)
    }
    const scopeKeys = (): string[] => {
      const keys = new Set<string>(state.scopes.keys())
      for (const [key, value] of scopes) {
        if (value === null) keys.delete(key)
        else keys.add(key)
      }
      return [...keys].sort(compareKeys)
    }
    const dirty = (table?: string): StoredRecord[] => {
      const tables = table === undefined ? [...new Set([...state.records.keys(), ...records.keys()])].sort(compareKeys) : [table]
      const out: StoredRecord[] = []
      for (const t of tables) {
        for (const uid of tableUids(t)) {
          const record = readRecord(t, uid)
          if (record?.dirty === true) out.push(record)
        }
      }
      return out
    }

    const tx: StoreTransaction = {
      async getRecord(table, uid) {
        const record = readRecord(table, uid)
        return record === undefined ? undefined : copy(record)
      },
      async getRecords(table, uids) {
        return uids.map((uid) => {
          const record = readRecord(table, uid)
          return record === undefined ? undefined : copy(record)
        })
      },
      async scanRecords(table, options: ScanOptions = {}) {
        const out: StoredRecord[] = []
        const limit = options.limit ?? Infinity
        const uids = tableUids(table)
        for (let i = options.after == null ? 0 : firstAfter(uids, options.after); i < uids.length && out.length < limit; i++) {
          const record = readRecord(table, uids[i] as string) as StoredRecord
          if (options.filter === undefined || options.filter(record)) out.push(copy(record))
        }
        return out
      },
      async dirtyRecords(table) {
        return dirty(table).map(copy)
      },
      async countDirty() {
        return dirty().length
      },
      async putRecord(record) {
        writable()
        let pending = records.get(record.table)
        if (pending === undefined) records.set(record.table, (pending = new Map()))
        pending.set(record.uid, copy(record))
      },
      async putRecords(list) {
        writable()
        for (const record of list) {
          let pending = records.get(record.table)
          if (pending === undefined) records.set(record.table, (pending = new Map()))
          pending.set(record.uid, copy(record))
        }
      },
      async deleteRecord(table, uid) {
        writable()
        let pending = records.get(table)
        if (pending === undefined) records.set(table, (pending = new Map()))
        pending.set(uid, null)
      },
      async deleteRecords(table, uids) {
        writable()
        let pending = records.get(table)
        if (pending === undefined) records.set(table, (pending = new Map()))
        for (const uid of uids) pending.set(uid, null)
      },
      async getScope(key) {
        const scope = readScope(key)
        return scope === undefined ? undefined : copy(scope)
      },
      async listScopes(table) {
        const out: StoredScope[] = []
        for (const key of scopeKeys()) {
          const scope = readScope(key) as StoredScope
          if (table === undefined || scope.table === table) out.push(copy(scope))
        }
        return out
      },
      async putScope(scope) {
        writable()
        scopes.set(scope.key, copy(scope))
      },
      async deleteScope(key) {
        writable()
        scopes.set(key, null)
      },
      async getMeta<K extends keyof StoreMeta>(key: K) {
        const value = meta.has(key) ? meta.get(key) : state.meta.get(key)
        return value === undefined ? undefined : (copy(value) as StoreMeta[K])
      },
      async putMeta(key, value) {
        writable()
        meta.set(key, copy(value))
      },
      async deleteMeta(key) {
        writable()
        meta.set(key, undefined)
      },
    }

    try {
      const result = await fn(tx)
      if (closed) throw closedStoreError()
      for (const [table, pending] of records) {
        let base = state.records.get(table)
        if (base === undefined) state.records.set(table, (base = new Map()))
        let keysChanged = false
        for (const [uid, value] of pending) {
          if (value === null) keysChanged = base.delete(uid) || keysChanged
          else {
            keysChanged ||= !base.has(uid)
            base.set(uid, value)
          }
        }
        if (keysChanged) sortedUids.delete(table)
      }
      for (const [key, value] of scopes) {
        if (value === null) state.scopes.delete(key)
        else state.scopes.set(key, value)
      }
      for (const [key, value] of meta) {
        if (value === undefined) state.meta.delete(key)
        else state.meta.set(key, value)
      }
      return result
    } catch (error) {
      throw toStoreError(error)
    } finally {
      finished = true
    }
  }

  return {
    kind: 'memory',
    transaction<T>(mode: StoreMode, fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
      // One transaction at a time, as IndexedDB runs overlapping readwrite transactions.
      const result = queue.then(() => run(mode, fn))
      queue = result.catch(() => undefined)
      return result
    },
    async clear() {
      if (closed) throw closedStoreError()
      const done = queue.then(() => {
        state = { records: new Map(), scopes: new Map(), meta: new Map() }
        sortedUids = new Map()
      })
      queue = done
      await done
    },
    async close() {
      closed = true
    },
  }
}

/** The index of the first of `sorted` (in key order) that comes after `key`. */
function firstAfter(sorted: readonly string[], key: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys(sorted[mid] as string, key) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** IndexedDB's order of string keys: by UTF-16 code unit. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
