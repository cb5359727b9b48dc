/**
 * The server's internal seams: the engine (storage, services, sync) and what the transport needs of it.
 * `engine/` implements {@link SyncEngine}; `transport/` (socket.io, auth, realtime) uses it.
 */
import type {
  CompiledScope,
  PushAnswer,
  PushOutcome,
  PushRequest,
  ReadRow,
  RecordMeta,
  Scope,
  ServiceCreateInput,
  SyncPage,
  SyncRequest,
  TableDescriptor,
  TypedWhere,
  UpdatePatch,
  Where,
  WireRecord,
} from '@lastword/core'

/** Whoever `authenticate` says is on the other end. Apps put what they need in it (tenant, roles…). */
export interface Principal {
  /** A stable id of the user or device. */
  id: string
  /** Epoch ms at which the session ends; the socket is closed then. */
  expiresAt?: number
  readonly [key: string]: unknown
}

/** A row of an app table as the server sees it (normalised: timestamps as ISO strings). */
export type Row = Record<string, unknown>

export type WriteOp = 'create' | 'update' | 'delete'

/** What `authorize` is asked. */
export type AuthorizeRequest<P extends Principal = Principal> =
  | { op: 'read'; principal: P; table: string }
  | {
      op: WriteOp
      principal: P
      table: string
      uid: string
      /**
       * The stored row (`null` if none). For a deleted record, its last image: a re-create (`op: 'create'`)
       * or a new delete of a deleted record sees whose record it was, so "own rows only" protects it too.
       */
      before: Row | null
      /** The row after the write (`null` for a delete). */
      after: Row | null
    }

/**
 * For `read`: `true` (no restriction), `false` (refuse), or a `Where` AND-ed with the client's filter.
 * For writes: `true` to allow, `false` to refuse.
 */
export type AuthorizeResult = boolean | Where

export type Authorize<P extends Principal = Principal> = (request: AuthorizeRequest<P>) => AuthorizeResult | Promise<AuthorizeResult>

/** Who is asking: a principal over the wire, or the app itself (`system`) through the services. */
export interface RequestContext<P extends Principal = Principal> {
  principal: P | null
  /**
   * Who sent the request (the transport's session), opaque to the engine: the commit it makes is
   * published with it ({@link CommitListener}), so realtime leaves it out of that socket's deliveries.
   */
  origin?: unknown
}

/** Per-table configuration beyond the Drizzle table itself. */
export interface TableOptions<P extends Principal = Principal> {
  /**
   * Server-owned columns and how to fill them on create from the principal (tenant, owner…). Clients
   * can never write them (attack V3, docs/guarantees.md); on update the stored value is kept.
   */
  serverColumns?: Record<string, (principal: P | null) => unknown>
  /**
   * Columns renamed by this version of the schema, `{ newName: 'oldName' }` (README, "Schema changes"):
   * `migrate()` records the rename, so clients that wrote under the old name keep their values. Keep the
   * entry while clients of the old schema may be offline; an entry that no longer applies is ignored.
   */
  renamed?: Record<string, string>
  /**
   * How concurrent writes of one record resolve (core's SPEC.md section 3a): `'row'` (the default) the
   * whole row, last writer wins; `'field'` column by column — concurrent edits of different columns both
   * survive. Sent to clients in the table's descriptor.
   */
  merge?: 'row' | 'field'
  /**
   * Whether writes that do not go through lastword are captured (ARCHITECTURE.md, "Capture"): a plain
   * Drizzle statement, raw SQL, another process or a migration writing the table reaches clients, and
   * rows that predate lastword are backfilled. `true` by default; `false`: only lastword's own writes
   * (services, pushes) sync, no trigger is installed and no backfill runs for this table.
   */
  capture?: boolean
}

/** Options of the backfill (`migrate()` runs it; `backfill()` runs it on its own). */
export interface BackfillOptions {
  /** Rows per transaction (default 1,000): each batch commits on its own, so an interrupted backfill, run again, writes only what is still missing. */
  batchSize?: number
}

/** What a backfill did: rows given metadata and revs, per synced table. */
export interface BackfillReport {
  rows: Record<string, number>
}

