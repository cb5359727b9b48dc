/**
 * One lastword server node for the cluster tests and the multi-node benchmark, run as its own process:
 * `node --conditions=@lastword/source --import tsx integration/test/cluster/node.ts` with
 *
 *   PG_URL        the PostgreSQL server
 *   LW_SCHEMA     the schema every node of one deployment shares (search_path)
 *   LW_NODE       this node's name (application_name `lw-node-<name>` / `lw-adapter-<name>`)
 *   LW_ADAPTER    postgres (default) | redis | none
 *   LW_CHANNEL    the adapter's channel prefix (unique per deployment: NOTIFY channels are per database)
 *   LW_PORT       the port (default 0: any free one)
 *   LW_REDIS_URL  default redis://127.0.0.1:6379
 *   LW_MAX_PAYLOAD, LW_REPAIR_MS  cluster.maxPayloadBytes (default here 50,000) and repairIntervalMs (500)
 *
 * It reports `{ type: 'ready', port }` over IPC, then answers IPC commands: `hold` (the next write
 * transaction touching a uid with the given prefix stops after taking its revs, before commit, and
 * reports `{ type: 'held' }`), `release`, `stats`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdapter as createPgAdapter } from '@socket.io/postgres-adapter'
import { createAdapter as createRedisAdapter } from '@socket.io/redis-adapter'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { createClient } from 'redis'
import { createSyncServer, preparePostgresAdapter, type ClusterOptions } from '@lastword/server'
import type { EngineHooks } from '@lastword/server/testing'
import { ATTACHMENTS_TABLE, authenticate, authorize, items } from './schema.js'

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const pgUrl = env('PG_URL', 'postgres://postgres@127.0.0.1:5432/test')
const schema = env('LW_SCHEMA')
const name = env('LW_NODE', String(process.pid))
const adapterKind = env('LW_ADAPTER', 'postgres')
const channel = env('LW_CHANNEL', `lastword-${schema}`)
const port = Number(env('LW_PORT', '0'))
const options = `-c search_path=${schema}`

const send = (message: object): void => {
  process.send?.(message)
}

const appPool = new pg.Pool({ connectionString: pgUrl, options, max: 10, application_name: `lw-node-${name}` })
appPool.on('error', () => undefined)
const closers: Array<() => Promise<unknown>> = []

let cluster: ClusterOptions | undefined
if (adapterKind === 'postgres') {
  const adapterPool = new pg.Pool({ connectionString: pgUrl, options, max: 4, application_name: `lw-adapter-${name}` })
  await preparePostgresAdapter(adapterPool, { tableName: ATTACHMENTS_TABLE })
  cluster = { adapter: createPgAdapter(adapterPool, { channelPrefix: channel, tableName: ATTACHMENTS_TABLE, heartbeatInterval: 1_000, heartbeatTimeout: 3_000 }) }
  closers.push(() => adapterPool.end())
} else if (adapterKind === 'redis') {
  const url = env('LW_REDIS_URL', 'redis://127.0.0.1:6379')
  const pub = createClient({ url })
  const sub = pub.duplicate()
  pub.on('error', () => undefined)
  sub.on('error', () => undefined)
  await Promise.all([pub.connect(), sub.connect()])
  cluster = { adapter: createRedisAdapter(pub, sub, { key: channel }) }
  closers.push(() => Promise.all([pub.quit(), sub.quit()]))
}

let holdPrefix: string | null = null
let gate: (() => void) | null = null
const hooks: EngineHooks = {
  afterVersionRow: async ({ uids }) => {
    if (holdPrefix === null || !uids.some((uid) => uid.startsWith(holdPrefix as string))) return
    holdPrefix = null
    await new Promise<void>((resolve) => {
      gate = resolve
      send({ type: 'held', uids })
    })
  },
}

const sync = createSyncServer({
  db: drizzle(appPool),
  tables: { items: { table: items, serverColumns: { tenant: (p) => (p?.['tenant'] as string | undefined) ?? 'system' } } },
  authenticate,
  authorize,
  limits: { maxRequestsPerSecond: 100_000 },
  hooks,
  ...(cluster === undefined
    ? {}
    : { cluster: { ...cluster, repairIntervalMs: Number(env('LW_REPAIR_MS', '500')), maxPayloadBytes: Number(env('LW_MAX_PAYLOAD', '50000')) } }),
})
await sync.migrate()
const http = createServer()
sync.attach(http)
await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve))

process.on('message', (raw: unknown) => {
  const message = raw as { type: string; prefix?: string }
  if (message.type === 'hold') holdPrefix = message.prefix ?? 'hold-'
  else if (message.type === 'release') {
    gate?.()
    gate = null
  } else if (message.type === 'stats') send({ type: 'stats', stats: sync.clusterStats() ?? null })
  else if (message.type === 'stop') {
    void (async () => {
      await sync.close()
      http.closeAllConnections()
      http.close()
      for (const close of closers) await close().catch(() => undefined)
      await appPool.end().catch(() => undefined)
      process.exit(0)
    })()
  }
})
process.on('disconnect', () => process.exit(0))

send({ type: 'ready', port: (http.address() as AddressInfo).port })
