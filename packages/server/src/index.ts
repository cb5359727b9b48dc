/**
 * @lastword/server — serves Drizzle tables to lastword clients: tombstone-aware services, the sync
 * endpoint over socket.io, realtime fan-out and the authentication and authorization hooks.
 */

// The sync server
export { createSyncServer } from './create-sync-server.js'
export type { SyncServerOptions, SyncServer } from './create-sync-server.js'

// Several nodes on one database
export { preparePostgresAdapter, COMMITTED_EVENT, DEFAULT_ATTACHMENTS_TABLE } from './cluster/index.js'
export type { ClusterOptions, ClusterStats, PreparePostgresAdapterOptions } from './cluster/index.js'

// Transport (socket.io)
export type { AttachTarget } from './transport/transport.js'
export type { Authenticate, AuthenticateContext, SyncIoServer, SyncSocket } from './transport/types.js'

// The engine (storage, services, sync), for tools and tests that need it without a transport
export { createEngine } from './engine/index.js'
export type { Engine, EngineOptions, EngineHooks, SyncDatabase, TableInput, AnyDrizzleTable } from './engine/index.js'

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
} from './types.js'
