/**
 * The demo's one Node process: builds the web app, serves it and the lastword sync endpoint on one
 * port, and shows the server's rows live to the third pane (`/api/server-rows`, and as server-sent
 * events on `/api/server-rows/stream`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { createSyncServer, describeTables, preparePostgresAdapter, type ClusterOptions } from '@lastword/server'
import descriptors from '../src/lastword-tables.json' with { type: 'json' }
import { openDatabase } from './db.js'
import { demoTables } from './schema.js'
import { APP_DIR, buildWeb, staticHandler } from './web.js'

export interface DemoServerOptions {
  /** 0 picks a free port. Default 3000. */
  port?: number
  /** Default 127.0.0.1 (loopback). */
  host?: string
  /** SQLite file. Default apps/demo/.data/demo.db. */
  databasePath?: string
  /** `postgres://…` switches to PostgreSQL (node-postgres). */
  databaseUrl?: string | undefined
  /** Where the web app is built. Default apps/demo/dist. */
  outDir?: string
  /** Build the web app at start (default true). */
  build?: boolean
  /** Add a list and a few todos when there is no list yet (default true). */
  seed?: boolean
  /** How often the server pane's feed re-reads the rows, ms (default 400). */
  feedIntervalMs?: number
  /**
   * Run as one of several nodes on one PostgreSQL (`databaseUrl` required): realtime crosses nodes
   * through `@socket.io/postgres-adapter` (LISTEN/NOTIFY on the same database) or
   * `@socket.io/redis-adapter`. `channel` names the deployment (default `lastword-demo`).
   */
  cluster?: { adapter: 'postgres' | 'redis'; channel?: string; redisUrl?: string }
}

export interface DemoServer {
  url: string
  port: number
  /** "SQLite …" or "PostgreSQL …" */
  database: string
  close(): Promise<void>
}

export const DEFAULT_DATABASE_PATH = join(APP_DIR, '.data', 'demo.db')

