/**
 * @lastword/client — offline-first sync for the browser: a local copy of the scopes the app uses
 * (IndexedDB), readable and writable with no connection, reconciled with a lastword server.
 *
 * The exports below are the supported surface (pinned by test/public-api.test.ts). Seams only tests
 * need live in `@lastword/client/testing`.
 */

// Client
export { createSyncClient } from './client.js'
export type { SyncClient, SyncClientOptions, TableHandle, TableHandleOf, TableAccessor, ClientStatus, ClientEvents } from './client-api.js'

// Types of a client typed by the app's schema (core's, so an app needs no other lastword package)
export type {
  SyncSchema,
  TableName,
  CreateInput,
  UpdatePatch,
  TypedWhere,
  TypedWhereOps,
  FilterValue,
  TableDescriptor,
  TableDescriptorJson,
} from '@lastword/core'

// Inspection (devtools)
export { INSPECT_LIMITS } from './inspect.js'
export type {
  ClientInspection,
  ScopeInspection,
  PendingRecordInspection,
  PendingState,
  RejectedRecordInspection,
  ErrorInspection,
} from './inspect.js'

// Errors and filters (from core, so that an app needs no other lastword package to handle them)
export { LastwordError, isLastwordError, ERROR_CODES } from '@lastword/core'
export type { ErrorCode, WireError, Where } from '@lastword/core'

// For framework bindings (@lastword/react, @lastword/vue): the sync status and query arguments by value
export { readSyncStatus, STATUS_EVENTS, argsKey } from './binding-support.js'
export type { SyncStatus, SyncStatusEvent } from './binding-support.js'

// Queries
export type { QueryOptions, OrderBy, ReadRow } from './query.js'

// Sync
export type { ClockEvent, SyncReport, SyncProgress } from './sync/driver.js'
export type { SchemaEvent } from './client-api.js'
export type { RetryOptions } from './runtime.js'

// Runtime seam (time, timers, randomness)
export { createDefaultRuntime } from './runtime.js'
export type { Runtime, CancelTimer } from './runtime.js'

// Local store seam
export { createMemoryStore } from './store/memory-store.js'
export { createIdbStore, IDB_SCHEMA_VERSION } from './store/idb-store.js'
export type { IdbStore, IdbStoreOptions } from './store/idb-store.js'
export type { LocalStore, StoreTransaction, StoreMode, StoredRecord, StoredScope, ScanOptions } from './store/types.js'

// Transport seam
export { createSocketTransport } from './transport.js'
export type { Transport, TransportHandlers, SocketTransportOptions, RequestOf, ReplyOf } from './transport.js'

// Clock and ids
export type { Clock } from './clock.js'
export { uuidv7 } from './ids.js'

// Tabs
export type { TabOptions, LockManagerLike, BroadcastChannelFactory } from './tabs/coordinator.js'

// Status, logging, what happened to local edits, storage
export type { ClientLogger, LogLevel } from './status/logger.js'
export type { SyncedState } from './status/sync-status.js'
export type { EditEvent, EditWinner } from './edits/edit-events.js'
export type { RejectedEdit } from './edits/rejected-edits.js'
export type { StorageEvent, StorageManagerLike, StoragePersistence, StorageState } from './storage/storage-status.js'
