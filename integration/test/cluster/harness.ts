/**
 * A deployment for the cluster tests: N lastword server processes (`node.ts`) on one PostgreSQL schema
 * of their own (dropped after), with a socket.io adapter between them, and real clients
 * (`@lastword/client` on fake-indexeddb) spread across the nodes.
 */
import 'fake-indexeddb/auto'
import { fork, type ChildProcess } from 'node:child_process'
import { connect as connectTcp } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import pg from 'pg'
import { createSocketTransport, createSyncClient, type SyncClient, type TableHandle, type Transport } from '@lastword/client'
import type { Where } from '@lastword/core'
import type { ClusterStats } from '@lastword/server'
import { CREATE_ITEMS, type Item } from './schema.js'

export const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env['LW_REDIS_URL'] ?? 'redis://127.0.0.1:6379'
/** How many times each scenario runs (`RUNS=10` for a heavier run). */
export const RUNS = Math.max(1, Number(process.env['RUNS'] ?? 3))

const here = dirname(fileURLToPath(import.meta.url))
const NODE_SCRIPT = join(here, 'node.ts')
const INTEGRATION_DIR = resolve(here, '..', '..')

const ci = (): boolean => process.env['CI'] !== undefined && process.env['CI'] !== ''

/** Whether PostgreSQL answers; under CI a missing server fails, elsewhere the suite is skipped with the reason. */
export async function requirePostgres(label: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch (error) {
    const reason = `PostgreSQL at ${PG_URL} is unreachable: ${error instanceof Error ? error.message : String(error)}`
    if (ci()) throw new Error(`${reason}; CI needs it`)
    console.warn(`[${label}] skipped: ${reason}`)
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Whether Redis answers PING at `LW_REDIS_URL`; under CI a missing server fails, elsewhere the suite is skipped. */
export async function requireRedis(label: string): Promise<boolean> {
  const url = new URL(REDIS_URL)
  const ok = await new Promise<boolean>((done) => {
    const socket = connectTcp({ host: url.hostname, port: Number(url.port || 6379) })
    const timer = setTimeout(() => {
      socket.destroy()
      done(false)
    }, 2_000)
    socket.once('error', () => {
      clearTimeout(timer)
      done(false)
    })
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      clearTimeout(timer)
      socket.destroy()
      done(data.toString().startsWith('+PONG'))
    })
  })
  if (ok) return true
  const reason = `Redis at ${REDIS_URL} is unreachable`
  if (ci()) throw new Error(`${reason}; CI needs it (the Redis adapter tests)`)
  console.warn(`[${label}] skipped: ${reason}`)
  return false
}

export interface NodeProcess {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  /** Asks the node to stop the next write touching a uid with this prefix after its revs, before commit. */
  hold(prefix: string): void
  /** Resolves when the held write is waiting. */
  held(): Promise<void>
  release(): void
  stats(): Promise<ClusterStats>
  /** Whether the process is still running. */
  alive(): boolean
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>
  /** The process's stderr so far (for failure messages). */
  log(): string
}

export interface Deployment {
  /** Part of every node's application_name: `lw-node-<i>-<tag>`, `lw-adapter-<i>-<tag>`. */
  readonly tag: string
  readonly schema: string
  readonly channel: string
  readonly nodes: NodeProcess[]
  /** Raw SQL in the deployment's schema. */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>
  /** Starts node `i` again (after a kill) on the same port. */
  restart(i: number): Promise<NodeProcess>
  close(): Promise<void>
}

export interface DeploymentOptions {
  nodes: number
  adapter: 'postgres' | 'redis' | 'none'
  label: string
  /** The nodes' `cluster.repairIntervalMs` (node.ts's default otherwise). */
  repairMs?: number
}

let deployments = 0

