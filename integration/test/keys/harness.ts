/**
 * A server whose tables are keyed by the app's own primary keys (core's SPEC.md section 4, "The key"),
 * with real clients: the real sync server (socket.io on a port) over better-sqlite3 (a file) or
 * PostgreSQL (a fresh schema named after this suite, dropped after), and clients on fake-indexeddb.
 *
 * - `labels`: `id: text('label_id').primaryKey()` — a text key under another Drizzle key and SQL name;
 * - `cards`: `id: text('id').primaryKey()`, declared `merge: 'field'`;
 * - `items` (PostgreSQL only): `id: uuid('id').primaryKey().defaultRandom()` with a uuid column `owner`.
 */
import 'fake-indexeddb/auto'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { boolean, integer as pgInteger, pgTable, text as pgText, uuid } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import pg from 'pg'
import { createSocketTransport, createSyncClient, type SyncClient } from '@lastword/client'
import { createSyncServer, type SyncDatabase, type SyncServer } from '@lastword/server'
import { PG_URL, tempDir } from '../../src/databases.js'

export const sqliteTables = {
  labels: sqliteTable('labels', { id: text('label_id').primaryKey(), text: text('text').notNull(), n: integer('n') }),
  cards: { table: sqliteTable('cards', { id: text('id').primaryKey(), title: text('title').notNull(), done: integer('done', { mode: 'boolean' }).notNull() }), merge: 'field' as const },
}

export const pgTables = {
  labels: pgTable('labels', { id: pgText('label_id').primaryKey(), text: pgText('text').notNull(), n: pgInteger('n') }),
  cards: { table: pgTable('cards', { id: pgText('id').primaryKey(), title: pgText('title').notNull(), done: boolean('done').notNull() }), merge: 'field' as const },
  items: pgTable('items', { id: uuid('id').primaryKey().defaultRandom(), name: pgText('name').notNull(), owner: uuid('owner') }),
}

const SQLITE_DDL = [
  'CREATE TABLE labels (label_id TEXT PRIMARY KEY, text TEXT NOT NULL, n INTEGER)',
  'CREATE TABLE cards (id TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL)',
]
const PG_DDL = [
  'CREATE TABLE labels (label_id text PRIMARY KEY, text text NOT NULL, n integer)',
  'CREATE TABLE cards (id text PRIMARY KEY, title text NOT NULL, done boolean NOT NULL)',
  'CREATE TABLE items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, owner uuid)',
]

/** A running site: the server, raw SQL on its database, and clients of it. */
export interface KeySite {
  dialect: 'sqlite' | 'postgres'
  url: string
  sync: SyncServer
  query(text: string): Promise<Array<Record<string, unknown>>>
  /** A client with an IndexedDB of its own, closed with the site. */
  client(name: string): SyncClient
  close(): Promise<void>
}

/** Opens a site on `dialect` (a fresh SQLite file, or a fresh PostgreSQL schema). */
export async function openKeySite(dialect: 'sqlite' | 'postgres'): Promise<KeySite> {
  let db: SyncDatabase
  let query: KeySite['query']
  let release: () => Promise<void>
  if (dialect === 'sqlite') {
    const { dir, remove } = tempDir('lw-keys-')
    const sqlite = new Database(join(dir, 'app.db'))
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = FULL')
    for (const statement of SQLITE_DDL) sqlite.exec(statement)
    db = drizzleSqlite({ client: sqlite })
    query = async (text) => sqlite.prepare(text).all() as Array<Record<string, unknown>>
    release = async () => {
      sqlite.close()
      remove()
    }
  } else {
    // Named after this suite, so engineers' runs sharing the server never meet.
    const schema = `keys_e2e_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 6 })
    pool.on('error', () => undefined)
    for (const statement of PG_DDL) await pool.query(statement)
    db = drizzlePg({ client: pool })
    query = async (text) => (await pool.query(text)).rows as Array<Record<string, unknown>>
    release = async () => {
      await pool.end()
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.end()
    }
  }
  const sync = createSyncServer({ db, tables: dialect === 'sqlite' ? sqliteTables : pgTables, limits: { maxRequestsPerSecond: 10_000 } })
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
    url,
    sync,
    query,
    client(name) {
      const client = createSyncClient({
        name,
        transport: createSocketTransport({ url, reconnectionDelay: 20, reconnectionDelayMax: 200 }),
        indexedDB: new IDBFactory(),
        IDBKeyRange,
        retry: { baseMs: 20, maxMs: 200 },
        tabs: { leaseMs: 400, heartbeatMs: 50 },
      })
      clients.push(client)
      return client
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
