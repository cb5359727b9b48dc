/**
 * The client's public shapes: its options, its status and events, the table handle and the client
 * itself. `client.ts` builds one from the modules that own each job.
 */
import type {
  CreateInput,
  LastwordError,
  KeyOf,
  SelectModelOf,
  ServerColumnsOf,
  SyncSchema,
  TableDescriptor,
  TableDescriptorJson,
  TableName,
  TypedWhere,
  UntypedRow,
  UpdatePatch,
} from '@lastword/core'
import type { Socket } from 'socket.io-client'
import type { Clock } from './clock.js'
import type { ClientInspection } from './inspect.js'
import type { QueryOptions, ReadRow } from './query.js'
import type { RetryOptions, Runtime } from './runtime.js'
import type { LocalStore, StoredRecord } from './store/types.js'
import type { ClockEvent, SyncProgress, SyncReport } from './sync/driver.js'
import type { TabOptions } from './tabs/coordinator.js'
import type { Transport } from './transport.js'
import type { ClientLogger } from './status/logger.js'
import type { SyncedState } from './status/sync-status.js'
import type { EditEvent } from './edits/edit-events.js'
import type { RejectedEdit } from './edits/rejected-edits.js'
import type { StorageEvent, StorageManagerLike, StorageState } from './storage/storage-status.js'

/** Where the client stands: no connection, connecting, syncing, or connected and idle. */
export type ClientStatus = 'offline' | 'connecting' | 'syncing' | 'online'

/** Events of a client, by name (`client.on` takes only these). */
export interface ClientEvents {
  status: ClientStatus
  /** One per completed sync of a scope. */
  sync: SyncReport
  error: LastwordError
  /** The number of dirty records (written locally, not yet acknowledged). */
  pending: number
  progress: SyncProgress
  /** A clock problem: the server refused this device's clock (the owner tab's client tells it). */
  clock: ClockEvent
  /** A sync of some scope completed (here or in another tab): `hasSynced` and `lastSyncedAt` now. */
  synced: SyncedState
  /** A local edit lost to a later write (`superseded`, with the winner when readable) or was refused (`rejected`). */
  edit: EditEvent
  /** Storage: the persistence the browser granted, or the local database lost under the running client. */
  storage: StorageEvent
  /** The schema of synced tables moved on: the app may reload its code (README, "Schema changes"). */
  schema: SchemaEvent
}

/**
 * A schema change seen by the client (the owner tab's client tells it). `migrated`: the server's
 * descriptors brought new schema versions and the stored records were migrated (`from` → `to` per
 * table). `outdated`: the server could not take writes made under this client's schema version (the app
 * gave its own `tables`, or its code is older): they stay dirty until the app upgrades; `current` is the
 * server's version, when it said.
 */
export type SchemaEvent =
  | { kind: 'migrated'; tables: Array<{ table: string; from: number; to: number }> }
  | { kind: 'outdated'; table: string; current: number | null }

/** Options of {@link createSyncClient}. */
export interface SyncClientOptions {
  /** The local database: one IndexedDB database `lastword:<name>` per name, shared by the tabs using it. */
  name: string
  /**
   * The sync server's URL (socket.io, `transports: ['websocket']`), or the URLs of several server nodes
   * on one database: the client uses one and moves to the next when a connection fails or is lost.
   */
  url?: string | readonly string[]
  /** Or a socket.io socket made by the app (not yet connected); lastword sets its `auth`. */
  socket?: Socket
  /** Or any transport (a fault-injecting one in tests). Without `url`, `socket` or `transport` the client stays offline. */
  transport?: Transport
  /**
   * Table descriptors (core's `TableDescriptor[]`, or the JSON `describeTables` of `@lastword/server`
   * writes from the app's Drizzle tables); without them they come from the server's `lw:hello` and are
   * kept locally, so a table is unknown (`UNKNOWN_TABLE`) until the client has connected once.
   */
  tables?: readonly (TableDescriptor | TableDescriptorJson)[]
  /** What the server's `authenticate` gets as `token`: a string, or a function asked on every connection. */
  auth?: { token?: string | (() => string | undefined | Promise<string | undefined>) }
  /** The physical clock (default: the runtime's); the learned server offset is added to it. */
  clock?: Clock
  /**
   * Time, timers and randomness (default: the environment's, with `clock` as its time). Tests pass
   * `createManualRuntime()` from `@lastword/client/testing` to drive time by hand.
   */
  runtime?: Runtime
  /** `'indexeddb'` (default), `'memory'`, or a store instance (which the app owns and closes). */
  store?: 'indexeddb' | 'memory' | LocalStore
  /** The IndexedDB factory (default: the global `indexedDB`). */
  indexedDB?: IDBFactory
  /** The key-range constructor of that factory (default: the global `IDBKeyRange`). */
  IDBKeyRange?: typeof IDBKeyRange
  /** Backoff of transient failures (and reconnections). */
  retry?: RetryOptions
  /** How long to wait for each server answer, ms. Default 30,000. */
  requestTimeoutMs?: number
  /** Rows per page asked of the server (it caps them). */
  pageSize?: number
  /** Records pushed per request; more go in follow-up requests. Default 5,000, the server's default `maxPushRecords` (keep it at or below the server's). */
  maxPushPerRequest?: number
  /** Tab coordination (one sync owner per name); `false` makes this client the owner, alone. */
  tabs?: TabOptions | false
  /** Connect on creation (default `true`); otherwise call `connect()`. */
  autoConnect?: boolean
  /**
   * Where the client logs (levels `debug`, `info`, `warn`, `error`, each optional). Default: warnings
   * and errors to the console; `false`: nothing.
   */
  logger?: ClientLogger | false
  /**
   * Ask the browser for persistent storage (`navigator.storage.persist()`) once the IndexedDB store is
   * open, so it is not evicted under storage pressure (default `true`; some browsers ask the user).
   */
  persistStorage?: boolean
  /** The StorageManager to ask (default `navigator.storage`; `null`: none). */
  storageManager?: StorageManagerLike | null
}

