/**
 * @lastword/server — serves Drizzle tables to lastword clients: tombstone-aware services, the sync
 * endpoint over socket.io, realtime fan-out and the authentication and authorization hooks.
 *
 * Every name exported here is a decision (test/public-surface.test.ts pins the list); seams for tests
 * are in @lastword/server/testing.
 */

// The sync server
export { createSyncServer } from './create-sync-server.js'
export type { SyncServerOptions, SyncServer, SyncTables, ServiceOf } from './create-sync-server.js'

// The table descriptors of the app's tables, for the browser (written out at build time)
export { describeTables } from './describe-tables.js'

// Several nodes on one database
export { preparePostgresAdapter, COMMITTED_EVENT, DEFAULT_ATTACHMENTS_TABLE } from './cluster/index.js'
export type { ClusterOptions, ClusterStats, PreparePostgresAdapterOptions } from './cluster/index.js'

// The change feed (every writer's commits to realtime) and the change hooks
export type { FeedOptions, FeedStats, FeedTimers } from './feed/index.js'
export type { ChangeHook, ChangeHandler, ChangeHookRetry, ChangeHookStats } from './hooks/index.js'
export type { ChangeEvent } from './engine/index.js'

// Transport (socket.io)
export type { AttachTarget } from './transport/transport.js'
export type { Authenticate, AuthenticateContext, SyncIoServer, SyncSocket } from './transport/types.js'

// The app's database and tables (the engine itself, without a transport, is in @lastword/server/testing)
export type { SyncDatabase, TableInput, AnyDrizzleTable } from './engine/index.js'
// Capture: lastword's triggers out of the way of DDL that a trigger blocks (SQLite DROP COLUMN)
export { dropCapture } from './engine/drop-capture.js'

// Errors, so an app handles them without depending on @lastword/core
export { LastwordError, isLastwordError, ERROR_CODES } from '@lastword/core'
export type { ErrorCode, WireError, Where, TableDescriptor, SyncSchema, TableName, TypedWhere, ServiceCreateInput, UpdatePatch, ReadRow } from '@lastword/core'

// Seams and shared types
export { DEFAULT_LIMITS } from './types.js'
export type {
  Principal,
  Row,
  WriteOp,
  AuthorizeRequest,
  AuthorizeResult,
  Authorize,
  RequestContext,
  TableOptions,
  Limits,
  CommittedChange,
  Logger,
  TableService,
  EffectiveScope,
  SyncEngine,
  MigrateOptions,
  BackfillOptions,
  BackfillReport,
} from './types.js'

// Operations: the metrics hook and the readiness check (README, "Metrics and readiness")
export type { MetricsSink, MetricLabels } from './metrics.js'
export type { ReadyResult } from './engine/readiness.js'