const SEED = ['Buy oat milk', 'Book train tickets', 'Water the plants']

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const outDir = options.outDir ?? join(APP_DIR, 'dist')
  if (options.build !== false) await buildWeb(outDir)

  // The web app's descriptors (src/lastword-tables.json) must be the server's: refuse to start on stale ones.
  const described = describeTables(demoTables)
  if (!isDeepStrictEqual(described, descriptors)) {
    throw new Error(
      `apps/demo/src/lastword-tables.json is stale; rewrite it: (cd apps/demo && node --conditions=@lastword/source --import tsx -e "import { describeTables } from '@lastword/server'; import { demoTables } from './server/schema.ts'; console.log(JSON.stringify(describeTables(demoTables), null, 2))" > src/lastword-tables.json)`,
    )
  }

  const database = await openDatabase({
    databasePath: options.databasePath ?? DEFAULT_DATABASE_PATH,
    databaseUrl: options.databaseUrl,
  })
  let adapter: Awaited<ReturnType<typeof clusterAdapter>> | undefined
  try {
    adapter = options.cluster === undefined ? undefined : await clusterAdapter(options.cluster, options.databaseUrl)
  } catch (error) {
    await database.close()
    throw error
  }
  const sync = createSyncServer({
    db: database.db,
    // The web app's tables (schema.ts: todos merged column by column, each in a list), on this dialect's Drizzle tables.
    tables: { lists: database.tables.lists, todos: { ...demoTables.todos, table: database.tables.todos } },
    ...(adapter === undefined ? {} : { cluster: { adapter: adapter.adapter } }),
  })
  try {
    await sync.migrate()
  } catch (error) {
    await adapter?.close()
    await database.close()
    throw error
  }
  const todos = sync.service('todos')
  const lists = sync.service('lists')
  if (options.seed !== false && (await lists.findMany()).length === 0) {
    const home = await lists.create({ name: 'Home', edited_by: 'Server' })
    const all = await todos.findMany()
    // A database made before lists: its todos go to the first list; a fresh one gets the seeded todos.
    for (const todo of all) if (todo.list_uid === null) await todos.update(todo.uid, { list_uid: home })
    if (all.length === 0) for (const title of SEED) await todos.create({ title, done: false, edited_by: 'Server', list_uid: home })
  }

  // The server pane's feed: one poller while anyone listens, sending only when the rows changed.
  const listeners = new Set<ServerResponse>()
  let last = ''
  let timer: ReturnType<typeof setInterval> | null = null
  const snapshot = async (): Promise<string> => {
    const byUid = (a: { uid: string }, b: { uid: string }): number => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0)
    const [rows, listRows] = await Promise.all([todos.findMany(), lists.findMany()])
    return JSON.stringify({ database: database.label, rows: rows.sort(byUid), lists: listRows.sort(byUid) })
  }
  const tick = async (): Promise<void> => {
    try {
      const body = await snapshot()
      if (body === last) return
      last = body
      for (const res of listeners) res.write(`data: ${body}\n\n`)
    } catch {
      // The database is closing, or busy: the next tick tries again.
    }
  }

  const serveStatic = staticHandler(outDir)
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/api/server-rows') {
      const body = await snapshot()
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body)
      return
    }
    if (path === '/api/server-rows/stream') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      })
      res.write(`data: ${await snapshot()}\n\n`)
      listeners.add(res)
      timer ??= setInterval(() => void tick(), options.feedIntervalMs ?? 400)
      req.on('close', () => {
        listeners.delete(res)
        if (listeners.size === 0 && timer) {
          clearInterval(timer)
          timer = null
          last = ''
        }
      })
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    await serveStatic(req, res)
  }

  const httpServer: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(error instanceof Error ? error.message : String(error))
    })
  })
  sync.attach(httpServer)

  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolvePromise, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(options.port ?? 3000, host, () => {
      httpServer.off('error', reject)
      resolvePromise()
    })
  })
  const port = (httpServer.address() as AddressInfo).port
  const shownHost = host === '127.0.0.1' || host === '0.0.0.0' || host === '::' ? 'localhost' : host

  let closing: Promise<void> | null = null
  return {
    url: `http://${shownHost}:${port}`,
    port,
    database: adapter === undefined ? database.label : `${database.label}, ${adapter.label}`,
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer)
        for (const res of listeners) res.end()
        listeners.clear()
        await sync.close()
        httpServer.closeAllConnections()
        await new Promise<void>((done) => httpServer.close(() => done()))
        await adapter?.close()
        await database.close()
      })()
      return closing
    },
  }
}

/** The socket.io adapter of a cluster node, and how to close what it holds. */
async function clusterAdapter(
  cluster: NonNullable<DemoServerOptions['cluster']>,
  databaseUrl: string | undefined,
): Promise<{ adapter: NonNullable<ClusterOptions['adapter']>; label: string; close(): Promise<void> }> {
  const channel = cluster.channel ?? 'lastword-demo'
  if (cluster.adapter === 'postgres') {
    if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('Several nodes need PostgreSQL: set DATABASE_URL=postgres://…')
    const [{ default: pg }, { createAdapter }] = await Promise.all([import('pg'), import('@socket.io/postgres-adapter')])
    // A pool of its own: the adapter keeps one connection LISTENing for as long as it runs.
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'lastword-demo-adapter' })
    await preparePostgresAdapter(pool)
    return { adapter: createAdapter(pool, { channelPrefix: channel }), label: 'nodes linked by PostgreSQL LISTEN/NOTIFY', close: () => pool.end() }
  }
  const [{ createClient }, { createAdapter }] = await Promise.all([import('redis'), import('@socket.io/redis-adapter')])
  const pub = createClient({ url: cluster.redisUrl ?? 'redis://127.0.0.1:6379' })
  const sub = pub.duplicate()
  pub.on('error', () => {})
  sub.on('error', () => {})
  await Promise.all([pub.connect(), sub.connect()])
  return {
    adapter: createAdapter(pub, sub, { key: channel }),
    label: 'nodes linked by Redis',
    async close() {
      await Promise.all([pub.quit(), sub.quit()]).catch(() => {})
    },
  }
}