/**
 * A handle on one synced table. `Row` is the table's select model (from the schema given to
 * `createSyncClient`, or `client.table<Row>(name)` without one) and `ServerOwned` its server-owned
 * columns (the server's `serverColumns`): they are read, never written. Rows are read with timestamps
 * as ISO strings; filters and sorts name filterable columns only (core's `TypedWhere`). `TableHandle`
 * alone is untyped: what every typed handle is assignable to (for helpers that take any handle).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `TableHandle` alone: the type every typed handle is assignable to
export interface TableHandle<Row extends object = any, ServerOwned extends string = never, Key extends string = 'uid'> {
  readonly name: string
  /**
   * Creates a record locally and returns its uid: the key's value if the row gives one (`uid`, or the
   * table's own key, e.g. `id`; on a uuid key a UUID of either case, kept lowercase), else a UUIDv7. Every
   * non-nullable column the client writes is required (lastword applies no database default).
   */
  create(row: CreateInput<Row, ServerOwned, Key>): Promise<string>
  /** Merges `patch` into the record's row and re-stamps it. `NOT_FOUND` if absent or deleted. */
  update(uid: string, patch: UpdatePatch<Row, ServerOwned, Key>): Promise<void>
  /** Deletes the record (a tombstone, pushed like any write). `NOT_FOUND` if absent or deleted. */
  delete(uid: string): Promise<void>
  /** The live record with this uid (its key's value), or `null`. Rows carry the uid under the table's key. */
  findUnique(uid: string): Promise<ReadRow<Row, Key> | null>
  /** The live records matching `where` (core's matcher), sorted and limited. */
  findMany(where?: TypedWhere<Row, Key>, options?: QueryOptions<Row, Key>): Promise<ReadRow<Row, Key>[]>
  /**
   * A live query: `callback` gets the matching rows now and after every local or remote change that
   * affects them. While at least one subscriber holds it, the scope is kept synced (and live on the
   * server). Returns the unsubscribe function.
   */
  subscribe(where: TypedWhere<Row, Key>, callback: (rows: ReadRow<Row, Key>[]) => void, options?: QueryOptions<Row, Key>): () => void
  /** The stored record with its metadata (stamps, `dirty`, `acknowledged`, `rejected`), tombstones included. */
  record(uid: string): Promise<StoredRecord | null>
}

/** The handle of table `N` of schema `S`: its select model, less its server-owned columns for writes. */
export type TableHandleOf<S, N extends keyof S> = TableHandle<SelectModelOf<S[N]>, ServerColumnsOf<S[N]>, KeyOf<S[N]>>

/**
 * `client.table` of a client: without a schema, any name and the row type the app states
 * (`client.table<Todo>('todos')`, default untyped); with one, only the schema's table names.
 */
export type TableAccessor<S extends SyncSchema | undefined> = [S] extends [undefined]
  ? <Row extends object = UntypedRow, Key extends string = 'uid'>(name: string) => TableHandle<Row, never, Key>
  : <N extends TableName<S>>(name: N) => TableHandleOf<S, N & keyof S>

