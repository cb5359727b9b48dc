/**
 * Operations on a server's database while real clients hold its data (T20, T21; SPEC.md R12): the real
 * sync server (socket.io on a port) over better-sqlite3 (a file) or PostgreSQL (a schema), real clients
 * (fake-indexeddb), and the operator's moves — a backup, a restore from it, another database at the same
 * URL. SQLite backs up with better-sqlite3's backup API and restores by copying the file back while the
 * server is down; PostgreSQL copies every table into a backup schema and back.
 */
import { copyFileSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import type { SyncClient } from '@lastword/client'
import { createSyncServer, type SyncDatabase, type SyncServer } from '@lastword/server'
import { PG_URL, tempDir } from '../../src/databases.js'
import { PG_DDL, SQLITE_DDL, pgItems, sqliteItems } from '../../src/schema.js'
import { newClient, settle, type TestServer } from '../fixture.js'

export type Item = {
  list: string
  title: string
  done: boolean
  n: number | null
}

/** What the server stores of a record: its stamps and, when live, its title. */
export interface ServerState {
  uid: string
  created_at: string
  updated_at: string
  deleted_at: string | null
  title: string | null
}

/** One database behind the URL, with the operator's moves. */
interface Store {
  readonly dialect: 'sqlite' | 'postgres'
  open(): Promise<SyncDatabase>
  /** Closes what `open` opened (the server is stopped first). */
  shut(): Promise<void>
  backup(): Promise<void>
  /** Puts the backup in place of the database (the server is stopped). */
  restore(): Promise<void>
  /** Another, empty database in place of this one (re-seeded, switched, a staging copy). */
  replace(): Promise<void>
  query(text: string): Promise<Array<Record<string, unknown>>>
  drop(): Promise<void>
}

const LASTWORD_TABLES = ['lastword_meta', 'lastword_changes', 'lastword_state', 'lastword_clients', 'lastword_lineage', 'lastword_erasures', 'lastword_schema']

function sqliteStore(): Store {
  const { dir, remove } = tempDir('lw-restore-')
  let generation = 0
  const file = (): string => join(dir, `app-${generation}.db`)
  const backupFile = join(dir, 'backup.db')
  let db: Database.Database | null = null
  return {
    dialect: 'sqlite',
    async open() {
      db = new Database(file())
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      for (const statement of SQLITE_DDL) db.exec(statement)
      return drizzleSqlite({ client: db })
    },
    async shut() {
      db?.close()
      db = null
    },
    async backup() {
      await (db as Database.Database).backup(backupFile)
    },
    async restore() {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file()}${suffix}`, { force: true })
      copyFileSync(backupFile, file())
    },
    async replace() {
      generation++
    },
    async query(text) {
      return (db as Database.Database).prepare(text).all() as Array<Record<string, unknown>>
    },
    async drop() {
      db?.close()
      remove()
    },
  }
}

function postgresStore(label: string): Store {
  const schema = `lw_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const backup = `${schema}_bk`
  const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 6 })
  pool.on('error', () => undefined)
  const tables = ['items', ...LASTWORD_TABLES]
  const fresh = async (): Promise<void> => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`)
    for (const statement of PG_DDL) await pool.query(statement)
  }
  let created = false
  return {
    dialect: 'postgres',
    async open() {
      if (!created) {
        await fresh()
        created = true
      }
      return drizzlePg({ client: pool })
    },
    async shut() {},
    async backup() {
      await pool.query(`DROP SCHEMA IF EXISTS ${backup} CASCADE; CREATE SCHEMA ${backup}`)
      for (const t of tables) await pool.query(`CREATE TABLE ${backup}.${t} AS TABLE ${schema}.${t}`)
    },
    async restore() {
      // As pg_restore --disable-triggers loads data: the capture triggers do not see the restore.
      const copy = tables.map((t) => `TRUNCATE ${schema}.${t}; INSERT INTO ${schema}.${t} SELECT * FROM ${backup}.${t};`).join(' ')
      await pool.query(`BEGIN; SET LOCAL session_replication_role = replica; ${copy} COMMIT`)
    },
    async replace() {
      await fresh()
    },
    async query(text) {
      return (await pool.query(text)).rows as Array<Record<string, unknown>>
    },
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${backup} CASCADE`)
      await pool.end()
    },
  }
}

