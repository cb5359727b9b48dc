/**
 * The real server (engine + transport) served over in-process connections instead of socket.io.
 *
 * `createSyncServer` composes this — `createEngine`, `createTransport`, `engine.onCommit →
 * transport.deliver` (through its change feed, which adds what other processes commit: one process
 * here, so nothing) — but does not hand out its transport, whose `serveConnection` seam is what the
 * fault network connects to, nor the engine's test hooks. So the kit composes the same parts itself,
 * from the package's test entry point (@lastword/server/testing).
 *
 * With `feed`, the kit also composes the change feed as `createSyncServer` does (row T24: writes that
 * never went through lastword — plain Drizzle, raw SQL on another connection — reach the sockets from
 * the change log, woken by the database's signal on the feed's timers).
 */
import type { Authenticate, Authorize, Limits, Logger, Principal, TableInput } from '@lastword/server'
import {
  createChangeFeed,
  createEngine,
  createTransport,
  resolveLimits,
  type ChangeFeed,
  type DuplexConnection,
  type Engine,
  type EngineOptions,
  type FeedOptions,
  type Transport as ServerTransport,
} from '@lastword/server/testing'
import type { TestDatabase } from './databases.js'

export type { DuplexConnection }

export interface KitOptions<P extends Principal = Principal> {
  database: TestDatabase
  /** Synced tables; default `{ items }` of the database. */
  tables?: Record<string, TableInput<P>>
  authenticate?: Authenticate<P>
  authorize?: Authorize<P>
  limits?: Partial<Limits>
  now?: () => number
  hooks?: EngineOptions<P>['hooks']
  logger?: Logger
  /** Compose the change feed (its timers are the test's seam): other writers' commits reach the sockets. */
  feed?: FeedOptions
  /** Told every batch the feed delivers, with where it came from (the campaign counts deliveries per rev). */
  onFeedDelivery?: (changes: ReadonlyArray<{ rev: number; uid: string }>, source: 'local' | 'cluster' | 'log') => void
}

export interface InMemoryServer {
  engine: Engine
  transport: ServerTransport
  database: TestDatabase
  /** The change feed, when the kit composed one (`feed`). */
  feed: ChangeFeed | null
  /** Serves one in-process connection (the fault network calls it for every connection attempt). */
  serve(connection: DuplexConnection): Promise<void>
  close(): Promise<void>
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

/** Logs warnings and errors to the console: a server-side INTERNAL during a fault run is a finding. */
export const CONSOLE_ERRORS: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (obj, msg) => console.error('[server error]', msg, obj),
}

export async function createInMemoryServer<P extends Principal = Principal>(options: KitOptions<P>): Promise<InMemoryServer> {
  const limits = resolveLimits({ maxRequestsPerSecond: 1_000_000, ...options.limits })
  const logger = options.logger ?? SILENT
  const engine = createEngine<P>({
    db: options.database.db,
    tables: options.tables ?? ({ items: options.database.items } as Record<string, TableInput<P>>),
    limits,
    logger,
    ...(options.authorize === undefined ? {} : { authorize: options.authorize }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
  })
  await engine.migrate()
  const transport = createTransport({
    engine,
    limits,
    logger,
    authenticate: options.authenticate as Authenticate | undefined,
    allowedOrigins: undefined,
  })
  let feed: ChangeFeed | null = null
  let stop: () => void
  if (options.feed === undefined) stop = engine.onCommit((changes) => transport.deliver(changes))
  else {
    const observe = options.onFeedDelivery
    feed = createChangeFeed({
      engine,
      logger,
      options: options.feed,
      deliver(changes, origin, source) {
        observe?.(changes.map((c) => ({ rev: c.rev, uid: c.uid })), source)
        transport.deliver(changes, origin)
      },
    })
    const composed = feed
    stop = engine.onCommit((changes, origin) => composed.local(changes, origin))
    composed.startRealtime()
  }
  let closing: Promise<void> | undefined
  return {
    engine,
    transport,
    database: options.database,
    feed,
    serve: (connection) => transport.serveConnection(connection),
    close() {
      closing ??= (async () => {
        stop()
        await transport.close()
        await feed?.close()
        await engine.close()
      })()
      return closing
    },
  }
}

/** A raw in-process connection to an {@link InMemoryServer}: requests and the events it receives. */
export interface RawConnection {
  request(event: string, payload: unknown): Promise<unknown>
  readonly events: Array<{ event: string; payload: unknown }>
  readonly connected: boolean
  close(): void
}

/** Connects without a client (attack tests): resolves once served, rejects with the handshake refusal. */
export async function connectRaw(server: InMemoryServer, auth: unknown): Promise<RawConnection> {
  const listeners = new Map<string, Array<(...args: unknown[]) => void>>()
  const events: RawConnection['events'] = []
  let ended = false
  const wire = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T))
  const connection: DuplexConnection = {
    handshake: { auth, headers: {}, address: 'in-process:raw' },
    get connected() {
      return !ended
    },
    on(event, listener) {
      let list = listeners.get(event)
      if (list === undefined) listeners.set(event, (list = []))
      list.push(listener as (...args: unknown[]) => void)
    },
    emit(event, ...args) {
      if (!ended) events.push({ event, payload: wire(args[0]) })
    },
    disconnect() {
      end('io server disconnect')
    },
  }
  const end = (reason: string): void => {
    if (ended) return
    ended = true
    for (const l of listeners.get('disconnect') ?? []) l(reason)
  }
  await server.serve(connection)
  return {
    events,
    get connected() {
      return !ended
    },
    request(event, payload) {
      return new Promise((resolve, reject) => {
        if (ended) return reject(new Error('disconnected'))
        const handlers = listeners.get(event) ?? []
        if (handlers.length === 0) return reject(new Error(`no handler for ${event}`))
        for (const h of handlers) h(wire(payload), (reply: unknown) => resolve(wire(reply)))
      })
    },
    close: () => end('client namespace disconnect'),
  }
}
