/**
 * Test fixture for the transport: a real sync server (engine on better-sqlite3 in a temp file) behind a
 * real socket.io server on port 0, and helpers to drive raw socket.io clients against it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  PROTOCOL_VERSION,
  formatStamp,
  syncPageSchema,
  type ClientToServerEvents,
  type Hello,
  type RealtimeEvent,
  type Reply,
  type ServerToClientEvents,
  type SyncPage,
  type SyncPageWire,
  type SyncRequest,
  type WireError,
  type WireRecord,
} from '@lastword/core'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { io as ioClient, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client'
import { createSyncServer, type Authenticate, type Authorize, type Limits, type Logger, type Principal, type SyncServer } from '../../src/index.js'

export const todos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  project: text('project').notNull(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull(),
})

const CREATE_TODOS = 'CREATE TABLE todos (uid TEXT PRIMARY KEY, project TEXT NOT NULL, title TEXT NOT NULL, done INTEGER NOT NULL)'

/** A table keyed by the app's own primary key, `id` (SQL `label_id`), served with `keyed: true`. */
export const labels = sqliteTable('labels', { id: text('label_id').primaryKey(), text: text('text').notNull() })

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>

export interface Fixture {
  sync: SyncServer
  http: HttpServer
  url: string
  sqlite: Database.Database
  logs: Array<{ level: string; obj: object; msg: string | undefined }>
  /** Opens a raw socket.io client (websocket only, no reconnection); closed by `close()`. */
  connect(auth: unknown, options?: Partial<ManagerOptions & SocketOptions>): ClientSocket
  /** The app table's rows, ordered by uid. */
  rows(): unknown[]
  /** lastword's metadata and change log, to prove a refused request wrote nothing. */
  snapshot(): string
  close(): Promise<void>
}

export interface FixtureOptions {
  /** How `todos` merges (default `'row'`). */
  merge?: 'row' | 'field'
  /** Serve {@link labels} too. */
  keyed?: boolean
  authenticate?: Authenticate
  authorize?: Authorize
  limits?: Partial<Limits>
  allowedOrigins?: readonly string[]
  now?: () => number
}

