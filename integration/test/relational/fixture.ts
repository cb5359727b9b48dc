/**
 * A real sync server over a `lists`/`todos` pair with a REAL foreign key (todos.list_id references
 * lists.uid): better-sqlite3 (`PRAGMA foreign_keys = ON`) or PostgreSQL (a fresh schema named after this
 * branch, `relational_…`), and clients of it whose transport interleaves `lw:push` and `lw:sync` by a
 * seeded random delay (SPEC.md section 12).
 */
import 'fake-indexeddb/auto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { sqliteTable, text } from 'drizzle-orm/sqlite-core'
import pg from 'pg'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { createSocketTransport, createSyncClient, type SyncClient, type Transport } from '@lastword/client'
import { createSyncServer, type Authorize, type SyncServer } from '@lastword/server'

const sqliteLists = sqliteTable('lists', { uid: text('uid').primaryKey(), name: text('name').notNull() })
const sqliteTodos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  list_id: text('list_id')
    .notNull()
    .references(() => sqliteLists.uid),
  title: text('title').notNull(),
})
const pgLists = pgTable('lists', { uid: pgText('uid').primaryKey(), name: pgText('name').notNull() })
const pgTodos = pgTable('todos', {
  uid: pgText('uid').primaryKey(),
  list_id: pgText('list_id')
    .notNull()
    .references(() => pgLists.uid),
  title: pgText('title').notNull(),
})
const DDL = [
  'CREATE TABLE lists (uid text PRIMARY KEY NOT NULL, name text NOT NULL)',
  'CREATE TABLE todos (uid text PRIMARY KEY NOT NULL, list_id text NOT NULL REFERENCES lists (uid), title text NOT NULL)',
]

export interface List {
  name: string
}
export interface Todo {
  list_id: string
  title: string
}

export interface RelationalServer {
  url: string
  sync: SyncServer
  /** The app rows of a table, ordered by uid. */
  rows(table: 'lists' | 'todos'): Promise<Array<Record<string, unknown>>>
  close(): Promise<void>
}

export const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

export async function startRelationalServer(dialect: 'sqlite' | 'postgres', authorize?: Authorize): Promise<RelationalServer> {
  let rows: RelationalServer['rows']
  let sync: SyncServer
  let cleanup: () => Promise<void>
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'relational-'))
    const sqlite = new Database(join(dir, 'app.db'))
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    sqlite.pragma('foreign_keys = ON')
    for (const statement of DDL) sqlite.exec(statement)
    sync = createSyncServer({ db: drizzleSqlite(sqlite), tables: { lists: sqliteLists, todos: sqliteTodos }, limits: { maxRequestsPerSecond: 10_000 }, ...(authorize === undefined ? {} : { authorize }) })
    rows = async (table) => sqlite.prepare(`SELECT * FROM ${table} ORDER BY uid`).all() as Array<Record<string, unknown>>
    cleanup = async () => {
      sqlite.close()
      rmSync(dir, { recursive: true, force: true })
    }
  } else {
    const schema = `relational_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 6 })
    for (const statement of DDL) await pool.query(statement)
    sync = createSyncServer({ db: drizzlePg({ client: pool }), tables: { lists: pgLists, todos: pgTodos }, limits: { maxRequestsPerSecond: 10_000 }, ...(authorize === undefined ? {} : { authorize }) })
    rows = async (table) => (await pool.query(`SELECT * FROM ${table} ORDER BY uid`)).rows as Array<Record<string, unknown>>
    cleanup = async () => {
      await pool.end()
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    }
  }
  await sync.migrate()
  const http: HttpServer = createServer()
  sync.attach(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  return {
    url,
    sync,
    rows,
    async close() {
      await sync.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await cleanup()
    },
  }
}

/** A seeded random source (mulberry32): a run prints its seed and replays from it. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A transport that holds each request a random 0–`maxMs` ms first, so pushes and scopes' pulls interleave. */
export function interleaving(inner: Transport, random: () => number, maxMs = 30): Transport & { events: string[] } {
  const events: string[] = []
  return {
    events,
    open: (handlers) => inner.open(handlers),
    close: () => inner.close(),
    async request(event, payload, timeoutMs) {
      events.push(event)
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * maxMs)))
      return inner.request(event, payload, timeoutMs)
    },
  }
}

/** A client of `server` with its own IndexedDB; `random` (when given) interleaves its requests. */
export function relationalClient(server: RelationalServer, name: string, random?: () => number, maxPushPerRequest?: number): { client: SyncClient; transport: Transport & { events?: string[] } } {
  const socket = createSocketTransport({ url: server.url, reconnectionDelay: 20, reconnectionDelayMax: 200 })
  const transport = random === undefined ? socket : interleaving(socket, random)
  const client = createSyncClient({
    name,
    transport,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    retry: { baseMs: 20, maxMs: 200 },
    requestTimeoutMs: 10_000,
    tabs: false,
    ...(maxPushPerRequest === undefined ? {} : { maxPushPerRequest }),
  })
  return { client, transport }
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

/** Resolves once the client is online (its hello taken). */
export async function online(client: SyncClient): Promise<void> {
  await eventually(() => {
    if (client.status !== 'online' && client.status !== 'syncing') throw new Error(`status ${client.status}`)
  })
}