/** Options of `migrate()`. */
export interface MigrateOptions {
  /**
   * The backfill of rows lastword has no metadata for (rows written before the first `migrate()`, or
   * before the table was synced or captured): run as part of `migrate()` by default; `false` leaves it
   * to an explicit `backfill()`.
   */
  backfill?: false | BackfillOptions
}

/** Limits on wire requests (attack V6, docs/guarantees.md). All documented in the server README section. */
export interface Limits {
  /** socket.io `maxHttpBufferSize`, bytes. */
  maxMessageBytes: number
  /** Records in one push. */
  maxPushRecords: number
  /** Client metadata entries in one full-reconciliation request. */
  maxMetaEntries: number
  /** Rows per page (requests may ask for fewer). */
  maxPageSize: number
  /** Default rows per page. */
  defaultPageSize: number
  /** Live subscriptions per socket. */
  maxSubscriptionsPerSocket: number
  /** Conditions in one filter. */
  maxFilterConditions: number
  /** Values in one `in` list. */
  maxInValues: number
  /** Requests per second per socket (token bucket); beyond it: RATE_LIMITED. */
  maxRequestsPerSecond: number
  /** How far ahead of the server's clock a stamp may be, ms. */
  maxDriftMs: number
  /**
   * Bytes of the socket.io CONNECT packet (the handshake, `auth` included), and of any packet before it:
   * what an unauthenticated connection may make the server parse.
   */
  maxHandshakeBytes: number
  /**
   * How long `authenticate` may take (then `TRANSIENT`), ms; a connection not authenticated within twice
   * this (socket.io's `connectTimeout`) is closed.
   */
  handshakeTimeoutMs: number
  /**
   * Bytes queued for one socket and not yet taken by the network (answers, realtime events). Past it the
   * socket stops being served and is disconnected: a client that stops reading cannot grow the heap.
   */
  maxQueuedBytesPerSocket: number
  /** How long a handshake's clientId stays bound to its principal after its last use, ms (V7). */
  clientIdBindingMs: number
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxPushRecords: 5_000,
  maxMetaEntries: 20_000,
  maxPageSize: 10_000,
  defaultPageSize: 2_000,
  maxSubscriptionsPerSocket: 64,
  maxFilterConditions: 32,
  maxInValues: 1_000,
  maxRequestsPerSecond: 200,
  maxDriftMs: 60_000,
  maxHandshakeBytes: 16 * 1024,
  handshakeTimeoutMs: 10_000,
  maxQueuedBytesPerSocket: 32 * 1024 * 1024,
  clientIdBindingMs: 30 * 24 * 3600_000,
}

/** One committed change, published to realtime after commit. */
export interface CommittedChange {
  table: string
  uid: string
  rev: number
  meta: RecordMeta
  /** The row before the change (`null` if there was none, or it was a tombstone). */
  before: Row | null
  /** The row after the change; `null` for a tombstone. */
  after: Row | null
  /** For a tombstone, the last image of the row (what scopes and authorization filter on). */
  lastImage: Row | null
  /** The point of the database's history at `rev` (`<db>.<segment>.<rev>`, SPEC.md R12), sent with realtime events. */
  knownAt?: string
  /** Tables declared `merge: 'field'`: each column's stamp (absent: every column at `meta.updated_at`). */
  fields?: Readonly<Record<string, string>>
}

/**
 * Told the changes of each commit, after it, in rev order; `origin` is the {@link RequestContext.origin}
 * of the request that made it (`undefined` for the app's own writes).
 */
export type CommitListener = (changes: readonly CommittedChange[], origin?: unknown) => void

/** A pino-compatible logger; silent by default. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/**
 * Tombstone-aware services of one table, for the app's own server code (run as `system`). `Select` and
 * `Insert` are the table's Drizzle select and insert models when the server is typed by its `tables`
 * (`sync.service('todos')`); rows are read with timestamps as ISO strings.
 */
export interface TableService<Select extends object = Row, Insert extends object = Select, Key extends string = 'uid'> {
  /** The live row with this uid (its key's value), or `null`. Rows carry the uid under the table's key. */
  findUnique(uid: string): Promise<ReadRow<Select, Key> | null>
  findMany(where?: TypedWhere<Select, Key>): Promise<ReadRow<Select, Key>[]>
  /** Creates a record stamped by the server's clock (Drizzle defaults filled in); returns its uid (the key given, or a UUIDv7). */
  create(row: ServiceCreateInput<Insert, Key>): Promise<string>
  /** Merges `patch` into the stored row (server-owned columns included: the app writes as the system). */
  update(uid: string, patch: UpdatePatch<Select, never, Key>): Promise<void>
  delete(uid: string): Promise<void>
  /** Applies records under the conflict rule; one outcome per record (see ARCHITECTURE.md, "Push"). */
  push(records: WireRecord[]): Promise<PushOutcome[]>
}

