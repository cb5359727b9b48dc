/**
 * A server whose app schema changes under real clients (SPEC.md section 11): the real sync server
 * (socket.io on a fixed port) over better-sqlite3 (a file) or PostgreSQL (a fresh schema), redeployed
 * with the app's migration (its DDL) and the new Drizzle table, as an app deploys; real clients
 * (fake-indexeddb) that go offline across the deploy.
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Table } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { integer as pgInteger, pgTable, text as pgText } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import pg from 'pg'
import { createSyncServer, dropCapture, type SyncDatabase, type SyncServer } from '@lastword/server'
import { PG_URL, tempDir } from '../../src/databases.js'

/** One version of the app's `items` table: its migration and its Drizzle table. */
export interface Version {
  ddl: string[]
  table: Table
  renamed?: Record<string, string>
}

/** The versions the scenarios deploy, in one dialect. v1: title, old_note, gone, n. */
export interface Versions {
  v1: Version
  addNote: Version
  renameNote: Version
  dropGone: Version
  /** After `renameNote`: `gone` dropped too (the rename still declared). */
  renameThenDrop: Version
}

export function sqliteVersions(): Versions {
  const base = { uid: text('uid').primaryKey(), title: text('title').notNull(), old_note: text('old_note'), gone: text('gone'), n: integer('n') }
  const { gone: _g, ...withoutGone } = base
  const { old_note: _o, ...withoutOld } = base
  return {
    v1: { ddl: ['CREATE TABLE items (uid TEXT PRIMARY KEY, title TEXT NOT NULL, old_note TEXT, gone TEXT, n INTEGER)'], table: sqliteTable('items', base) },
    addNote: { ddl: ['ALTER TABLE items ADD COLUMN note TEXT'], table: sqliteTable('items', { ...base, note: text('note') }) },
    renameNote: { ddl: ['ALTER TABLE items RENAME COLUMN old_note TO note'], table: sqliteTable('items', { ...withoutOld, note: text('note') }), renamed: { note: 'old_note' } },
    dropGone: { ddl: ['ALTER TABLE items DROP COLUMN gone'], table: sqliteTable('items', withoutGone) },
    renameThenDrop: {
      ddl: ['ALTER TABLE items DROP COLUMN gone'],
      table: sqliteTable('items', { uid: base.uid, title: base.title, n: base.n, note: text('note') }),
      renamed: { note: 'old_note' },
    },
  }
}

export function pgVersions(): Versions {
  const base = { uid: pgText('uid').primaryKey(), title: pgText('title').notNull(), old_note: pgText('old_note'), gone: pgText('gone'), n: pgInteger('n') }
  const { gone: _g, ...withoutGone } = base
  const { old_note: _o, ...withoutOld } = base
  return {
    v1: { ddl: ['CREATE TABLE items (uid text PRIMARY KEY, title text NOT NULL, old_note text, gone text, n integer)'], table: pgTable('items', base) },
    addNote: { ddl: ['ALTER TABLE items ADD COLUMN note text'], table: pgTable('items', { ...base, note: pgText('note') }) },
    renameNote: { ddl: ['ALTER TABLE items RENAME COLUMN old_note TO note'], table: pgTable('items', { ...withoutOld, note: pgText('note') }), renamed: { note: 'old_note' } },
    dropGone: { ddl: ['ALTER TABLE items DROP COLUMN gone'], table: pgTable('items', withoutGone) },
    renameThenDrop: {
      ddl: ['ALTER TABLE items DROP COLUMN gone'],
      table: pgTable('items', { uid: base.uid, title: base.title, n: base.n, note: pgText('note') }),
      renamed: { note: 'old_note' },
    },
  }
}

interface Store {
  db: SyncDatabase
  query(text: string): Promise<Array<Record<string, unknown>>>
  close(): Promise<void>
}

export function sqliteStore(): Store {
  const { dir, remove } = tempDir('lw-schema-')
  const client = new Database(join(dir, 'app.db'))
  client.pragma('journal_mode = WAL')
  client.pragma('synchronous = FULL')
  return {
    db: drizzleSqlite({ client }),
    async query(text) {
      const statement = client.prepare(text)
      return statement.reader ? (statement.all() as Array<Record<string, unknown>>) : (statement.run(), [])
    },
    async close() {
      client.close()
      remove()
    },
  }
}

export function pgStore(): Store {
  const schema = `lw_schema_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 6 })
  pool.on('error', () => undefined)
  let created: Promise<unknown> | null = null
  const ready = (): Promise<unknown> => (created ??= pool.query(`CREATE SCHEMA ${schema}`))
  return {
    db: drizzlePg({ client: pool }),
    async query(text) {
      await ready()
      return (await pool.query(text)).rows as Array<Record<string, unknown>>
    },
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await pool.end()
    },
  }
}

/** The server behind one URL, redeployed at each version. */
export interface SchemaSite {
  url: string
  sync: SyncServer
  /** Stops the server (clients go offline), runs the version's migration, starts the new server (`migrate()`). */
  deploy(version: Version): Promise<void>
  row(uid: string): Promise<Record<string, unknown> | undefined>
  close(): Promise<void>
}

/** A site serving `items` on `store`, merging rows or fields (`merge`). */
export async function openSite(store: Store, merge: 'row' | 'field' = 'row'): Promise<SchemaSite> {
  let http: HttpServer | null = null
  let port = 0
  const stop = async (): Promise<void> => {
    const server = http
    if (server === null) return
    http = null
    await site.sync.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  const site: SchemaSite = {
    url: '',
    sync: undefined as unknown as SyncServer,
    async deploy(version) {
      await stop()
      // As an app does before its migrations: SQLite refuses to drop a column a capture trigger names.
      if (version.ddl.length > 0) await dropCapture(store.db)
      for (const statement of version.ddl) await store.query(statement)
      const sync = createSyncServer({
        db: store.db,
        tables: { items: { table: version.table, merge, ...(version.renamed === undefined ? {} : { renamed: version.renamed }) } },
        limits: { maxRequestsPerSecond: 10_000 },
        ...(process.env['LW_DEBUG_SCHEMA'] === undefined ? {} : { logger: { debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error } }),
      })
      await sync.migrate()
      const server = createServer()
      sync.attach(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => resolve())
      })
      port = (server.address() as AddressInfo).port
      site.url = `http://127.0.0.1:${port}`
      site.sync = sync
      http = server
    },
    async row(uid) {
      return (await store.query(`SELECT * FROM items WHERE uid = '${uid}'`))[0]
    },
    async close() {
      await stop()
      await store.close()
    },
  }
  return site
}
