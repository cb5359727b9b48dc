/**
 * `createSyncServer`: the one object an app's server meets. It creates the engine (storage, services,
 * sync) over the app's Drizzle database and tables, and the socket.io transport in front of it.
 */
import { performance } from 'node:perf_hooks'
import { LastwordError, type InsertModelOf, type KeyOf, type SelectModelOf, type TableName } from '@lastword/core'
import { createCluster, type Cluster, type ClusterOptions, type ClusterStats } from './cluster/index.js'
import { createEngine, type Engine, type EngineHooks, type SyncDatabase, type TableInput } from './engine/index.js'
import { createChangeFeed, type FeedOptions, type FeedStats } from './feed/index.js'
import { checkHooks, createHookRunners, type ChangeHook, type ChangeHookRetry, type ChangeHookStats } from './hooks/index.js'
import { createTransport, type AttachTarget } from './transport/transport.js'
import { silentLogger } from './transport/logger.js'
import type { Authenticate, SyncIoServer } from './transport/types.js'
import { createMeter, type MetricsSink } from './metrics.js'
import type { ReadyResult } from './engine/readiness.js'
import { DEFAULT_LIMITS, type Authorize, type Limits, type Logger, type Principal, type SyncEngine, type TableService, type MigrateOptions, type BackfillOptions, type BackfillReport } from './types.js'

/** The synced tables of a server, by the name clients use (the `tables` option). */
export type SyncTables<P extends Principal = Principal> = Record<string, TableInput<P>>

/**
 * The services of table `N` of `tables` `T`, typed by its Drizzle select and insert models (untyped
 * when `T` is not known, e.g. a `Record<string, TableInput>`).
 */
export type ServiceOf<T, N extends keyof T> = string extends keyof T ? TableService : TableService<SelectModelOf<T[N]>, InsertModelOf<T[N]>, KeyOf<T[N]>>

/** Options of {@link createSyncServer}. */
export interface SyncServerOptions<P extends Principal = Principal, T extends SyncTables<P> = SyncTables<P>> {
  /** The app's Drizzle database (better-sqlite3 or node-postgres). */
  db: SyncDatabase
  /**
   * The synced Drizzle tables by the name clients use: `{ todos }`, or `{ todos: { table: todos,
   * serverColumns: { tenant: (p) => p?.tenant } } }` for columns the server fills from the principal.
   * Each has one text, varchar or uuid primary key, under any name (`id: uuid('id').primaryKey()`): the
   * record's uid, which rows carry under that name; integer, composite or missing keys are refused here.
   * Its type types `service(name)`, and the client's
   * `createSyncClient<typeof tables>` (a type-only import of this object).
   */
  tables: T
  /**
   * Who is connecting: return a principal, or `null` / throw to refuse with `UNAUTHENTICATED`. Without
   * it, **every connection is the anonymous principal `{ id: 'anonymous' }`** — fine for a demo or a
   * single-user app, never for shared data.
   */
  authenticate?: Authenticate<P>
  /**
   * What a principal may read (a `where` AND-ed with the client's) and write (per row, before and
   * after). Runs on every sync, every push and every realtime delivery. Without it, everything is allowed.
   */
  authorize?: Authorize<P>
  /** Overrides of {@link DEFAULT_LIMITS}; see the README's limits table. */
  limits?: Partial<Limits>
  /** A pino-compatible logger; silent by default. */
  logger?: Logger
  /**
   * Origins browsers may connect from (`['https://app.example']`). When set, a request or WebSocket
   * upgrade whose `Origin` header is not listed is refused; requests without `Origin` (non-browser
   * clients, same-origin GETs) pass. Set it whenever cookies authenticate: socket.io's `cors` option
   * does not cover WebSocket upgrades.
   */
  allowedOrigins?: readonly string[]
  /** The server's clock, epoch ms (tests inject one). Default `Date.now`. */
  now?: () => number
  /**
   * Several server nodes on one PostgreSQL (README, "Running several server nodes"): each node
   * publishes its commits through the socket.io adapter and fans out the others' to its own sockets.
   * `{ adapter }` sets the adapter of the socket.io server `attach(httpServer)` creates; `{}` when you
   * `attach` a socket.io `Server` that already has one. Without it, a node fans out its own commits only.
   */
  cluster?: ClusterOptions
  /**
   * The change feed (README, "Realtime from every writer"): how this node notices commits of other
   * processes on its database — `pollIntervalMs` (SQLite's data version, 100), `checkIntervalMs` (the
   * version row as a backstop, 2,000), `batch` (5,000), `listen` (PostgreSQL LISTEN, `true`), `timers`
   * (a test seam).
   */
  feed?: FeedOptions
  /**
   * Change hooks by name (packages/server/README.md, "Change hooks"): each is called with every committed
   * change of the synced tables — whatever wrote it — after commit, at least once, in rev order, one
   * delivery at a time, from a durable cursor; a handler that throws gets the same changes again after a
   * backoff. `{ assignEmail: async (changes) => … }` or `{ assignEmail: { handler, tables: ['todos'] } }`.
   * They start once `migrate()` has run.
   */
  onChange?: Record<string, ChangeHook>
  /** How a failing change hook is retried: `{ baseMs: 1000, maxMs: 300000 }` (doubling). */
  onChangeRetry?: ChangeHookRetry
  /** Seams for tests (inside write transactions, around the overlap lock); none is needed in production. */
  hooks?: EngineHooks
  /**
   * Where lastword reports its metrics (connected sockets, syncs and pushed records, sync and fan-out
   * latency, queued bytes, errors by code): `{ counter, histogram, gauge }`, each optional (metrics.ts
   * lists the names; README, "Metrics and readiness"). None by default.
   */
  metrics?: MetricsSink
}

