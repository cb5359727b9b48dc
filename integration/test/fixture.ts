/**
 * Client↔server fixture: the real sync server (better-sqlite3 in a temp file, socket.io on a port) and
 * real clients (socket.io-client, IndexedDB from fake-indexeddb — one factory per "browser profile").
 * `idb` recognises IndexedDB objects by the global IDB classes, hence `fake-indexeddb/auto`; every
 * client still gets the factory it is given.
 */
import 'fake-indexeddb/auto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { syncPageSchema, type ClientToServerEvents, type PushRequest, type SyncPage, type SyncRequest, type WireRecord } from '@lastword/core'
import { createSocketTransport, createSyncClient, type SyncClient, type SyncClientOptions, type Transport } from '@lastword/client'
import { createSyncServer, type Authenticate, type Limits, type SyncServer } from '@lastword/server'

export { IDBFactory }

export const todos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull(),
  priority: integer('priority'),
})

export interface Todo {
  title: string
  done: boolean
  priority: number | null
}

const CREATE_TODOS = 'CREATE TABLE IF NOT EXISTS todos (uid TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL, priority INTEGER)'

/** A running server; `restart()` closes it and starts a new one on the same database file and port. */
export interface TestServer {
  sync: SyncServer
  url: string
  port: number
  sqlite: Database.Database
  /** The app table's live rows, by uid. */
  rows(): Array<{ uid: string; title: string; done: number; priority: number | null }>
  /** lastword's metadata rows of `todos`. */
  meta(): Array<{ uid: string; created_at: string; updated_at: string; deleted_at: string | null }>
  restart(): Promise<void>
  /** Stops serving (clients go offline) until `start()`. */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

export interface ServerOptions {
  limits?: Partial<Limits>
  /** How `todos` merges concurrent writes (the server's table option; default `'row'`). */
  merge?: 'row' | 'field'
  authenticate?: Authenticate
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-integration-'))
  const file = join(dir, 'app.db')
  let sqlite!: Database.Database
  let sync!: SyncServer
  let http: HttpServer | null = null
  let port = 0