export async function startFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-transport-'))
  const sqlite = new Database(join(dir, 'app.db'))
  // What lastword requires of a SQLite database (packages/server/README.md, "The database").
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.exec(CREATE_TODOS)
  const logs: Fixture['logs'] = []
  const logger: Logger = {
    debug: (obj, msg) => logs.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
  }
  const { merge, keyed, ...rest } = options
  if (keyed === true) sqlite.exec('CREATE TABLE labels (label_id TEXT PRIMARY KEY, text TEXT NOT NULL)')
  const tables = { todos: merge === undefined ? todos : { table: todos, merge }, ...(keyed === true ? { labels } : {}) }
  const sync = createSyncServer({ db: drizzle(sqlite), tables, logger, ...rest })
  await sync.migrate()
  const http = createServer()
  sync.attach(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const sockets: ClientSocket[] = []
  return {
    sync,
    http,
    url,
    sqlite,
    logs,
    connect(auth, socketOptions = {}) {
      const socket: ClientSocket = ioClient(url, {
        auth: auth as Record<string, unknown>,
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        ...socketOptions,
      })
      sockets.push(socket)
      return socket
    },
    rows: () => sqlite.prepare('SELECT * FROM todos ORDER BY uid').all(),
    snapshot() {
      const tables = sqlite
        // Client-id bindings are connection state (every connect writes one), not synced data.
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'lastword_clients' ORDER BY name")
        .all() as Array<{ name: string }>
      return JSON.stringify(tables.map(({ name }) => [name, sqlite.prepare(`SELECT * FROM "${name}"`).all()]))
    },
    async close() {
      for (const socket of sockets) socket.disconnect()
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      if (sqlite.open) sqlite.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// Wire helpers

let nodeCounter = 0
/** A fresh 16-hex-digit client id. */
export function newClientId(): string {
  nodeCounter++
  return nodeCounter.toString(16).padStart(16, 'a')
}

/** A handshake as the client sends it. */
export function handshake(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { protocolVersion: PROTOCOL_VERSION, clientId: newClientId(), ...extra }
}

/** Resolves with `lw:hello` once connected; rejects with the wire error of a refused connection. */
export function connected(socket: ClientSocket): Promise<Hello> {
  return new Promise((resolve, reject) => {
    socket.once('lw:hello', resolve)
    socket.once('connect_error', (err: Error & { data?: unknown }) => reject(Object.assign(new Error(err.message), { data: err.data })))
  })
}

/** The wire error a connection was refused with. */
export async function refusal(socket: ClientSocket): Promise<WireError | undefined> {
  try {
    await connected(socket)
  } catch (error) {
    return (error as { data?: WireError }).data
  }
  throw new Error('expected the connection to be refused')
}

/** Sends `lw:sync` and waits for its acknowledgement. */
export function syncRequest(socket: ClientSocket, request: unknown, timeoutMs = 5_000): Promise<Reply<SyncPageWire>> {
  return (socket.timeout(timeoutMs) as unknown as { emitWithAck(ev: string, ...args: unknown[]): Promise<Reply<SyncPageWire>> }).emitWithAck(
    'lw:sync',
    request,
  )
}

/** `syncRequest` that expects success. */
export async function syncOk(socket: ClientSocket, request: Partial<SyncRequest> & { table: string }): Promise<SyncPage> {
  const reply = await syncRequest(socket, { where: {}, checkpoint: null, push: [], ...request })
  if (!reply.ok) throw new Error(`sync refused: ${reply.error.code} ${reply.error.message}`)
  // Pages travel compacted (fields at their default left out): read them as a client does.
  return syncPageSchema.parse(reply.data)
}

/** `syncRequest` that expects a typed error. */
export async function syncError(socket: ClientSocket, request: unknown): Promise<WireError> {
  const reply = await syncRequest(socket, request)
  if (reply.ok) throw new Error('expected the sync to be refused')
  return reply.error
}

/** Collects `lw:changes` events of a socket. */
export function collectChanges(socket: ClientSocket): RealtimeEvent[] {
  const events: RealtimeEvent[] = []
  socket.on('lw:changes', (event) => events.push(event))
  return events
}

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves when the socket is disconnected, with the reason. */
export function disconnected(socket: ClientSocket): Promise<string> {
  return new Promise((resolve) => {
    if (socket.disconnected && !socket.active) resolve('already')
    socket.once('disconnect', (reason) => resolve(reason))
  })
}

// ---------------------------------------------------------------------------------------------------
// Records

let uidCounter = 0
/** A fresh uid in uid order. */
export function newUid(): string {
  uidCounter++
  return `0190a0b0-0000-7000-8000-${uidCounter.toString().padStart(12, '0')}`
}

let stampCounter = 0
/** A stamp just behind the wall clock (within any drift bound), unique per call. */
export function stamp(node = '00000000000000aa', ms = Date.now() - 1_000): string {
  stampCounter = (stampCounter + 1) % 0xffff
  return formatStamp({ ms, counter: stampCounter, node })
}

/** A live record as the client pushes it. */
export function record(row: Record<string, unknown>, uid = newUid()): WireRecord {
  const s = stamp()
  return { uid, created_at: s, updated_at: s, deleted_at: null, row }
}

/** A newer version of a record (an update), or a tombstone with `row: null`. */
export function revise(previous: WireRecord, row: Record<string, unknown> | null): WireRecord {
  const s = stamp()
  return row === null ? { ...previous, updated_at: previous.updated_at, deleted_at: s, row: null } : { ...previous, updated_at: s, deleted_at: null, row }
}

// ---------------------------------------------------------------------------------------------------
// Auth: a tiny HS256 token, enough to exercise the lifecycle (S07)

export const SECRET = 'lastword-test-secret'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Signs `{ sub, exp }` (exp: epoch ms). `alg` and `secret` can be forged for the attack cases. */
export function signToken(payload: { sub: string; exp: number }, options: { alg?: string; secret?: string } = {}): string {
  const head = b64({ alg: options.alg ?? 'HS256', typ: 'JWT' })
  const body = b64(payload)
  if (options.alg === 'none') return `${head}.${body}.`
  const sig = createHmac('sha256', options.secret ?? SECRET).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${sig}`
}

/** Verifies a token: HS256 only (never what the token's header asks for), constant-time comparison. */
export function verifyToken(token: string | undefined): { sub: string; exp: number } | null {
  if (token === undefined) return null
  const [head, body, sig] = token.split('.')
  if (head === undefined || body === undefined || sig === undefined) return null
  let header: { alg?: unknown }
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: unknown }
  } catch {
    return null
  }
  if (header.alg !== 'HS256') return null
  const expected = createHmac('sha256', SECRET).update(`${head}.${body}`).digest()
  const given = Buffer.from(sig, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  return JSON.parse(Buffer.from(body, 'base64url').toString()) as { sub: string; exp: number }
}

/** `authenticate` for the tests: a valid token → `{ id: sub, expiresAt: exp }`; anything else → null. */
export const tokenAuthenticate: Authenticate = (hs) => {
  const claims = verifyToken(hs.token)
  return claims === null ? null : ({ id: claims.sub, expiresAt: claims.exp } satisfies Principal)
}

/**
 * Project membership, mutable mid-test: users read and write todos of their projects only.
 * `authorize` reads it on every call, so a revocation takes effect at the next sync or delivery.
 */
export function createMembership(initial: Record<string, string[]>) {
  const members = new Map(Object.entries(initial).map(([user, projects]) => [user, new Set(projects)]))
  const authorize: Authorize = (request) => {
    const projects = members.get(request.principal.id)
    if (projects === undefined || projects.size === 0) return false
    if (request.op === 'read') return { project: { in: [...projects] } }
    const ok = (row: Record<string, unknown> | null) => row === null || projects.has(row['project'] as string)
    return ok(request.before) && ok(request.after)
  }
  return {
    authorize,
    grant: (user: string, project: string) => {
      const set = members.get(user) ?? new Set<string>()
      set.add(project)
      members.set(user, set)
    },
    revoke: (user: string, project: string) => members.get(user)?.delete(project),
  }
}
