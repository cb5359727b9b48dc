/**
 * The `LocalStore` seam (a small interface with a default, so tests swap it): where the client keeps
 * its records, its scopes' checkpoints and its own metadata. Two implementations: IndexedDB through
 * `idb` (the default) and in memory. One behaviour suite (`test/store-suite.ts`) runs against both.
 */
import type { FullCursor, RowValues, Stamp, TableDescriptor, Where, WireError } from '@lastword/core'

/** A record as the client keeps it: `[table, uid]` is its key. */
export interface StoredRecord {
  table: string
  uid: string
  /**
   * The app's columns. For a tombstone: the last image known locally (what scopes match it by), or
   * `null` when it arrived as a bare tombstone. Tombstones are never readable through table handles.
   */
  row: RowValues | null
  created_at: Stamp
  updated_at: Stamp
  deleted_at: Stamp | null
  /** Written locally and not yet acknowledged by the server: pushed with the next sync. */
  dirty: boolean
  /** Whether the server ever acknowledged this record (docs/guarantees.md: a client reset by retention). */
  acknowledged: boolean
  /**
   * The point of the server's history (`<db>.<segment>.<rev>`) the acknowledged state was read at: the
   * evidence the server needs to call the record purged if it no longer knows it (SPEC.md R12).
   */
  knownAt?: string
  /** Why the server refused the last push of this record; the data is kept, never deleted silently. */
  rejected?: WireError
  /** Its stamps were re-made after the server refused this device's clock (SPEC.md P6); cleared by the next local write. */
  restamped?: true
  /**
   * Columns a schema change added after this record's last local write (SPEC.md section 11, SV2): read as
   * null, left out of its push (the server keeps its values) until the server's state completes it.
   */
  unknown?: string[]
  /** Tables declared `merge: 'field'` (core's SPEC.md section 3a): each column's stamp. */
  fields?: Readonly<Record<string, Stamp>>
  /** Tables declared `merge: 'field'`: the columns written locally and not yet acknowledged (a push carries these). */
  changed?: readonly string[]
  /**
   * The write sequence number of the record's last local write: monotonic per replica (every tab's
   * writes share the counter, `StoreMeta.seq`). Dirty records are pushed in this order, across tables
   * (SPEC.md section 12, U2).
   */
  seq?: number
  /**
   * The local transaction (`client.transaction`) the record's last write belongs to: its records are
   * pushed together as one atomic unit (U1). A later write of the record outside it takes it out.
   */
  unit?: string
}

/** A synced scope: a table and a filter, with where its sync stands. Keyed by core's `scopeKey`. */
export interface StoredScope {
  key: string
  table: string
  /** The canonical filter, in wire form (timestamps as ISO strings). */
  where: Where
  /** The incremental checkpoint token, or `null` when the next sync must be a full reconciliation. */
  checkpoint: string | null
  /** Where an interrupted, paged full reconciliation stands (resumed from here), or `null`. */
  fullCursor: FullCursor | null
  /** When the last sync of this scope completed (client clock, ms), or `null`. */
  syncedAt: number | null
  /**
   * The point of the server's history (`<db>.<segment>.<rev>`) of the latest realtime event applied to
   * this scope past its checkpoint; sent with the next pull (`seen`) and dropped once a checkpoint covers it.
   */
  seen?: string
}

/** The lease of the sync owner among tabs, when Web Locks are not available. */
export interface OwnerLease {
  /** The owner's node id. */
  tab: string
  /** Wall-clock ms after which another tab may take over. */
  expiresAt: number
}

/** The client's own metadata, by key. */
export interface StoreMeta {
  /** The clock's last stamp, persisted with every write: stamps never go backwards across restarts. */
  clock: Stamp
  /** The learned server offset (ms to add to the local clock). */
  offset: number
  /** The table descriptors last received from the server (so a client can start offline). */
  tables: TableDescriptor[]
  /** The sync owner's lease (fallback when `navigator.locks` is absent). */
  owner: OwnerLease
  /** The last write sequence number given (StoredRecord.seq), persisted with every write. */
  seq: number
}

/** Which records a scan returns, in uid order. */
export interface ScanOptions {
  /** Only uids strictly after this one. */
  after?: string | null
  /** At most this many (after filtering). */
  limit?: number
  /** Only records for which this returns `true`. */
  filter?: (record: StoredRecord) => boolean
}

/**
 * One transaction of a {@link LocalStore}. Inside the callback, await only the methods of this object:
 * an IndexedDB transaction auto-commits as soon as anything else is awaited (ARCHITECTURE.md, "Known
 * gotchas"). Values read are copies; writes are visible to later reads of the same transaction.
 */
export interface StoreTransaction {
  getRecord(table: string, uid: string): Promise<StoredRecord | undefined>
  /**
   * Several records of one table in one pass (one range read, or requests issued together, never one
   * awaited per uid): the result is in the order of `uids`, `undefined` where none is stored.
   */
  getRecords(table: string, uids: readonly string[]): Promise<(StoredRecord | undefined)[]>
  /** Records of a table in uid order. */
  scanRecords(table: string, options?: ScanOptions): Promise<StoredRecord[]>
  /** Dirty records of one table, or of every table, in `[table, uid]` order. */
  dirtyRecords(table?: string): Promise<StoredRecord[]>
  /** How many records are dirty, in every table. */
  countDirty(): Promise<number>
  putRecord(record: StoredRecord): Promise<void>
  /** Writes several records, issued together (the same as `putRecord` of each, in order). */
  putRecords(records: readonly StoredRecord[]): Promise<void>
  deleteRecord(table: string, uid: string): Promise<void>
  /** Deletes several records of one table, issued together. */
  deleteRecords(table: string, uids: readonly string[]): Promise<void>
  getScope(key: string): Promise<StoredScope | undefined>
  /** Stored scopes, of one table or of all. */
  listScopes(table?: string): Promise<StoredScope[]>
  putScope(scope: StoredScope): Promise<void>
  deleteScope(key: string): Promise<void>
  getMeta<K extends keyof StoreMeta>(key: K): Promise<StoreMeta[K] | undefined>
  putMeta<K extends keyof StoreMeta>(key: K, value: StoreMeta[K]): Promise<void>
  deleteMeta(key: keyof StoreMeta): Promise<void>
}

/** Transaction modes. */
export type StoreMode = 'readonly' | 'readwrite'

/**
 * Where the client keeps its data. `transaction` runs `fn` atomically: every write of a `readwrite`
 * transaction is committed (durably, for IndexedDB) or none is. Errors are `LastwordError`s:
 * `QUOTA_EXCEEDED` when storage is full, `CLOSED` after {@link LocalStore.close}.
 */
export interface LocalStore {
  /** What backs it: `'indexeddb'`, `'memory'`, or a custom name. */
  readonly kind: string
  transaction<T>(mode: StoreMode, fn: (tx: StoreTransaction) => Promise<T>): Promise<T>
  /** Wipes every record, scope and meta entry (for IndexedDB: deletes the database). */
  clear(): Promise<void>
  /** Releases the store; later transactions fail with `CLOSED`. */
  close(): Promise<void>
}
