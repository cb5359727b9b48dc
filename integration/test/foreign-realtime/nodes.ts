/**
 * Several server nodes on one database, for foreign writes by realtime across nodes (rows T24, T26):
 * SQLite — one better-sqlite3 connection per node on one WAL file, in this process, no adapter;
 * PostgreSQL — one pool per node on a fresh schema (named after this suite, dropped after), with a
 * socket.io adapter between them (`@socket.io/postgres-adapter`, or `@socket.io/redis-adapter` on Redis)
 * or none. Each node's change feed runs on manual timers of its own, its backstop a minute of them away; the app's
 * plain Drizzle handle on each node's database; raw SQL on a connection of no node; real clients on any
 * node, their realtime events and `lw:sync` requests recorded (`site.ts`).
 */
import 'fake-indexeddb/auto'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createAdapter as createPgAdapter } from '@socket.io/postgres-adapter'
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter'
import Database from 'better-sqlite3'
import { eq } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import pg from 'pg'
import { createClient } from 'redis'
import type { SyncClient } from '@lastword/client'
import { createSyncServer, preparePostgresAdapter, type ClusterOptions, type SyncServer } from '@lastword/server'
import { PG_URL, tempDir } from '../../src/databases.js'
import { POLL_MS, manualTimers, pgTodos, sqliteTodos, watchedClient, type ManualTimers, type WatchedClient } from './site.js'

/** How long a node's feed waits for a rev's publication before it reads the change log (`cluster.repairIntervalMs`). */
export const GRACE_MS = 200
/** The feed's backstop interval: a minute of the manual timers, never reached unless a test advances them by it (a test's polls add up to a few seconds). */
export const CHECK_MS = 60_000
export { POLL_MS }

export type AdapterKind = 'postgres' | 'redis' | 'none'

export interface TodoRow {
  uid: string
  title: string
  done: boolean
}

/** One server node: its engine, its feed's timers, its URL, and the app's plain Drizzle writes on its database handle. */
export interface SiteNode {
  readonly name: string
  readonly sync: SyncServer
  readonly timers: ManualTimers
  readonly url: string
  readonly drizzle: {
    insert(row: TodoRow): Promise<unknown>
    update(uid: string, set: { title: string; done: boolean }): Promise<unknown>
    delete(uid: string): Promise<unknown>
  }
}

export interface NodesSite {
  readonly dialect: 'sqlite' | 'postgres'
  readonly adapter: AdapterKind
  readonly nodes: SiteNode[]
  /** Raw SQL on a connection that belongs to no node (SQLite: another connection to the file; PostgreSQL: a pg client). */
  raw(text: string): Promise<void>
  /** The version row (`lastword_state.rev`), read on that connection. */
  rev(): Promise<number>
  /** A real client connected to node `i`. */
  client(i: number, name: string): WatchedClient
  close(): Promise<void>
}

let sites = 0

