/**
 * The client's public shapes: its options, its status and events, the table handle and the client
 * itself. `client.ts` builds one from the modules that own each job.
 */
import type { LastwordError, RowValues, TableDescriptor, Where } from '@lastword/core'
import type { Socket } from 'socket.io-client'
import type { Clock } from './clock.js'
import type { QueryOptions, ReadRow } from './query.js'
import type { RetryOptions, Runtime } from './runtime.js'
import type { LocalStore, StoredRecord } from './store/types.js'
import type { ClockEvent, SyncProgress, SyncReport } from './sync/driver.js'
import type { TabOptions } from './tabs/coordinator.js'
import type { Transport } from './transport.js'

/** Where the client stands: no connection, connecting, syncing, or connected and idle. */
export type ClientStatus = 'offline' | 'connecting' | 'syncing' | 'online'

/** Events of a client, by name. */
export interface ClientEvents {
  [event: string]: unknown
  status: ClientStatus
  /** One per completed sync of a scope. */
  sync: SyncReport
  error: LastwordError
  /** The number of dirty records (written locally, not yet acknowledged). */
  pending: number
  progress: SyncProgress
  /** A clock problem: the server refused this device's clock (the owner tab's client tells it). */
  clock: ClockEvent
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
  /** Table descriptors; without them they come from the server's `lw:hello` and are kept locally. */
  tables?: TableDescriptor[]
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
  /** Delay between a local write and the push that sends it, ms. Default 0: at once (writes made while a push is in flight go in the next one). */
  syncDebounceMs?: number
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
}

/** A handle on one synced table. `Row` is the app's row type (a type-only import of its schema). */
export interface TableHandle<Row extends object> {
  readonly name: string
  /** Creates a record locally (a UUIDv7 uid unless `uid` is given) and returns its uid. */
  create(row: Partial<Row> & { uid?: string }): Promise<string>
  /** Merges `patch` into the record's row and re-stamps it. `NOT_FOUND` if absent or deleted. */
  update(uid: string, patch: Partial<Row>): Promise<void>
  /** Deletes the record (a tombstone, pushed like any write). `NOT_FOUND` if absent or deleted. */
  delete(uid: string): Promise<void>
  /** The live record with this uid, or `null`. */
  findUnique(uid: string): Promise<ReadRow<Row> | null>
  /** The live records matching `where` (core's matcher), sorted and limited. */
  findMany(where?: Where, options?: QueryOptions): Promise<ReadRow<Row>[]>
  /**
   * A live query: `callback` gets the matching rows now and after every local or remote change that
   * affects them. While at least one subscriber holds it, the scope is kept synced (and live on the
   * server). Returns the unsubscribe function.
   */
  subscribe(where: Where, callback: (rows: ReadRow<Row>[]) => void, options?: QueryOptions): () => void
  /** The stored record with its metadata (stamps, `dirty`, `acknowledged`, `rejected`), tombstones included. */
  record(uid: string): Promise<StoredRecord | null>
}

/** A sync client. */
export interface SyncClient {
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
  /** Whether this client is the sync owner among the tabs sharing its database. */
  readonly isOwner: boolean
  /** The local store. */
  readonly store: LocalStore
  table<Row extends object = RowValues>(name: string): TableHandle<Row>
  /** Syncs every subscribed scope now (in a non-owner tab: asks the owner). Rejects when offline. */
  sync(): Promise<void>
  /** How many records are dirty (written locally, not yet acknowledged). */
  pendingCount(): Promise<number>
  on<E extends keyof ClientEvents>(event: E, listener: (payload: ClientEvents[E]) => void): () => void
  /** Stops syncing on purpose (work offline) until {@link SyncClient.connect}. */
  disconnect(): void
  connect(): void
  /** Resolves once the local store is open and the clock restored. */
  ready(): Promise<void>
  close(): Promise<void>
  /** Wipes the local database (sign-out) and closes the client. */
  clear(): Promise<void>
}