async function spawnNode(d: { schema: string; channel: string; adapter: string; tag: string; repairMs?: number | undefined }, name: string, port = 0): Promise<NodeProcess> {
  const child = fork(NODE_SCRIPT, [], {
    cwd: INTEGRATION_DIR,
    execArgv: ['--conditions=@lastword/source', '--import', 'tsx'],
    env: { ...process.env, PG_URL, LW_SCHEMA: d.schema, LW_NODE: `${name}-${d.tag}`, LW_ADAPTER: d.adapter, LW_CHANNEL: d.channel, LW_PORT: String(port), LW_REDIS_URL: REDIS_URL, ...(d.repairMs === undefined ? {} : { LW_REPAIR_MS: String(d.repairMs) }) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000)
  })
  child.stdout?.on('data', () => undefined)
  const waiters = new Map<string, Array<(message: Record<string, unknown>) => void>>()
  child.on('message', (raw) => {
    const message = raw as Record<string, unknown>
    const list = waiters.get(String(message['type']))
    const first = list?.shift()
    first?.(message)
  })
  const next = (type: string, timeoutMs = 20_000): Promise<Record<string, unknown>> =>
    new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${name}: no "${type}" within ${timeoutMs} ms\n${stderr}`)), timeoutMs)
      const list = waiters.get(type) ?? []
      list.push((message) => {
        clearTimeout(timer)
        resolvePromise(message)
      })
      waiters.set(type, list)
    })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const ready = await Promise.race([
    next('ready', 60_000),
    exited.then(() => {
      throw new Error(`node ${name} exited before it was ready:\n${stderr}`)
    }),
  ])
  const url = `http://127.0.0.1:${Number(ready['port'])}`
  return {
    name,
    url,
    child,
    hold: (prefix) => child.send({ type: 'hold', prefix }),
    held: () => next('held').then(() => undefined),
    release: () => child.send({ type: 'release' }),
    async stats() {
      const reply = next('stats')
      child.send({ type: 'stats' })
      return (await reply)['stats'] as ClusterStats
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
    log: () => stderr,
  }
}

/** Starts a deployment: a fresh schema, the app table, and `nodes` server processes. */
export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  const tag = Math.random().toString(36).slice(2, 8)
  const schema = `lw_cluster_${process.pid}_${deployments++}_${tag}`
  const channel = `lw-${schema}`
  const admin = new pg.Pool({ connectionString: PG_URL, max: 3, options: `-c search_path=${schema}` })
  admin.on('error', () => undefined)
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.query(CREATE_ITEMS)
  const d = { schema, channel, adapter: options.adapter, tag, repairMs: options.repairMs }
  const nodes: NodeProcess[] = []
  try {
    // The first node migrates alone; the others start together.
    nodes.push(await spawnNode(d, '0'))
    nodes.push(...(await Promise.all(Array.from({ length: options.nodes - 1 }, (_, i) => spawnNode(d, String(i + 1))))))
  } catch (error) {
    await Promise.all(nodes.map((n) => n.kill()))
    await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined)
    await admin.end()
    throw error
  }
  return {
    tag,
    schema,
    channel,
    nodes,
    sql: async (text, params = []) => (await admin.query(text, params)).rows,
    async restart(i) {
      const old = nodes[i] as NodeProcess
      await old.kill()
      const port = Number(new URL(old.url).port)
      // The port may linger for a moment after a SIGKILL.
      for (let attempt = 0; ; attempt++) {
        try {
          const fresh = await spawnNode(d, old.name, port)
          nodes[i] = fresh
          return fresh
        } catch (error) {
          if (attempt >= 5) throw error
          await new Promise((r) => setTimeout(r, 200))
        }
      }
    },
    async close() {
      await Promise.all(nodes.map((n) => n.kill()))
      // Connections of killed nodes may linger for a moment; the schema goes once they are gone.
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1`, [`lw-%-${tag}`]).catch(() => undefined)
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    },
  }
}

// ---- clients ------------------------------------------------------------------------------------

/** The `lw:changes` events a client received, recorded as they arrive. */
export interface RecordedTransport extends Transport {
  events: Array<{ table: string; rows: unknown[][]; tombstones: unknown[][]; evict: string[]; at: number; firstRev: number; rev: number }>
}

function recording(inner: Transport): RecordedTransport {
  const t: RecordedTransport = {
    events: [],
    open: (handlers) =>
      inner.open({
        ...handlers,
        onChanges(event) {
          const e = event as { table: string; rows: unknown[][]; tombstones: unknown[][]; evict: [string, string][]; firstRev: number; rev: number }
          t.events.push({ table: e.table, rows: e.rows, tombstones: e.tombstones, evict: e.evict.map(([uid]) => uid), at: Date.now(), firstRev: e.firstRev, rev: e.rev })
          handlers.onChanges(event)
        },
      }),
    close: () => inner.close(),
    request: (event, payload, timeoutMs) => inner.request(event, payload, timeoutMs),
  }
  return t
}

export interface TestClient {
  readonly label: string
  readonly client: SyncClient
  readonly items: TableHandle<Item>
  readonly transport: RecordedTransport
  /** The uids this client has seen in realtime events (rows, tombstones, evictions). */
  seen(): Set<string>
}

let clients = 0

/** A client of `tenant:user` on the given node URLs (the first is tried first). */
export function newClient(urls: string | string[], token: string): TestClient {
  const label = `${token}#${clients++}`
  const transport = recording(createSocketTransport({ url: urls, reconnectionDelay: 20, reconnectionDelayMax: 200 }))
  const client = createSyncClient({
    name: `cluster-${label}`,
    transport,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    auth: { token },
    retry: { baseMs: 20, maxMs: 250 },
    requestTimeoutMs: 5_000,
    tabs: false,
  })
  return {
    label,
    client,
    items: client.table<Item>('items'),
    transport,
    seen() {
      const out = new Set<string>()
      for (const e of transport.events) {
        for (const r of e.rows) out.add(String(r[0]))
        for (const r of e.tombstones) out.add(String(r[0]))
        for (const uid of e.evict) out.add(uid)
      }
      return out
    },
  }
}

/** Resolves once `check` stops throwing; fails after `timeoutMs` with its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const start = Date.now()
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error
      await new Promise((r) => setTimeout(r, stepMs))
    }
  }
}

export function whenOnline(client: SyncClient, timeoutMs = 15_000): Promise<void> {
  return eventually(() => {
    if (client.status !== 'online' && client.status !== 'syncing') throw new Error(`${client.name} is ${client.status} (${client.lastError?.message})`)
  }, timeoutMs)
}

/** Syncs until nothing is dirty, then once more. */
export async function settle(client: SyncClient, timeoutMs = 15_000): Promise<void> {
  await whenOnline(client, timeoutMs)
  await eventually(async () => {
    await client.sync()
    if ((await client.pendingCount()) !== 0) throw new Error(`${client.name} still has dirty records`)
  }, timeoutMs)
  await client.sync()
}

export type Comparable = { uid: string; list: string; title: string; done: boolean; n: number | null }

/** A client's rows in `where`, comparable with {@link serverRows}. */
export async function clientRows(c: TestClient, where: Where = {}): Promise<Comparable[]> {
  const rows = await c.items.findMany(where)
  return rows.map((r) => ({ uid: r.uid, list: r.list, title: r.title, done: r.done, n: r.n })).sort((a, b) => (a.uid < b.uid ? -1 : 1))
}

/** The server's rows of a tenant (optionally one list). */
export async function serverRows(d: Deployment, tenant: string, list?: string): Promise<Comparable[]> {
  const rows = await d.sql<Comparable>(
    `SELECT uid, list, title, done, n FROM items WHERE tenant = $1 ${list === undefined ? '' : 'AND list = $2'} ORDER BY uid COLLATE "C"`,
    list === undefined ? [tenant] : [tenant, list],
  )
  return rows.map((r) => ({ uid: r.uid, list: r.list, title: r.title, done: r.done, n: r.n }))
}

export async function closeAll(list: TestClient[]): Promise<void> {
  await Promise.all(list.splice(0).map((c) => c.client.close().catch(() => undefined)))
}