/**
 * What {@link createSyncServer} returns; `T` is the type of its `tables`. `SyncServer` alone (any
 * tables: service names unchecked, rows untyped) is what every typed server is assignable to.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one type every SyncServer<T> is assignable to
export interface SyncServer<T extends object = any> {
  /**
   * Creates lastword's own tables (metadata, change log, version row); idempotent. Call before serving,
   * after the app's own migrations: a synced table the database lacks (or a column of its schema) is
   * refused with `BAD_REQUEST` naming it, and nothing is created.
   */
  migrate(options?: MigrateOptions): Promise<void>
  /**
   * Backfills the rows of captured tables that lastword has no metadata for, in batches (each its own
   * transaction, resumable): see `SyncEngine.backfill`. `migrate()` runs it unless given `{ backfill: false }`.
   */
  backfill(options?: BackfillOptions): Promise<BackfillReport>
  /**
   * The readiness check for a load balancer or orchestrator: the database answers and lastword's tables
   * are migrated. Never throws: `{ ready: true, dialect, rev, durationMs }` or `{ ready: false, reason:
   * 'closed' | 'database-unreachable' | 'migrations-pending', message, durationMs }` (default timeout 5 s).
   */
  ready(options?: { timeoutMs?: number }): Promise<ReadyResult>
  /**
   * Serves the sync protocol on an HTTP(S) server (creating a socket.io server with
   * `maxHttpBufferSize = limits.maxMessageBytes`) or on an existing socket.io `Server` (whose main
   * namespace lastword then handles). Returns the socket.io server. May be called for several servers.
   */
  attach(target: AttachTarget): SyncIoServer
  /**
   * Tombstone-aware services of a table for the app's own code (they run as the system, not a
   * principal), typed by the table's Drizzle models: `sync.service('todos')`.
   */
  service<N extends TableName<T>>(table: N): ServiceOf<T, N & keyof T>
  /** Compacts tombstones and the change log older than `olderThanMs`; clients behind it resync fully. */
  purge(options: { olderThanMs: number }): ReturnType<SyncEngine['purge']>
  /** After restoring (or copying) the database under a running server: see `SyncEngine.markRestored` and the README's operations section. */
  markRestored(): ReturnType<SyncEngine['markRestored']>
  /** Erases a record for good and tells its clients to drop it: see `SyncEngine.erase`. */
  erase(table: TableName<T>, uid: string): Promise<boolean>
  /**
   * Refuses new connections, disconnects every socket, waits for realtime deliveries and closes the
   * engine. HTTP servers passed to `attach` stay open: they are the app's to close.
   */
  close(): Promise<void>
  /** The engine, for tests, tools and the benchmark. */
  readonly engine: Engine
  /** The first socket.io server `attach` created or received, once attached. */
  readonly io: SyncIoServer | undefined
  /** With the `cluster` option: what this node published, received and repaired so far. */
  clusterStats(): ClusterStats | undefined
  /** What the change feed delivered and from where, and each change hook's cursor, failures and losses. */
  feedStats(): FeedStats & { hooks: Record<string, ChangeHookStats> }
}

/**
 * Creates a lastword sync server: the engine over the app's Drizzle database, and the socket.io
 * transport with authentication, origin checks, rate and size limits, and realtime fan-out.
 *
 * @example
 * import { createServer } from 'node:http'
 * import Database from 'better-sqlite3'
 * import { drizzle } from 'drizzle-orm/better-sqlite3'
 * import { createSyncServer } from '@lastword/server'
 * import { todos } from './schema.js'
 *
 * const sync = createSyncServer({
 *   db: drizzle(new Database('app.db')),
 *   tables: { todos },
 *   authenticate: async ({ token }) => verifySession(token), // → { id, tenant, expiresAt } or null
 *   authorize: ({ op, principal }) => (op === 'read' ? { tenant: principal.tenant as string } : true),
 *   allowedOrigins: ['https://app.example'],
 * })
 * await sync.migrate()
 * const http = createServer()
 * sync.attach(http)
 * http.listen(3000)
 */