export async function openNodes(dialect: 'sqlite' | 'postgres', count: number, adapter: AdapterKind = 'none'): Promise<NodesSite> {
  if (dialect === 'sqlite' && adapter !== 'none') throw new Error('SQLite nodes run without an adapter')
  const releases: Array<() => Promise<unknown>> = []
  const nodes: SiteNode[] = []
  const https: HttpServer[] = []
  const clients: SyncClient[] = []
  let raw: NodesSite['raw']
  let rev: NodesSite['rev']
  let node: (i: number) => Promise<{ db: Parameters<typeof createSyncServer>[0]['db']; drizzle: SiteNode['drizzle']; cluster?: ClusterOptions }>
  if (dialect === 'sqlite') {
    const { dir, remove } = tempDir('lw-foreign-nodes-')
    const file = join(dir, 'app.db')
    const open: Database.Database[] = []
    const connection = (): Database.Database => {
      const c = new Database(file)
      c.pragma('journal_mode = WAL')
      c.pragma('synchronous = FULL')
      open.push(c)
      return c
    }
    const other = connection()
    other.exec('CREATE TABLE todos (uid TEXT PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL)')
    raw = async (text) => void other.exec(text)
    rev = async () => Number((other.prepare('SELECT rev FROM lastword_state WHERE id = 1').get() as { rev: number }).rev)
    releases.push(async () => {
      for (const c of open) if (c.open) c.close()
      remove()
    })
    node = async () => {
      const app = drizzleSqlite({ client: connection() })
      return {
        db: app,
        drizzle: {
          insert: async (row) => app.insert(sqliteTodos).values(row).run(),
          update: async (uid, set) => app.update(sqliteTodos).set(set).where(eq(sqliteTodos.uid, uid)).run(),
          delete: async (uid) => app.delete(sqliteTodos).where(eq(sqliteTodos.uid, uid)).run(),
        },
      }
    }
  } else {
    // Named after this suite, so engineers' runs sharing the server never meet.
    const tag = `${process.pid}_${sites++}_${Math.random().toString(36).slice(2, 8)}`
    const schema = `fwrt_nodes_${tag}`
    const channel = `lw-fwrt-nodes-${tag}`
    const options = `-c search_path=${schema}`
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const other = new pg.Client({ connectionString: PG_URL, options, application_name: `fwrt-nodes-raw-${tag}` })
    await other.connect()
    await other.query('CREATE TABLE todos (uid text PRIMARY KEY, title text NOT NULL, done boolean NOT NULL)')
    raw = async (text) => void (await other.query(text))
    rev = async () => Number((await other.query<{ rev: string }>('SELECT rev FROM lastword_state WHERE id = 1')).rows[0]?.rev)
    releases.push(async () => {
      await other.end()
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1`, [`fwrt-nodes-%-${tag}`]).catch(() => undefined)
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.end()
    })
    node = async (i) => {
      const pool = new pg.Pool({ connectionString: PG_URL, options, max: 6, application_name: `fwrt-nodes-${i}-${tag}` })
      pool.on('error', () => undefined)
      releases.unshift(() => pool.end())
      const app = drizzlePg({ client: pool })
      let cluster: ClusterOptions | undefined
      if (adapter === 'postgres') {
        const adapterPool = new pg.Pool({ connectionString: PG_URL, options, max: 3, application_name: `fwrt-nodes-adapter${i}-${tag}` })
        adapterPool.on('error', () => undefined)
        releases.unshift(() => adapterPool.end())
        await preparePostgresAdapter(adapterPool, { tableName: 'lw_io_attachments' })
        cluster = { adapter: createPgAdapter(adapterPool, { channelPrefix: channel, tableName: 'lw_io_attachments', heartbeatInterval: 1_000, heartbeatTimeout: 3_000 }) }
      } else if (adapter === 'redis') {
        const pub = createClient({ url: process.env['LW_REDIS_URL'] ?? 'redis://127.0.0.1:6379' })
        const sub = pub.duplicate()
        pub.on('error', () => undefined)
        sub.on('error', () => undefined)
        await Promise.all([pub.connect(), sub.connect()])
        releases.unshift(() => Promise.all([pub.quit(), sub.quit()]))
        cluster = { adapter: createRedisAdapter(pub, sub, { key: channel }) }
      }
      return {
        db: app,
        drizzle: {
          insert: (row) => app.insert(pgTodos).values(row),
          update: (uid, set) => app.update(pgTodos).set(set).where(eq(pgTodos.uid, uid)),
          delete: (uid) => app.delete(pgTodos).where(eq(pgTodos.uid, uid)),
        },
        ...(cluster === undefined ? {} : { cluster: { ...cluster, repairIntervalMs: GRACE_MS } }),
      }
    }
  }
  const todos = dialect === 'sqlite' ? sqliteTodos : pgTodos
  for (let i = 0; i < count; i++) {
    const { db, drizzle, cluster } = await node(i)
    const timers = manualTimers()
    // No backstop within a test: only the database's signal (the poll, the NOTIFY) wakes a feed.
    const sync = createSyncServer({
      db,
      tables: { todos },
      limits: { maxRequestsPerSecond: 10_000 },
      feed: { timers, pollIntervalMs: POLL_MS, checkIntervalMs: CHECK_MS },
      ...(cluster === undefined ? {} : { cluster }),
    })
    await sync.migrate()
    const http = createServer()
    sync.attach(http)
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(0, '127.0.0.1', () => resolve())
    })
    https.push(http)
    nodes.push({ name: String(i), sync, timers, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, drizzle })
  }
  return {
    dialect,
    adapter,
    nodes,
    raw,
    rev,
    client(i, name) {
      const watched = watchedClient((nodes[i] as SiteNode).url, name, false)
      clients.push(watched.client)
      return watched
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()))
      for (const n of nodes) await n.sync.close()
      for (const http of https) {
        http.closeAllConnections()
        await new Promise<void>((resolve) => http.close(() => resolve()))
      }
      for (const release of releases) await release().catch(() => undefined)
    },
  }
}