/** The server behind one URL, whose database the operator backs up, restores or replaces. */
export interface Site {
  readonly dialect: 'sqlite' | 'postgres'
  readonly url: string
  sync: SyncServer
  /** Stops the server, lets `change` act on its database, starts it again on the same port (a restart: `migrate()`). */
  offline(change: 'restore' | 'replace' | 'restart'): Promise<void>
  backup(): Promise<void>
  /** Every record the server stores, tombstones included, by uid. */
  states(): Promise<ServerState[]>
  client(name?: string): SyncClient
  /** Raw SQL on the server's database (reads only). */
  query(text: string): Promise<Array<Record<string, unknown>>>
  close(): Promise<void>
}

export async function openSite(dialect: 'sqlite' | 'postgres', label: string): Promise<Site> {
  const store = dialect === 'sqlite' ? sqliteStore() : postgresStore(label)
  const items = dialect === 'sqlite' ? sqliteItems : pgItems
  let http: HttpServer | null = null
  let port = 0
  const clients: SyncClient[] = []
  const site = {} as Site & { sync: SyncServer }
  const start = async (): Promise<void> => {
    const sync = createSyncServer({ db: await store.open(), tables: { items }, limits: { maxRequestsPerSecond: 10_000 } })
    await sync.migrate()
    const server = createServer()
    sync.attach(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    port = (server.address() as AddressInfo).port
    http = server
    site.sync = sync
  }
  const stop = async (): Promise<void> => {
    const server = http
    if (server === null) return
    http = null
    await site.sync.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await store.shut()
  }
  await start()
  Object.assign(site, {
    dialect,
    url: `http://127.0.0.1:${port}`,
    async offline(change: 'restore' | 'replace' | 'restart') {
      await stop()
      if (change === 'restore') await store.restore()
      if (change === 'replace') await store.replace()
      await start()
    },
    backup: () => store.backup(),
    query: (text: string) => store.query(text),
    async states() {
      const rows = await store.query(
        `SELECT m.uid AS uid, m.created_at AS created_at, m.updated_at AS updated_at, m.deleted_at AS deleted_at, i.title AS title
         FROM lastword_meta m LEFT JOIN items i ON i.uid = m.uid WHERE m.tbl = 'items' ORDER BY m.uid`,
      )
      return rows.map((r) => ({
        uid: String(r['uid']),
        created_at: String(r['created_at']),
        updated_at: String(r['updated_at']),
        deleted_at: r['deleted_at'] === null ? null : String(r['deleted_at']),
        title: r['title'] === null || r['title'] === undefined ? null : String(r['title']),
      }))
    },
    client(name?: string) {
      const { client } = newClient({ url: site.url } as TestServer, name === undefined ? {} : { name })
      clients.push(client)
      return client
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()))
      await stop()
      await store.drop()
    },
  })
  return site
}

/** A client's records, tombstones included, as the server would store them (stamps and title). */
export async function heldStates(client: SyncClient, uids: readonly string[]): Promise<ServerState[]> {
  const out: ServerState[] = []
  for (const uid of [...uids].sort()) {
    const r = await client.table<Item>('items').record(uid)
    if (r === null) continue
    out.push({ uid, created_at: r.created_at, updated_at: r.updated_at, deleted_at: r.deleted_at, title: r.deleted_at === null ? String((r.row as Item | null)?.title) : null })
  }
  return out
}

/** The live records a client can read, by uid. */
export async function liveTitles(client: SyncClient): Promise<Array<[string, string]>> {
  const rows = await client.table<Item>('items').findMany({})
  return rows.map((r): [string, string] => [r.uid, r.title]).sort((a, b) => (a[0] < b[0] ? -1 : 1))
}

/** Subscribes a client to every item and syncs it until nothing is dirty. */
export async function follow(client: SyncClient): Promise<void> {
  client.table<Item>('items').subscribe({}, () => undefined)
  await settle(client)
}
