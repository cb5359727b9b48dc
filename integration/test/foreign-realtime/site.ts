/**
 * A server on a real database (a SQLite WAL file, or a fresh PostgreSQL schema named after this suite)
 * whose change feed runs on manual timers, the app's own Drizzle handle on the engine's database, a
 * second connection for raw SQL, and real clients whose realtime events are recorded.
 */
import 'fake-indexeddb/auto'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { eq } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { boolean, integer as pgInteger, pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import pg from 'pg'
import type { RealtimeEvent } from '@lastword/core'
import { createSocketTransport, createSyncClient, type SyncClient } from '@lastword/client'
import { createSyncServer, type FeedTimers, type SyncServer } from '@lastword/server'
import { PG_URL, tempDir } from '../../src/databases.js'
import { spyTransport, type SpyTransport } from '../fixture.js'

export const sqliteTodos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull(),
})
export const pgTodos = pgTable('todos', { uid: pgText('uid').primaryKey(), title: pgText('title').notNull(), done: boolean('done').notNull() })

/** The feed's poll interval (SQLite): advancing the manual timers by it runs one poll. */
export const POLL_MS = 50

/** Timers the test moves by hand (the feed's seam, `feed.timers`). */
export interface ManualTimers extends FeedTimers {
  advance(ms: number): void
}

export function manualTimers(): ManualTimers {
  let now = 1_000_000
  let next = 0
  const waiting = new Map<number, { at: number; fn: () => void }>()
  return {
    now: () => now,
    set(fn, ms) {
      waiting.set(++next, { at: now + ms, fn })
      return next
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
  }
}

/** A client, its spy transport (every `lw:sync` it sent) and the realtime events it received. */
export interface WatchedClient {
  client: SyncClient
  spy: SpyTransport
  events: RealtimeEvent[]
}

export interface ForeignSite {
  dialect: 'sqlite' | 'postgres'
  sync: SyncServer
  timers: ManualTimers
  /** Plain Drizzle writes by the app, on the database handle the server uses (SQLite: the engine's very connection). */
  drizzle: {
    insert(row: { uid: string; title: string; done: boolean }): Promise<unknown>
    update(uid: string, set: { title: string; done: boolean }): Promise<unknown>
    delete(uid: string): Promise<unknown>
  }
  /** Raw SQL on a second connection (SQLite: another better-sqlite3 connection to the file; PostgreSQL: a pg client). */
  second(text: string): Promise<void>
  client(name: string): WatchedClient
  close(): Promise<void>
}

export async function openForeignSite(dialect: 'sqlite' | 'postgres'): Promise<ForeignSite> {
  const timers = manualTimers()
  let drizzle: ForeignSite['drizzle']
  let db: Parameters<typeof createSyncServer>[0]['db']
  let second: ForeignSite['second']
  let release: () => Promise<void>
  if (dialect === 'sqlite') {
    const { dir, remove } = tempDir('lw-foreign-rt-')
    const file = join(dir, 'app.db')
    const sqlite = new Database(file)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.exec('CREATE TABLE todos (uid TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL)')
    const other = new Database(file)
    const app = drizzleSqlite({ client: sqlite })
    db = app
    drizzle = {
      insert: async (row) => app.insert(sqliteTodos).values(row).run(),
      update: async (uid, set) => app.update(sqliteTodos).set(set).where(eq(sqliteTodos.uid, uid)).run(),
      delete: async (uid) => app.delete(sqliteTodos).where(eq(sqliteTodos.uid, uid)).run(),
    }
    second = async (text) => void other.exec(text)
    release = async () => {
      other.close()
      sqlite.close()
      remove()
    }
  } else {
    // Named after this suite, so engineers' runs sharing the server never meet.
    const schema = `fwrt_foreign_rt_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const options = `-c search_path=${schema}`
    const pool = new pg.Pool({ connectionString: PG_URL, options, max: 6 })
    pool.on('error', () => undefined)
    await pool.query('CREATE TABLE todos (uid text PRIMARY KEY, title text NOT NULL, done boolean NOT NULL)')
    const other = new pg.Client({ connectionString: PG_URL, options })
    await other.connect()
    const app = drizzlePg({ client: pool })
    db = app
    drizzle = {
      insert: (row) => app.insert(pgTodos).values(row),
      update: (uid, set) => app.update(pgTodos).set(set).where(eq(pgTodos.uid, uid)),
      delete: (uid) => app.delete(pgTodos).where(eq(pgTodos.uid, uid)),
    }
    second = async (text) => void (await other.query(text))
    release = async () => {
      await other.end()
      await pool.end()
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.end()
    }
  }
  const todos = dialect === 'sqlite' ? sqliteTodos : pgTodos
  // No backstop within a test: only the database's signal (the poll, the NOTIFY) can wake the feed.
  const sync = createSyncServer({ db, tables: { todos }, limits: { maxRequestsPerSecond: 10_000 }, feed: { timers, pollIntervalMs: POLL_MS, checkIntervalMs: 3_600_000 } })
  await sync.migrate()
  const http: HttpServer = createServer()
  sync.attach(http)
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const clients: SyncClient[] = []
  return {
    dialect,
    sync,
    timers,
    drizzle,
    second,
    client(name) {
      const watched = watchedClient(url, name, { leaseMs: 400, heartbeatMs: 50 })
      clients.push(watched.client)
      return watched
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()))
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await release()
    },
  }
}

/**
 * A real client on a fake IndexedDB over socket.io to `url`, its requests spied on and its realtime events
 * kept in arrival order (`events`).
 */
export function watchedClient(url: string, name: string, tabs: false | { leaseMs: number; heartbeatMs: number }): WatchedClient {
  const events: RealtimeEvent[] = []
  const spy = spyTransport(createSocketTransport({ url, reconnectionDelay: 20, reconnectionDelayMax: 200 }))
  const client = createSyncClient({
    name,
    transport: {
      ...spy,
      open: (handlers) =>
        spy.open({
          ...handlers,
          onChanges(event) {
            events.push(event as RealtimeEvent)
            handlers.onChanges(event)
          },
        }),
    },
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    retry: { baseMs: 20, maxMs: 200 },
    tabs,
  })
  return { client, spy, events }
}