export function createSyncServer<P extends Principal = Principal, const T extends SyncTables<P> = SyncTables<P>>(
  options: SyncServerOptions<P, T>,
): SyncServer<T> {
  const limits = resolveLimits(options.limits)
  const logger = options.logger ?? silentLogger
  const engine = createEngine<P>({
    db: options.db,
    tables: options.tables,
    limits,
    logger,
    ...(options.authorize === undefined ? {} : { authorize: options.authorize }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
  })
  const meter = createMeter(options.metrics, Object.keys(options.tables))
  const transport = createTransport({
    engine,
    limits,
    logger,
    meter,
    authenticate: options.authenticate,
    allowedOrigins: options.allowedOrigins,
    adapter: options.cluster?.adapter,
  })
  const feed = createChangeFeed({
    engine,
    logger,
    options: { ...options.feed, ...(options.feed?.batch === undefined && options.cluster?.repairBatch !== undefined ? { batch: options.cluster.repairBatch } : {}) },
    /** Fans out and, with a sink, times it from now to the end of the delivery queue this batch joined. */
    deliver(changes, origin, source) {
      transport.deliver(changes, origin)
      if (options.metrics === undefined) return
      const started = performance.now()
      void transport.idle().then(() => meter.fanout(source, performance.now() - started))
    },
    onLag: (revs) => meter.feedLag(revs),
  })
  const cluster: Cluster | undefined = options.cluster === undefined ? undefined : createCluster({ feed, logger, options: options.cluster })
  const hookSet = options.onChange ?? {}
  checkHooks(hookSet, Object.keys(options.tables), options.onChangeRetry)
  const hooks = createHookRunners(hookSet, {
    engine,
    logger,
    timers: feed.timers,
    ...(options.onChangeRetry === undefined ? {} : { retry: options.onChangeRetry }),
    onLag: (name, revs) => meter.hookLag(name, revs),
    onFailure: (name) => meter.hookFailure(name),
    onLost: (name, revs) => meter.hookLost(name, revs),
  })
  const hasHooks = Object.keys(hookSet).length > 0
  if (hasHooks) feed.onWake(() => hooks.wake())
  const stopListening = engine.onCommit((changes, origin) => {
    feed.local(changes, origin)
    cluster?.publish(changes)
  })
  let closing: Promise<void> | undefined

  return {
    async migrate(options) {
      await engine.migrate(options)
      if (!hasHooks || closing !== undefined) return
      feed.watch()
      hooks.start()
    },
    backfill: (options) => engine.backfill(options),
    ready: (readyOptions) => engine.ready(readyOptions),
    attach: (target) => {
      const io = transport.attach(target)
      // The first server attached carries the cluster's messages (one bus per node).
      cluster?.bind(io, io !== target)
      // Sockets from now on: what other processes commit reaches them too.
      feed.startRealtime()
      return io
    },
    service: <N extends TableName<T>>(table: N) => engine.service(table) as ServiceOf<T, N & keyof T>,
    purge: (purgeOptions) => engine.purge(purgeOptions),
    markRestored: () => engine.markRestored(),
    erase: (table, uid) => engine.erase(table, uid),
    close() {
      closing ??= (async () => {
        stopListening()
        // The transport refuses new requests at once, then waits for the syncs in flight.
        const draining = transport.close()
        await Promise.all([draining, hooks.close().then(() => feed.close())])
        await cluster?.close()
        await engine.close()
      })()
      return closing
    },
    engine,
    get io() {
      return transport.io
    },
    clusterStats: () => cluster?.stats(),
    feedStats: () => ({ ...feed.stats(), hooks: hooks.stats() }),
  }
}

/**
 * Merges overrides into {@link DEFAULT_LIMITS}, refusing unknown names and non-positive values at
 * startup (a typo in a limit's name must not silently leave the default in place).
 */
export function resolveLimits(overrides: Partial<Limits> | undefined): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS }
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_LIMITS, name)) {
      throw new LastwordError('BAD_REQUEST', `Unknown limit ${JSON.stringify(name)}; known: ${Object.keys(DEFAULT_LIMITS).join(', ')}`)
    }
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new LastwordError('BAD_REQUEST', `Limit ${name} must be a positive number, got ${String(value)}`)
    }
    limits[name as keyof Limits] = value
  }
  // Lowering only maxPageSize must not make the default page larger than the cap.
  limits.defaultPageSize = Math.min(limits.defaultPageSize, limits.maxPageSize)
  return limits
}