/** The effective scope of a request: the client's filter AND what `authorize` allowed. */
export interface EffectiveScope {
  scope: Scope
  /** `hashString(scopeKey(table, scope))`, the checkpoint token's scope hash. */
  hash: string
}

/** What the engine offers the transport. */
export interface SyncEngine {
  readonly dialect: 'sqlite' | 'postgres'
  readonly tables: readonly TableDescriptor[]
  /**
   * Creates lastword's own tables, idempotently; the first run gives the database its id. Each run opens
   * a segment of the database's history (SPEC.md R12): after a restore, a restart is enough for clients
   * past the backup to be reconciled, never trusted.
   */
  migrate(options?: MigrateOptions): Promise<void>
  /**
   * Gives every row of a captured table that lastword has no live metadata for (it predates lastword, the
   * table's sync, or its capture) its metadata and a rev, in batches of `batchSize` rows, each its own
   * transaction: interrupted and run again, it writes only the rows still missing; with nothing missing, nothing. Progress
   * goes to the logger (`info`). `migrate()` runs it unless told not to.
   */
  backfill(options?: BackfillOptions): Promise<BackfillReport>
  /**
   * Tells the engine the database was restored (or copied) under it: opens a segment of its history,
   * so a checkpoint or record acknowledged past the restored rev is judged outside it (SPEC.md R12).
   * `migrate()` does the same at a restart; this is for a restore while the process runs.
   */
  markRestored(): Promise<{ db: string; segment: string; from: number }>
  /**
   * Erases a record for good (its row, its metadata and last image, its change-log history) and tells
   * the clients that may hold it to drop it, dirty or not (`erased` on their next pull). Resolves
   * `false` when the database does not know the uid. What remains: the uid and the rev of the erasure,
   * until `purge` passes it.
   */
  erase(table: string, uid: string): Promise<boolean>
  /** The server's clock (ms), sent with every answer. */
  now(): number
  /**
   * Binds a handshake's clientId to the principal that first presented it, in the database (across
   * nodes), for `limits.clientIdBindingMs` after its last use. Resolves `false` when another principal
   * holds it (V7).
   */
  bindClient(clientId: string, principalId: string): Promise<boolean>
  /** Resolves the effective scope, calling `authorize({ op: 'read' })`; FORBIDDEN if refused. */
  effectiveScope(ctx: RequestContext, table: string, where: unknown): Promise<EffectiveScope>
  /**
   * Validates and compiles a client's filter once, for a scope that lives on (a subscription): its
   * matcher, key and hash are reused for every event instead of validating the filter again.
   */
  compileFilter(table: string, where: unknown): CompiledScope
  /**
   * What `authorize({ op: 'read' })` lets the principal read now, compiled: `null` = everything;
   * FORBIDDEN if refused. The effective scope is the client's filter AND this.
   */
  readScope(ctx: RequestContext, table: string): Promise<CompiledScope | null>
  /** Handles one already schema-checked `lw:sync` request (ARCHITECTURE.md). Throws `LastwordError`. */
  sync(ctx: RequestContext, request: SyncRequest): Promise<SyncPage>
  /**
   * Handles one already schema-checked `lw:push` request (protocol 7, SPEC.md section 12): its units in
   * order, each in one transaction spanning its tables. Throws `LastwordError`, before writing, for what
   * it refuses whole (too many records, an unknown table or schema version).
   */
  push(ctx: RequestContext, request: PushRequest): Promise<PushAnswer>
  /** Services of a table, for the app. */
  service(table: string): TableService
  /** Compacts tombstones and the change log up to a horizon; older checkpoints must resync. */
  purge(options: { olderThanMs: number }): Promise<{ horizonRev: number; tombstones: number; changes: number }>
  /** Subscribes to committed changes (after commit, in rev order). Returns an unsubscribe function. */
  onCommit(listener: CommitListener): () => void
  close(): Promise<void>
}