  async function start(): Promise<void> {
    sqlite = new Database(file)
    // What lastword requires of a SQLite database (packages/server/README.md, "The database").
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.exec(CREATE_TODOS)
    sync = createSyncServer({
      db: drizzle(sqlite),
      tables: { todos: options.merge === undefined ? todos : { table: todos, merge: options.merge } },
      limits: { maxRequestsPerSecond: 10_000, ...options.limits },
      ...(options.authenticate === undefined ? {} : { authenticate: options.authenticate }),
    })
    await sync.migrate()
    const server = createServer()
    sync.attach(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    port = (server.address() as AddressInfo).port
    http = server
    handle.sync = sync
    handle.sqlite = sqlite
  }

  async function stop(): Promise<void> {
    const server = http
    if (server === null) return
    http = null
    await sync.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    if (sqlite.open) sqlite.close()
  }

  const handle: TestServer = {
    sync,
    url: '',
    port: 0,
    sqlite,
    rows: () => sqlite.prepare('SELECT * FROM todos ORDER BY uid').all() as ReturnType<TestServer['rows']>,
    meta: () =>
      sqlite.prepare("SELECT uid, created_at, updated_at, deleted_at FROM lastword_meta WHERE tbl = 'todos' ORDER BY uid").all() as ReturnType<TestServer['meta']>,
    async restart() {
      await stop()
      await start()
    },
    stop,
    start,
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await start()
  handle.port = port
  handle.url = `http://127.0.0.1:${port}`
  return handle
}

/** A transport that records every request and page (and can hold or drop requests). */
export interface SpyTransport extends Transport {
  requests: SyncRequest[]
  /** Every `lw:push` request (protocol 7: the client's pushes). */
  pushes: PushRequest[]
  pages: SyncPage[]
  /** Called before each `lw:sync` is forwarded; may wait (to interleave) or throw (to fail it). */
  before?: (request: SyncRequest, index: number) => Promise<void> | void
  /** Called with each answer before the client sees it; may wait. */
  after?: (page: SyncPage, request: SyncRequest, index: number) => Promise<void> | void
  /** Called with the records of each `lw:push` before it is forwarded; may wait. */
  beforePush?: (records: WireRecord[]) => Promise<void> | void
  /** Called with the records of each answered `lw:push` before the client sees the answer; may wait. */
  afterPush?: (records: WireRecord[]) => Promise<void> | void
}

export function spyTransport(inner: Transport): SpyTransport {
  const spy: SpyTransport = {
    requests: [],
    pushes: [],
    pages: [],
    open: (handlers) => inner.open(handlers),
    close: () => inner.close(),
    async request(event, payload, timeoutMs) {
      if (event === 'lw:push') {
        const request = structuredClone(payload as PushRequest)
        spy.pushes.push(request)
        const records = request.units.flatMap((u) => u.groups.flatMap((g) => g.records))
        await spy.beforePush?.(records)
        const reply = await inner.request(event, payload, timeoutMs)
        if (reply !== null && typeof reply === 'object' && 'ok' in reply && reply.ok) await spy.afterPush?.(records)
        return reply
      }
      if (event !== 'lw:sync') return inner.request(event, payload, timeoutMs)
      const request = structuredClone(payload as Parameters<ClientToServerEvents['lw:sync']>[0])
      const index = spy.requests.length
      spy.requests.push(request)
      await spy.before?.(request, index)
      const reply = await inner.request(event, payload, timeoutMs)
      if (reply !== null && typeof reply === 'object' && 'ok' in reply && reply.ok) {
        const page = syncPageSchema.parse((reply as { data: unknown }).data) // pages travel compacted
        spy.pages.push(page)
        await spy.after?.(page, request, index)
      }
      return reply
    },
  }
  return spy
}

/** Every record a spy saw pushed, by `lw:sync` (protocol 6's way) or `lw:push`, in order. */
export function pushedRecords(spy: SpyTransport): WireRecord[] {
  return [...spy.requests.flatMap((r) => r.push), ...spy.pushes.flatMap((p) => p.units.flatMap((u) => u.groups.flatMap((g) => g.records)))]
}

let clientCounter = 0

export interface TestClient {
  client: SyncClient
  spy: SpyTransport
  indexedDB: IDBFactory
}

/**
 * A client on the server with its own IndexedDB (unless given one) and a spy transport, which
 * `wrapTransport` may wrap (e.g. `withDroppedRealtime` of `@lastword/client/testing`).
 */
export function newClient(
  server: TestServer,
  { wrapTransport, ...options }: Partial<SyncClientOptions> & { indexedDB?: IDBFactory; wrapTransport?: (transport: Transport) => Transport } = {},
): TestClient {
  const indexedDB = options.indexedDB ?? new IDBFactory()
  const spy = spyTransport(createSocketTransport({ url: server.url, reconnectionDelay: 20, reconnectionDelayMax: 200 }))
  const client = createSyncClient({
    name: `client-${clientCounter++}`,
    transport: wrapTransport === undefined ? spy : wrapTransport(spy),
    IDBKeyRange,
    retry: { baseMs: 20, maxMs: 200 },
    requestTimeoutMs: 10_000,
    tabs: { leaseMs: 400, heartbeatMs: 50 },
    ...options,
    indexedDB,
  })
  return { client, spy, indexedDB }
}

/** Resolves once `check` stops throwing; fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const start = Date.now()
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error
      await new Promise((resolve) => setTimeout(resolve, 15))
    }
  }
}

/** Resolves once the client has connected and taken the server's hello. */
export function whenOnline(client: SyncClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'online' || client.status === 'syncing') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`client ${client.name} did not come online (status ${client.status}, last error ${client.lastError?.message})`))
    }, timeoutMs)
    const off = client.on('status', (status) => {
      if (status === 'online' || status === 'syncing') {
        clearTimeout(timer)
        off()
        resolve()
      }
    })
  })
}

/** Syncs until the client has no dirty record left and one more sync pulled whatever others pushed. */
export async function settle(client: SyncClient): Promise<void> {
  await whenOnline(client)
  await eventually(async () => {
    await client.sync()
    if ((await client.pendingCount()) !== 0) throw new Error(`${client.name} still has dirty records`)
  })
  await client.sync()
}

/** The rows a client can read, as comparable plain data. */
export async function readAll(client: SyncClient): Promise<Array<{ uid: string; title: string; done: boolean; priority: number | null }>> {
  const rows = await client.table<Todo>('todos').findMany({}, { orderBy: 'title' })
  return rows.map(({ uid, title, done, priority }) => ({ uid, title, done, priority })).sort((a, b) => (a.uid < b.uid ? -1 : 1))
}

/** The server's rows in the same shape. */
export function serverRows(server: TestServer): Array<{ uid: string; title: string; done: boolean; priority: number | null }> {
  return server.rows().map((r) => ({ uid: r.uid, title: r.title, done: r.done === 1, priority: r.priority }))
}

/** A seeded PRNG (mulberry32); tests print the seed and replay from `FC_SEED`. */
export function seededRandom(label: string): { seed: number; next: () => number; int: (n: number) => number; pick: <T>(items: readonly T[]) => T } {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31)
  console.log(`[${label}] seed ${seed} (replay with FC_SEED=${seed})`)
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return { seed, next, int, pick: (items) => items[int(items.length)] as (typeof items)[number] }
}

/** A clock the test moves: `at(ms)` sets it; every client given it stamps from it (plus its learned offset). */
export function manualClock(start = Date.now()): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => (t += ms) }
}
