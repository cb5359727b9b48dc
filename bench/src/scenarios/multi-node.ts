/**
 * The multi-node scenario: lastword server processes on one PostgreSQL, linked by a socket.io adapter
 * (the nodes are `integration/test/cluster/node.ts`, one process each, on loopback ports).
 *
 * - fan-out latency: a client on node 0 creates a record; how long until a subscribed client on another
 *   node receives it in realtime (and, for comparison, one on the same node). Measured from the
 *   `create()` call: the client's push, the commit, the publication through the adapter, the receiving
 *   node's per-socket decision, the event.
 * - push throughput: clients pushing new records (batches of `batch`, one table, disjoint scopes), all
 *   on one node vs spread over three; acknowledged records per second.
 *
 * `pnpm bench` runs it in an actor (`../systems/multi-node.ts`, `--only multi-node`) and reports its
 * figures with the others. `runMultiNode(options)` returns the figures with their raw samples and the
 * peak RSS of each phase, `renderMultiNode(result)` a markdown table. Standalone (prints the table):
 *
 *   node --conditions=@lastword/source --import tsx bench/src/scenarios/multi-node.ts [--adapter redis] [--quick]
 */
import { fork, type ChildProcess } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'
import { peakRss, peakRssOf, resetPeak, resetPeakOf } from '../lib/mem.js'
import { createSocketTransport, createSyncClient, type SyncClient, type TableHandle, type Transport } from '@lastword/client'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(here, '..', '..', '..')
const INTEGRATION_DIR = join(ROOT, 'integration')
const NODE_SCRIPT = join(INTEGRATION_DIR, 'test', 'cluster', 'node.ts')
const CREATE_ITEMS =
  'CREATE TABLE IF NOT EXISTS items (uid text PRIMARY KEY, tenant text NOT NULL, list text NOT NULL, title text NOT NULL, done boolean NOT NULL, n integer, body text)'

export interface MultiNodeOptions {
  /** `postgres` (LISTEN/NOTIFY on the same database, default) or `redis`. */
  adapter?: 'postgres' | 'redis'
  pgUrl?: string
  /** For the Redis adapter. Default `REDIS_URL`, else redis://127.0.0.1:6379. */
  redisUrl?: string
  /**
   * The run's schema is this plus a random suffix (lowercase letters, digits and `_`; `pnpm bench` drops
   * what a killed run left by it). Default `lwbench_multi_<pid>_`.
   */
  schemaPrefix?: string
  /** Writes whose fan-out is timed (0: no fan-out figures). Default 200. */
  fanOutWrites?: number
  /** Pushing clients in the throughput runs (0: no throughput figures). Default 12. */
  pushClients?: number
  /** Batches each pushing client sends. Default 15. */
  pushBatches?: number
  /** Records per batch. Default 20. */
  batch?: number
}

/** Peak RSS during one phase, bytes: the largest of the three nodes', and the clients' process. */
export interface Peaks {
  /** null off Linux (read from /proc/<pid>/status). */
  server: number | null
  client: number
}

export interface LatencyFigures {
  n: number
  p50: number
  p99: number
  max: number
  /** Every latency, ms, in write order. */
  samples: number[]
  peaks: Peaks
}

export interface ThroughputFigures {
  nodes: number
  clients: number
  records: number
  seconds: number
  recordsPerSecond: number
  syncsPerSecond: number
  /** Records per push (one `sync()` after each batch). */
  batch: number
  peaks: Peaks
}

export interface MultiNodeResult {
  adapter: 'postgres' | 'redis'
  /** Write on node 0 → a client on node 1 and one on node 2 (two samples per write), ms; null if not run. */
  crossNode: LatencyFigures | null
  /** Write on node 0 → another client on node 0, ms (the single-node baseline); null if not run. */
  sameNode: LatencyFigures | null
  /** Clients all on node 0, then spread over nodes 0–2 (empty if not run). */
  throughput: ThroughputFigures[]
}

interface Item {
  readonly tenant?: string
  list: string
  title: string
  done: boolean
  n: number | null
  body: string | null
}

interface NodeHandle {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

async function spawnNode(env: Record<string, string>, name: string): Promise<NodeHandle> {
  const child = fork(NODE_SCRIPT, [], {
    cwd: INTEGRATION_DIR,
    execArgv: ['--conditions=@lastword/source', '--import', 'tsx'],
    env: { ...process.env, ...env, LW_NODE: name },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`node ${name} did not start:\n${stderr}`)), 60_000)
    child.on('message', (m) => {
      const message = m as { type: string; port?: number }
      if (message.type === 'ready') {
        clearTimeout(timer)
        done(Number(message.port))
      }
    })
    child.once('exit', (code) => fail(new Error(`node ${name} exited (${code}):\n${stderr}`)))
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode !== null) return
      child.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** A memory-store client that stamps the arrival of every realtime event. */
