/**
 * @lastword/client — offline-first sync for the browser: a local copy of the scopes the app uses
 * (IndexedDB), readable and writable with no connection, reconciled with a lastword server.
 */

// Client
export { createSyncClient } from './client.js'
export type { SyncClient, SyncClientOptions, TableHandle, ClientStatus, ClientEvents } from './client.js'

// Queries
export type { QueryOptions, OrderBy, ReadRow } from './query.js'

// Sync
export type { SyncReport, SyncProgress, RetryOptions, TestHooks } from './sync-driver.js'

// Local store seam
export { createMemoryStore } from './store/memory-store.js'
export { createIdbStore, IDB_SCHEMA_VERSION } from './store/idb-store.js'
export type { IdbStore, IdbStoreOptions } from './store/idb-store.js'
export type { LocalStore, StoreTransaction, StoreMode, StoredRecord, StoredScope, StoreMeta, ScanOptions, OwnerLease } from './store/types.js'

// Transport seam
export { createSocketTransport } from './transport.js'
export type { Transport, TransportHandlers, SocketTransportOptions, RequestOf, ReplyOf } from './transport.js'

// Clock and ids
export type { Clock } from './clock.js'
export { uuidv7 } from './ids.js'

// Tabs
export type { TabOptions, LockManagerLike, BroadcastChannelFactory } from './tabs.js'