/** What a transaction offers of a table: its writes (reads see the store, not the transaction's own writes until it commits). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as TableHandle
export type TransactionTable<Row extends object = any, ServerOwned extends string = never> = Pick<TableHandle<Row, ServerOwned>, 'name' | 'create' | 'update' | 'delete'>

/** `tx.table` of a transaction: typed as `client.table`. */
export type TransactionAccessor<S extends SyncSchema | undefined> = [S] extends [undefined]
  ? <Row extends object = UntypedRow>(name: string) => TransactionTable<Row, never>
  : <N extends TableName<S>>(name: N) => TransactionTable<SelectModelOf<S[N & keyof S]>, ServerColumnsOf<S[N & keyof S]>>

/** The writer a `client.transaction` callback gets (SPEC.md section 12). */
export interface Transaction<S extends SyncSchema | undefined = undefined> {
  readonly table: TransactionAccessor<S>
}

/**
 * A sync client. `S` is the app's schema as a type (`createSyncClient<typeof tables>(…)`, core's
 * `SyncSchema`), `undefined` for an untyped client. `SyncClient` alone is untyped: what every typed
 * client is assignable to (for helpers and bindings that take any client).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export interface SyncClient<S extends SyncSchema | undefined = any> {
  readonly name: string
  /**
   * This client instance's id: its tab id, and the `clientId` its handshakes present (unless the server
   * refused it as bound to another principal — the app switched accounts — after which the client
   * presents a fresh one). Random and independent of the node id its stamps carry, so no stamp reveals it.
   */
  readonly clientId: string
  readonly status: ClientStatus
  /** The last error reported through the `error` event, or `null`. */
  readonly lastError: LastwordError | null
  /**
   * The last time the server refused this device's clock as too far ahead, with the skew it measured
   * (`null`: never, since this client started). The app may tell the user to fix the device's clock.
   */
  readonly clockRefused: ClockEvent | null
  /** Whether a sync of any scope ever completed for this local database (persisted: true after a reload). */
  readonly hasSynced: boolean
  /** When a sync last completed (server-corrected clock, ms; persisted), or `null`: never. */
  readonly lastSyncedAt: number | null
  /** The storage's persistence, and when the local database was last lost under this client. */
  readonly storage: StorageState
  /** Whether this client is the sync owner among the tabs sharing its database. */
  readonly isOwner: boolean
  /** The local store. */
  readonly store: LocalStore
  /** The handle on a synced table (one per name). */
  readonly table: TableAccessor<S>
  /**
   * Writes to several records, of any tables, as one unit: `fn` issues them through `tx.table(name)`
   * (checked as it calls, applied when it returns), and they commit in ONE local transaction — all or
   * nothing: a throw in `fn` or a failed write commits nothing and rejects with the error. Live queries
   * see them together; they are pushed together, in write order, and the server writes all of them or
   * none (UNIT_REFUSED, SPEC.md section 12). Resolves with `fn`'s result once committed locally.
   */
  transaction<T>(fn: (tx: Transaction<S>) => Promise<T> | T): Promise<T>
  /** The local edits the server refused (kept, not dirty), of every synced table or of one. */
  rejected(table?: string): Promise<RejectedEdit[]>
  /** Pushes a refused edit again, as it was. `NOT_FOUND` if that record holds no refused edit. */
  retry(table: string, uid: string): Promise<void>
  /**
   * Drops a refused edit: the server's version comes back with the next sync (a full reconciliation of
   * the table's scopes). `NOT_FOUND` if that record holds no refused edit.
   */
  discard(table: string, uid: string): Promise<void>
  /** Syncs every subscribed scope now (in a non-owner tab: asks the owner). Rejects when offline. */
  sync(): Promise<void>
  /** How many records are dirty (written locally, not yet acknowledged). */
  pendingCount(): Promise<number>
  on<E extends keyof ClientEvents>(event: E, listener: (payload: ClientEvents[E]) => void): () => void
  /**
   * A plain, JSON-serialisable snapshot of the client's state for devtools and bug reports: scopes and
   * their checkpoints, dirty records and why each waits, refused records, last errors, the clock, the
   * tab role. Reads only.
   */
  inspect(): Promise<ClientInspection>
  /** Stops syncing on purpose (work offline) until {@link SyncClient.connect}. */
  disconnect(): void
  connect(): void
  /** Resolves once the local store is open and the clock restored. */
  ready(): Promise<void>
  close(): Promise<void>
  /** Wipes the local database (sign-out) and closes the client. */
  clear(): Promise<void>
}