function benchClient(url: string, token: string, arrivals?: Map<string, number>): { client: SyncClient; items: TableHandle<Item> } {
  const inner = createSocketTransport({ url, reconnectionDelay: 20, reconnectionDelayMax: 200 })
  const transport: Transport = {
    open: (handlers) =>
      inner.open({
        ...handlers,
        onChanges(event) {
          if (arrivals !== undefined) {
            const at = performance.now()
            for (const row of (event as { rows: unknown[][] }).rows) if (!arrivals.has(String(row[0]))) arrivals.set(String(row[0]), at)
          }
          handlers.onChanges(event)
        },
      }),
    close: () => inner.close(),
    request: (event, payload, timeoutMs) => inner.request(event, payload, timeoutMs),
  }
  const client = createSyncClient({ name: `bench-${token}-${Math.random()}`, transport, store: 'memory', auth: { token }, retry: { baseMs: 20, maxMs: 500 } })
  return { client, items: client.table<Item>('items') }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

async function settled(client: SyncClient): Promise<void> {
  await until(() => client.status === 'online' || client.status === 'syncing', 15_000, `${client.name} online`)
  await client.sync()
  await until(async () => (await client.pendingCount()) === 0, 30_000, `${client.name} drained`)
}

function figures(values: number[], peaks: Peaks): LatencyFigures {
  const s = [...values].sort((a, b) => a - b)
  const at = (p: number): number => s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1] ?? NaN
  return { n: s.length, p50: at(50), p99: at(99), max: s[s.length - 1] ?? NaN, samples: values, peaks }
}

/** Peak RSS per phase: this process (the clients) and the nodes, from the kernel's high-water marks. */
function startPeaks(nodes: NodeHandle[]): () => Peaks {
  resetPeak()
  for (const n of nodes) if (n.child.pid !== undefined) resetPeakOf(n.child.pid)
  return () => {
    const server = nodes.map((n) => (n.child.pid === undefined ? undefined : peakRssOf(n.child.pid)))
    return { server: server.every((b) => b !== undefined) ? Math.max(...(server as number[])) : null, client: peakRss() }
  }
}

