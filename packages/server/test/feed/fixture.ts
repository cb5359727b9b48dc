/**
 * The change feed's and change hooks' fixtures: one database reached by several independent
 * connections, as two server processes reach it — two better-sqlite3 connections on one WAL file in a temp
 * dir, or two `pg.Pool`s on a schema of their own (named after this branch of work, `tailer_…`, dropped
 * after) — a server on a connection with sockets on loopback, and manual timers for the feed's seam.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROTOCOL_VERSION } from '@lastword/core'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { io as ioClient } from 'socket.io-client'
import { createSyncServer, type FeedTimers, type Logger, type SyncServer, type SyncServerOptions } from '../../src/index.js'
import type { SyncDatabase } from '../../src/engine/index.js'
import { PG_URL } from '../fixtures/db.js'
import { PG_DDL, SQLITE_DDL, pgTodos, sqliteTodos } from '../fixtures/schema.js'
import { connected, newClientId, type ClientSocket } from '../transport/harness.js'

/** One database, any number of connections to it. */
export interface SharedDb {
  dialect: 'sqlite' | 'postgres'
  todos: typeof sqliteTodos | typeof pgTodos
  /** A new connection (SQLite) or pool (PostgreSQL); `label` names it (`application_name`). */
  connect(label: string): SyncDatabase
  /** The `application_name` of a labelled pool (PostgreSQL). */
  appName(label: string): string
  /** Raw SQL on a connection of its own. */
  raw(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>
  close(): Promise<void>
}

export async function sqliteShared(): Promise<SharedDb> {
  const dir = mkdtempSync(join(tmpdir(), 'lastword-feed-'))
  const file = join(dir, 'app.db')
  const open: Database.Database[] = []
  const connection = (): Database.Database => {
    const client = new Database(file)
    client.pragma('journal_mode = WAL')
    client.pragma('synchronous = FULL')
    open.push(client)
    return client
  }
  const side = connection()
  for (const statement of SQLITE_DDL) side.exec(statement)
  return {
    dialect: 'sqlite',
    todos: sqliteTodos,
    connect: () => drizzleSqlite({ client: connection() }),
    appName: (label) => label,
    async raw(text, params = []) {
      const statement = side.prepare(text)
      return statement.reader ? (statement.all(...params) as Array<Record<string, unknown>>) : (statement.run(...params), [])
    },
    async close() {
      for (const client of open) if (client.open) client.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function pgShared(): Promise<SharedDb> {
  const tag = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const schema = `tailer_feed_${tag}`
  const options = `-c search_path=${schema}`
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 })
  admin.on('error', () => undefined)
  await admin.query(`CREATE SCHEMA ${schema}`)
  const side = new pg.Pool({ connectionString: PG_URL, options, max: 2 })
  side.on('error', () => undefined)
  for (const statement of PG_DDL) await side.query(statement)
  const pools: pg.Pool[] = []
  const appName = (label: string): string => `tailer-${label}-${tag}`
  return {
    dialect: 'postgres',
    todos: pgTodos,
    connect(label) {
      const pool = new pg.Pool({ connectionString: PG_URL, options, max: 4, application_name: appName(label) })
      pool.on('error', () => undefined)
      pools.push(pool)
      return drizzlePg({ client: pool })
    },
    appName,
    raw: async (text, params = []) => (await side.query(text, params)).rows as Array<Record<string, unknown>>,
    async close() {
      for (const pool of pools) await pool.end().catch(() => undefined)
      await side.end()
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1`, [`tailer-%-${tag}`]).catch(() => undefined)
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    },
  }
}

/** The feed's timers, driven by hand: nothing runs until the test advances the clock. */
export interface ManualTimers extends FeedTimers {
  /** Moves the clock by `ms` and runs every timer due by then (those they set too, if due). */
  advance(ms: number): void
  /** The delays of the timers waiting now, as they were set. */
  pending(): number[]
}

export function manualTimers(): ManualTimers {
  let now = 1_000_000
  let next = 0
  const waiting = new Map<number, { at: number; ms: number; fn: () => void }>()
  return {
    now: () => now,
    set(fn, ms) {
      const id = ++next
      waiting.set(id, { at: now + ms, ms, fn })
      return id
    },
    clear: (handle) => void waiting.delete(handle as number),
    advance(ms) {
      const until = now + ms
      for (;;) {
        const due = [...waiting.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0]
        if (due === undefined) break
        waiting.delete(due[0])
        now = Math.max(now, due[1].at)
        due[1].fn()
      }
      now = until
    },
    pending: () => [...waiting.values()].map((t) => t.ms),
  }
}

/** A logger that keeps what it is told. */
export function recordingLogger(): Logger & { entries: Array<{ level: string; obj: object; msg: string | undefined }> } {
  const entries: Array<{ level: string; obj: object; msg: string | undefined }> = []
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg })
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** A sync server on one connection of `shared`, serving sockets on loopback. */
export interface Instance {
  sync: SyncServer
  http: HttpServer
  /** Opens a socket as principal `id` and waits for its hello. */
  socket(id: string): Promise<ClientSocket>
  close(): Promise<void>
}

export async function startInstance(
  shared: SharedDb,
  label: string,
  options: Partial<SyncServerOptions> = {},
  listen = true,
): Promise<Instance> {
  const sync = createSyncServer({
    db: shared.connect(label),
    tables: { todos: { table: shared.todos, serverColumns: { tenant: () => 'A' } } },
    authenticate: ({ token }) => (typeof token === 'string' && token.length > 0 ? { id: token } : null),
    ...options,
  })
  await sync.migrate()
  const http = createServer()
  if (listen) {
    sync.attach(http)
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  }
  const sockets: ClientSocket[] = []
  return {
    sync,
    http,
    async socket(id) {
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
      const s: ClientSocket = ioClient(url, {
        auth: { protocolVersion: PROTOCOL_VERSION, clientId: newClientId(), token: id },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      })
      sockets.push(s)
      await connected(s)
      return s
    },
    async close() {
      for (const s of sockets) s.disconnect()
      await sync.close()
      http.closeAllConnections()
      if (listen) await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

/** How long a test waits for what another connection, a socket or a delivery brings (loaded CI machines are slow). */
export const WAIT = { timeout: 10_000, interval: 20 }