/** Runs the scenario on a fresh schema (dropped after) and returns its figures. */
export async function runMultiNode(options: MultiNodeOptions = {}): Promise<MultiNodeResult> {
  const adapter = options.adapter ?? 'postgres'
  const pgUrl = options.pgUrl ?? process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
  const schema = `${options.schemaPrefix ?? `lwbench_multi_${process.pid}_`}${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Pool({ connectionString: pgUrl, max: 2, options: `-c search_path=${schema}` })
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.query(CREATE_ITEMS)
  const redisUrl = options.redisUrl ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'
  const env = {
    PG_URL: pgUrl,
    LW_SCHEMA: schema,
    LW_ADAPTER: adapter,
    LW_CHANNEL: `lw-${schema}`,
    LW_REDIS_URL: redisUrl,
    LW_MAX_PAYLOAD: String(1024 * 1024),
    LW_REPAIR_MS: '1000',
  }
  const nodes: NodeHandle[] = []
  const clients: SyncClient[] = []
  try {
    nodes.push(await spawnNode(env, 'b0'))
    nodes.push(...(await Promise.all([spawnNode(env, 'b1'), spawnNode(env, 'b2')])))
    const url = (i: number): string => (nodes[i] as NodeHandle).url

    // ---- fan-out latency -----------------------------------------------------------------------
    const writes = options.fanOutWrites ?? 200
    let crossNode: LatencyFigures | null = null
    let sameNode: LatencyFigures | null = null
    if (writes > 0) {
      const list = 'fan'
      const writer = benchClient(url(0), 'acme:writer')
      const remote = [1, 2].map((i) => ({ arrivals: new Map<string, number>(), i }))
      const remoteClients = remote.map((r) => benchClient(url(r.i), `acme:r${r.i}`, r.arrivals))
      const local = new Map<string, number>()
      const localClient = benchClient(url(0), 'acme:local', local)
      const all = [writer, ...remoteClients, localClient]
      clients.push(...all.map((c) => c.client))
      for (const c of all) c.items.subscribe({ list }, () => undefined)
      await Promise.all(all.map((c) => settled(c.client)))
      const peaks = startPeaks(nodes)
      const started = new Map<string, number>()
      for (let w = 0; w < writes; w++) {
        const t0 = performance.now()
        const uid = await writer.items.create({ list, title: `w${w}`, done: false, n: w, body: null })
        started.set(uid, t0)
        await until(() => remote.every((r) => r.arrivals.has(uid)) && local.has(uid), 10_000, `fan-out of ${uid}`)
      }
      const phasePeaks = peaks()
      const cross: number[] = []
      const same: number[] = []
      for (const [uid, t0] of started) {
        for (const r of remote) cross.push((r.arrivals.get(uid) as number) - t0)
        same.push((local.get(uid) as number) - t0)
      }
      crossNode = figures(cross, phasePeaks)
      sameNode = figures(same, phasePeaks)
      await Promise.all(clients.splice(0).map((c) => c.close()))
    }

    // ---- push throughput -----------------------------------------------------------------------
    const throughput: ThroughputFigures[] = []
    const pushClients = options.pushClients ?? 12
    const batches = options.pushBatches ?? 15
    const batch = options.batch ?? 20
    for (const spread of pushClients > 0 ? [1, 3] : []) {
      const pushers = Array.from({ length: pushClients }, (_, i) => benchClient(url(i % spread), `acme:p${spread}-${i}`))
      clients.push(...pushers.map((p) => p.client))
      pushers.forEach((p, i) => p.items.subscribe({ list: `push-${spread}-${i}` }, () => undefined))
      await Promise.all(pushers.map((p) => settled(p.client)))
      const peaks = startPeaks(nodes)
      const t0 = performance.now()
      await Promise.all(
        pushers.map(async (p, i) => {
          for (let b = 0; b < batches; b++) {
            await Promise.all(Array.from({ length: batch }, (_, k) => p.items.create({ list: `push-${spread}-${i}`, title: `b${b}-${k}`, done: false, n: k, body: null })))
            await p.client.sync()
          }
          await settled(p.client)
        }),
      )
      const seconds = (performance.now() - t0) / 1000
      const phasePeaks = peaks()
      const records = pushClients * batches * batch
      const stored = Number((await admin.query(`SELECT count(*) AS n FROM items WHERE list LIKE $1`, [`push-${spread}-%`])).rows[0]?.n)
      if (stored !== records) throw new Error(`expected ${records} records on the server, found ${stored}`)
      throughput.push({
        nodes: spread,
        clients: pushClients,
        records,
        seconds,
        recordsPerSecond: records / seconds,
        syncsPerSecond: (pushClients * batches) / seconds,
        batch,
        peaks: phasePeaks,
      })
      await Promise.all(clients.splice(0).map((c) => c.close()))
    }
    return { adapter, crossNode, sameNode, throughput }
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
    await Promise.all(nodes.map((n) => n.stop()))
    await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined)
    await admin.end()
  }
}

/** The figures as a markdown table. */
export function renderMultiNode(result: MultiNodeResult): string {
  const ms = (v: number): string => `${v.toFixed(1)} ms`
  const lines = [`### Multi-node (3 server processes, one PostgreSQL, ${result.adapter} adapter)`, '', '| figure | value |', '|---|---|']
  const { crossNode, sameNode } = result
  if (crossNode !== null && sameNode !== null) {
    lines.push(
      `| fan-out latency, write on node 0 → client on node 1/2, p50 | ${ms(crossNode.p50)} |`,
      `| fan-out latency, write on node 0 → client on node 1/2, p99 | ${ms(crossNode.p99)} (max ${ms(crossNode.max)}, n = ${crossNode.n}) |`,
      `| same-node baseline (client on node 0), p50 / p99 | ${ms(sameNode.p50)} / ${ms(sameNode.p99)} |`,
    )
  }
  for (const t of result.throughput) {
    lines.push(
      `| push throughput, ${t.clients} clients on ${t.nodes} node${t.nodes === 1 ? '' : 's'} | ${Math.round(t.recordsPerSecond)} records/s (${t.syncsPerSecond.toFixed(1)} pushes/s; ${t.records} records in ${t.seconds.toFixed(2)} s) |`,
    )
  }
  return lines.join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2)
  const quick = args.includes('--quick')
  const adapter = args.includes('--adapter') ? (args[args.indexOf('--adapter') + 1] as 'postgres' | 'redis') : 'postgres'
  // --quick: the sample counts of `pnpm bench --quick` (MULTI_NODE in ../main.ts).
  const result = await runMultiNode({ adapter, ...(quick ? { fanOutWrites: 40, pushClients: 6, pushBatches: 5 } : {}) })
  console.log(renderMultiNode(result))
  process.exit(0)
}
