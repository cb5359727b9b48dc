/**
 * pnpm bench — lastword against the physical limit, against the old way (full reconciliation), and
 * against its peers (RxDB, PouchDB), in one run. See ../README.md.
 *
 *   pnpm bench                 full run (N = 1,000, 10,000, 100,000; 3 repetitions)
 *   pnpm bench --quick         smoke run (< 2 min: N = 1,000, 1 repetition, no peers at large N)
 *   pnpm bench --only resync   only the scenarios whose name starts with one of the given words
 *                              (limit, initial, resync, reconnect, realtime, push, multi-node, chromium, batch,
 *                              peers, lastword)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setActorLog, spawnActor, type Actor } from './lib/actors.js'
import { touched } from './lib/data.js'
import type { Figure } from './lib/figures.js'
import { dropSchemasStartingWith, pgAvailable, PG_URL } from './lib/pg.js'
import { startProxy, type CountingProxy } from './lib/proxy.js'
import { redisAvailable, REDIS_URL } from './lib/redis.js'
import { renderChart, renderMarkdown } from './lib/report.js'
import { percentile, summarize } from './lib/stats.js'
import { checkTargets } from './lib/targets.js'
// Types only: the scenario itself loads lastword's client, in its actor (systems/multi-node.ts).
import type { MultiNodeOptions, MultiNodeResult, Peaks } from './scenarios/multi-node.js'

// ---------------------------------------------------------------------------------------------- CLI
const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const onlyIdx = argv.indexOf('--only')
const only = onlyIdx >= 0 ? (argv[onlyIdx + 1] ?? '').split(',').filter(Boolean) : []
const nIdx = argv.indexOf('--n')
/** `--n 10000` (comma-separated) runs only these N (the limits included). */
const onlyNs = nIdx >= 0 ? (argv[nIdx + 1] ?? '').split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0) : []
/** `--no-peers`: lastword's figures only (with `--only initial,resync-…`, which would otherwise run the peers' too). */
const noPeers = argv.includes('--no-peers')
const NS = onlyNs.length > 0 ? onlyNs : quick ? [1_000] : [1_000, 10_000, 100_000]
const REPS = quick ? 1 : 3
const PEER_MAX_N = quick ? 1_000 : 100_000
const REALTIME_SAMPLES = quick ? 20 : 200
const COMMIT_SAMPLES = quick ? 50 : 500
const PUSH_TOTAL = quick ? 1_000 : 10_000
const PUSH_CLIENTS = quick ? [10] : [1, 10, 50]
/** Multi-node, per adapter: timed writes, then pushing clients × batches × records (about 10 s quick, 15–30 s full). */
const MULTI_NODE = { fanOutWrites: quick ? 40 : 200, pushClients: quick ? 6 : 12, pushBatches: quick ? 5 : 15, batch: 20 }
/** Quick: peers at their default settings only (no batch-size sweep). */
const PEER_SWEEP = !quick
const CALL_LIMIT_MS = quick ? 60_000 : 600_000
const PUSH_LIMIT_MS = quick ? 30_000 : 120_000
const started = Date.now()
/** The run's time budget: past it, remaining suites are skipped (and listed in the report). */
const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? (quick ? 80 : 28 * 60)) * 1000
const skipped: string[] = []
function overBudget(what: string): boolean {
  if (Date.now() - started < BUDGET_MS) return false
  skipped.push(what)
  return true
}

/** `peers` stands for every peer system. */
const expand = (o: string) => (o === 'peers' ? ['peers', 'rxdb', 'pouchdb'] : [o])
const wants = (...names: string[]) =>
  only.length === 0 || only.flatMap(expand).some((o) => names.some((n) => n.startsWith(o) || o.startsWith(n)))

const here = dirname(fileURLToPath(import.meta.url))
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const resultsDir = join(here, '..', 'results')
mkdirSync(resultsDir, { recursive: true })
setActorLog(join(resultsDir, `${stamp}.log`))

const figures: Figure[] = []
const notes: string[] = []
const say = (s: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${s}\n`)

function push(f: Figure): void {
  figures.push(f)
  writeResults(true)
  const t = f.ms ? `${f.ms.median.toFixed(1)} ms` : f.p50 !== undefined ? `p50 ${f.p50.toFixed(2)} ms` : ''
  say(`${f.system}/${f.backend}/${f.variant} ${f.scenario} n=${f.n}: ${f.error ? `ERROR ${f.error}` : t}${f.recordsPerSec ? ` ${Math.round(f.recordsPerSec)} rec/s` : ''}`)
}

// ------------------------------------------------------------------------------------------ systems
interface SystemSpec {
  system: string
  backend: string
  variant: string
  server: string
  serverArgs: unknown[]
  client: string
  storage?: string
  batchSize?: number
  url: (port: number) => string
  /** Server statements are counted (lastword). */
  sql?: boolean
  /** Runs the old way beside each resync figure (lastword). */
  oldWay?: boolean
}

const lastwordSystems = (pgOk: boolean): SystemSpec[] => [
  { system: 'lastword', backend: 'sqlite', variant: 'default', server: 'lastword-server', serverArgs: ['sqlite'], client: 'lastword-client', url: (p) => `http://127.0.0.1:${p}`, sql: true, oldWay: true },
  ...(pgOk
    ? [{ system: 'lastword', backend: 'postgres', variant: 'default', server: 'lastword-server', serverArgs: ['postgres'], client: 'lastword-client', url: (p: number) => `http://127.0.0.1:${p}`, sql: true, oldWay: true }]
    : []),
]

const rxdb = (storage: 'memory' | 'dexie', batchSize?: number): SystemSpec => ({
  system: 'rxdb',
  backend: storage === 'dexie' ? 'dexie/fake-indexeddb' : 'memory',
  variant: batchSize ? `batch=${batchSize}` : 'default',
  server: 'rxdb-server',
  serverArgs: [],
  client: 'rxdb-client',
  storage,
  ...(batchSize ? { batchSize } : {}),
  url: (p) => `ws://127.0.0.1:${p}`,
})
const pouch = (batchSize?: number): SystemSpec => ({
  system: 'pouchdb',
  backend: 'memory',
  variant: batchSize ? `batch=${batchSize}` : 'default',
  server: 'pouch-server',
  serverArgs: [],
  client: 'pouch-client',
  ...(batchSize ? { batchSize } : {}),
  url: (p) => `http://127.0.0.1:${p}/items`,
})

// -------------------------------------------------------------------------------------- measurement
interface Step {
  ms: number
  up: number
  down: number
  roundTrips: number
  connections: number
  statements: number | null
  serverPeak: number
  clientPeak: number
}

async function statements(server: Actor, sql?: boolean): Promise<number | null> {
  if (!sql) return null
  return (await server.call<number | null>('statements')) ?? null
}

async function measure(server: Actor, client: Actor, proxy: CountingProxy, sys: SystemSpec, method: string, ...args: unknown[]): Promise<Step> {
  await server.call('resetPeak')
  await client.call('resetPeak')
  const s0 = await statements(server, sys.sql)
  proxy.reset()
  const r = await client.callPeak<number>(method, ...args)
  const wire = proxy.counts()
  const s1 = await statements(server, sys.sql)
  const serverPeak = await server.call<number>('peakRss')
  return { ms: r.result, ...wire, statements: s0 === null || s1 === null ? null : s1 - s0, serverPeak, clientPeak: r.peak }
}

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10

function figureOf(scenario: string, sys: SystemSpec, n: number, steps: Step[], extra: Partial<Figure> = {}): Figure {
  const med = (k: keyof Step) => summarize(steps.map((s) => (s[k] as number) ?? 0)).median
  return {
    scenario,
    system: sys.system,
    backend: sys.backend,
    variant: sys.variant,
    n,
    samples: steps.map((s) => s.ms),
    ms: summarize(steps.map((s) => s.ms)),
    up: Math.round(med('up')),
    down: Math.round(med('down')),
    roundTrips: Math.round(med('roundTrips')),
    connections: Math.round(med('connections')),
    statements: sys.sql ? Math.round(med('statements')) : null,
    serverPeakMb: mb(Math.max(...steps.map((s) => s.serverPeak))),
    clientPeakMb: mb(Math.max(...steps.map((s) => s.clientPeak))),
    ...extra,
  }
}

function failed(scenario: string, sys: Pick<SystemSpec, 'system' | 'backend' | 'variant'>, n: number, e: unknown): Figure {
  const text = (e as Error)?.message ?? String(e)
  let line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'failed (no message)'
  if (/COL23/.test(text)) {
    line = "RxDB's open-source core allows at most 16 open collections per process (error COL23, lifted only by its premium plugins), so this many RxDB clients cannot run in one process"
  }
  say(`${sys.system}/${sys.backend}/${sys.variant} ${scenario} n=${n} failed: ${text.slice(0, 2000)}`)
  return { scenario, system: sys.system, backend: sys.backend, variant: sys.variant, n, samples: [], ms: null, error: line.slice(0, 300) }
}

interface Started {
  server: Actor
  client: Actor
  proxy: CountingProxy
  stop: () => Promise<void>
}

async function startSystem(sys: SystemSpec, n: number, tag: string): Promise<Started> {
  const server = await spawnActor(sys.server)
  server.timeout(CALL_LIMIT_MS)
  let client: Actor | undefined
  let proxy: CountingProxy | undefined
  try {
    const { port, seeded } = await server.call<{ port: number; seeded?: boolean }>('start', ...sys.serverArgs, { tag, n })
    if (n > 0 && !seeded) await server.call('seed', n)
    proxy = await startProxy(port)
    client = await spawnActor(sys.client)
    client.timeout(CALL_LIMIT_MS)
    const c = client
    const p = proxy
    return {
      server,
      client: c,
      proxy: p,
      stop: async () => {
        await c.call('closeAll').catch(() => null)
        await c.stop()
        await server.call('stop').catch(() => null)
        await server.stop()
        await p.close()
      },
    }
  } catch (e) {
    await client?.stop()
    await server.call('stop').catch(() => null)
    await server.stop()
    await proxy?.close()
    throw e
  }
}

// ------------------------------------------------------------------------------------------- limits
/** Limits by name and n: 'idb' (fake-indexeddb put), 'sqlite', 'postgres', 'chromium-idb'. */
const limits = new Map<string, number>()
const limitKey = (name: string, n: number) => `${name}:${n}`

async function runLimits(pgOk: boolean): Promise<void> {
  const raw = await spawnActor('raw')
  raw.timeout(CALL_LIMIT_MS)
  const sizes = new Set<number>()
  for (const n of NS) {
    sizes.add(n)
    sizes.add(Math.max(1, Math.round(n / 100)))
  }
  const pushN = PUSH_TOTAL
  sizes.add(pushN)
  try {
    for (const n of [...sizes].sort((a, b) => a - b)) {
      const reps = Math.max(REPS, n <= 1_000 ? 3 : REPS)
      const kinds: Array<[string, string, unknown[]]> = [
        ['idb', 'idbBulkPut', [n, reps]],
        ['sqlite', 'sqliteInsert', [n, reps]],
        ...(pgOk ? ([['postgres', 'pgInsert', [n, reps, `lwbench_raw_${process.pid}`]]] as Array<[string, string, unknown[]]>) : []),
      ]
      for (const [name, method, args] of kinds) {
        try {
          await raw.call('resetPeak')
          const r = await raw.callPeak<number[]>(method, ...args)
          limits.set(limitKey(name, n), summarize(r.result).median)
          push({
            scenario: 'limit',
            system: 'limit',
            backend: name === 'idb' ? 'fake-indexeddb put' : name === 'sqlite' ? 'sqlite insert' : 'postgres insert',
            variant: 'raw',
            n,
            samples: r.result,
            ms: summarize(r.result),
            recordsPerSec: (n / summarize(r.result).median) * 1000,
            clientPeakMb: mb(r.peak),
          })
        } catch (e) {
          push({ scenario: 'limit', system: 'limit', backend: name, variant: 'raw', n, samples: [], ms: null, error: (e as Error).message })
        }
      }
    }
    // One durable single-row commit, many times: the floor a realtime write's p99 is held against.
    const commits: Array<[string, string, unknown[]]> = [
      ['sqlite commit', 'sqliteCommits', [COMMIT_SAMPLES]],
      ...(pgOk ? ([['postgres commit', 'pgCommits', [COMMIT_SAMPLES, `lwbench_commit_${process.pid}`]]] as Array<[string, string, unknown[]]>) : []),
    ]
    for (const [backend, method, args] of commits) {
      try {
        const r = await raw.call<number[]>(method, ...args)
        push({ scenario: 'limit', system: 'limit', backend, variant: 'single-row', n: 1, samples: r, ms: summarize(r), p50: percentile(r, 50), p99: percentile(r, 99) })
      } catch (e) {
        push({ scenario: 'limit', system: 'limit', backend, variant: 'single-row', n: 1, samples: [], ms: null, error: (e as Error).message })
      }
    }
  } finally {
    await raw.stop()
  }
}

let chromiumActor: Actor | undefined

async function runChromiumLimits(): Promise<string | null> {
  try {
    chromiumActor = await spawnActor('chromium')
    const ch = chromiumActor
    ch.timeout(CALL_LIMIT_MS)
    const why = await ch.call<string | null>('start')
    if (why) {
      await ch.stop()
      chromiumActor = undefined
      return why
    }
    for (const n of NS) {
      const r = await ch.call<number[]>('rawBulkPut', n, REPS)
      limits.set(limitKey('chromium-idb', n), summarize(r).median)
      push({ scenario: 'limit', system: 'limit', backend: 'chromium IndexedDB put', variant: 'raw', n, samples: r, ms: summarize(r), recordsPerSec: (n / summarize(r).median) * 1000 })
    }
    return null
  } catch (e) {
    await chromiumActor?.stop()
    chromiumActor = undefined
    return (e as Error).message.slice(0, 500)
  }
}

/** lastword's initial sync in headless Chromium on real IndexedDB, from the SQLite server. */
async function runChromiumLastword(): Promise<void> {
  const ch = chromiumActor
  if (!ch) return
  const sys: SystemSpec = { ...lastwordSystems(false)[0]!, backend: 'sqlite → chromium' }
  for (const n of NS) {
    if (overBudget(`lastword in Chromium N=${n}`)) continue
    let st: Started | undefined
    try {
      st = await startSystem({ ...sys, client: 'raw' }, n, `chromium_${n}`)
      say(`chromium: lastword server seeded with ${n}`)
      await st.server.call('resetPeak')
      const s0 = await st.server.call<number>('statements')
      st.proxy.reset()
      const r = await ch.call<{ samples: number[]; error?: string }>('lastwordInitial', `http://127.0.0.1:${st.proxy.port}`, n, n >= 100_000 ? 1 : REPS)
      if (r.error) throw new Error(r.error)
      const wire = st.proxy.counts()
      const k = r.samples.length
      const lim = limits.get(limitKey('chromium-idb', n))
      const med = summarize(r.samples).median
      push({
        scenario: 'initial',
        system: 'lastword',
        backend: 'sqlite → chromium',
        variant: 'default',
        n,
        samples: r.samples,
        ms: summarize(r.samples),
        up: Math.round(wire.up / k),
        down: Math.round(wire.down / k),
        roundTrips: Math.round(wire.roundTrips / k),
        connections: Math.round(wire.connections / k),
        statements: Math.round(((await st.server.call<number>('statements')) - s0) / k),
        serverPeakMb: mb(await st.server.call<number>('peakRss')),
        note: 'client RSS not measured (browser)',
        ...(lim ? { limitName: 'chromium IndexedDB put', limitMs: lim, ratio: med / lim } : {}),
      })
    } catch (e) {
      push(failed('initial', sys, n, e))
    } finally {
      await st?.stop()
    }
  }
}

// ------------------------------------------------------------------------------------- sync suites
async function runSyncSuite(sys: SystemSpec, n: number, repsAll: number): Promise<void> {
  const reps = repsAll
  const tag = `${sys.system}_${sys.backend}_${n}`.replace(/[^a-z0-9]/gi, '_').toLowerCase()
  const anything =
    wants('initial', 'resync', 'reconnect', 'old', sys.system) || (n === NS[0] && (wants('realtime') || (PUSH_IN_SUITE && wants('push'))))
  if (!anything) return
  let st: Started
  try {
    st = await startSystem(sys, n, tag)
  } catch (e) {
    push(failed('initial', sys, n, e))
    return
  }
  const { server, client, proxy } = st
  const base = { url: sys.url(proxy.port), ...(sys.batchSize ? { batchSize: sys.batchSize } : {}), ...(sys.storage ? { storage: sys.storage } : {}) }
  const k = Math.max(1, Math.round(n / 100))
  try {
    // Initial sync: a new replica each repetition (the first one, A, is kept).
    if (wants('initial', sys.system)) {
      const steps: Step[] = []
      for (let r = 0; r < reps; r++) {
        const id = r === 0 ? 'A' : `I${r}`
        await client.call('open', id, base)
        steps.push(await measure(server, client, proxy, sys, 'initial', id))
        const count = await client.call<number>('count', id)
        if (count !== n) throw new Error(`initial sync left ${count} records on the client, expected ${n}`)
        if (r > 0) await client.call('close', id)
      }
      const lim = limits.get(limitKey('idb', n))
      const med = summarize(steps.map((s) => s.ms)).median
      push(figureOf('initial', sys, n, steps, lim ? { limitName: 'fake-indexeddb put', limitMs: lim, ratio: med / lim } : {}))
    } else {
      await client.call('open', 'A', base)
      await client.call('initial', 'A')
    }

    // The old way runs on the same replica A after the incremental figures, its checkpoint dropped
    // before every sync (so no second initial sync is needed).
    const variants: Array<{ id: string; variant: string; full: boolean }> = [{ id: 'A', variant: sys.variant, full: false }]
    // Old-way scope: 'all' figures, 'one' (resync with nothing changed, once), or none — decided by
    // projecting the last full resync quadratically (it grows about as N², see the report).
    let oldWayScope: 'all' | 'one' | 'none' = 'none'
    if (sys.oldWay && wants('resync', 'reconnect', 'old', sys.system)) {
      const prev = oldWayMs.get(sys.backend)
      const projected = prev ? prev.ms * (n / prev.n) ** 2 : 0
      const why = prev ? `a full resync took ${(prev.ms / 1000).toFixed(1)} s at N=${prev.n.toLocaleString('en-US')}, projecting ${(projected / 1000).toFixed(0)} s at N=${n.toLocaleString('en-US')}` : ''
      oldWayScope = projected > OLD_WAY_MAX_MS ? 'none' : projected > OLD_WAY_MAX_MS / 6 ? 'one' : 'all'
      if (oldWayScope === 'none') notes.push(`lastword/${sys.backend}: the old way at N=${n.toLocaleString('en-US')} skipped: ${why}`)
      if (oldWayScope === 'one') notes.push(`lastword/${sys.backend}: the old way at N=${n.toLocaleString('en-US')} measured once, for resync with nothing changed only: ${why}`)
      if (oldWayScope !== 'none') variants.push({ id: 'A', variant: 'full (old way)', full: true })
    }
    const newFigures = new Map<string, Figure>()
    for (const v of variants) {
      const vs = { ...sys, variant: v.variant }
      await client.call('setForceFull', v.id, v.full)
      // The old way at 100,000 runs once per figure (a full reconciliation of 100,000 records each).
      const reps = v.full && (n >= 100_000 || oldWayScope === 'one') ? 1 : repsAll
      const record = (scenario: string, steps: Step[], limit?: [string, string, number]) => {
        const med = summarize(steps.map((s) => s.ms)).median
        const lim = limit ? limits.get(limitKey(limit[1], limit[2])) : undefined
        const f = figureOf(scenario, vs, n, steps, limit && lim ? { limitName: limit[0], limitMs: lim, ratio: med / lim } : {})
        if (!v.full) newFigures.set(scenario, f)
        else {
          if (scenario === 'resync-none') oldWayMs.set(sys.backend, { n, ms: med })
          const inc = newFigures.get(scenario)
          if (inc?.ms) {
            inc.fullMs = med
            inc.gain = med / inc.ms.median
          }
        }
        push(f)
      }
      const tryStep = async (scenario: string, fn: () => Promise<void>) => {
        if (!wants(scenario, sys.system, 'old')) return
        if (v.full && oldWayScope === 'one' && scenario !== 'resync-none') return
        try {
          await fn()
        } catch (e) {
          push(failed(scenario, vs, n, e))
        }
      }
      const repsCheap = quick || (v.full && oldWayScope === 'one') ? (v.full ? 1 : 3) : v.full ? reps : Math.max(reps, 5)
      await tryStep('resync-none', async () => {
        const steps: Step[] = []
        for (let r = 0; r < repsCheap; r++) steps.push(await measure(server, client, proxy, vs, 'resync', v.id))
        record('resync-none', steps)
      })
      await tryStep('reconnect-none', async () => {
        const steps: Step[] = []
        for (let r = 0; r < repsCheap; r++) {
          await client.call('offline', v.id)
          steps.push(await measure(server, client, proxy, vs, 'online', v.id))
        }
        record('reconnect-none', steps)
      })
      await tryStep('resync-client', async () => {
        const steps: Step[] = []
        for (let r = 0; r < reps; r++) {
          await client.call('offline', v.id)
          await client.call('update', v.id, touched(n, 0.01), 10 + r + (v.full ? 50 : 0))
          steps.push(await measure(server, client, proxy, vs, 'online', v.id))
        }
        record('resync-client', steps, ['sqlite insert 1 %', sys.backend === 'postgres' ? 'postgres' : 'sqlite', k])
      })
      await tryStep('resync-server', async () => {
        const steps: Step[] = []
        for (let r = 0; r < reps; r++) {
          await client.call('offline', v.id)
          await server.call('serverUpdate', touched(n, 0.01).map((i) => (i + 1) % n), 200 + r + (v.full ? 50 : 0))
          steps.push(await measure(server, client, proxy, vs, 'online', v.id))
        }
        record('resync-server', steps, ['fake-indexeddb put 1 %', 'idb', k])
      })
      await tryStep('resync-create', async () => {
        const steps: Step[] = []
        for (let r = 0; r < reps; r++) {
          await client.call('offline', v.id)
          await client.call('create', v.id, 0, k, 100 + r + (v.full ? 50 : 0))
          steps.push(await measure(server, client, proxy, vs, 'online', v.id))
        }
        record('resync-create', steps, ['sqlite insert 1 %', sys.backend === 'postgres' ? 'postgres' : 'sqlite', k])
      })
      await tryStep('resync-delete', async () => {
        const steps: Step[] = []
        for (let r = 0; r < reps; r++) {
          await client.call('offline', v.id)
          await client.call('remove', v.id, touched(n, 0.01).map((i) => (i + 2 + r + (v.full ? 10 : 0)) % n))
          steps.push(await measure(server, client, proxy, vs, 'online', v.id))
        }
        record('resync-delete', steps)
      })
    }
    await client.call('setForceFull', 'A', false)

    if (wants('realtime', sys.system) && n === NS[0]) {
      // lastword also with syncDebounceMs: 0 set explicitly (the default since local writes are pushed at once;
      // older reports had a 50 ms default): the two rows should agree.
      const pairs: Array<[string, string, string, Record<string, unknown>]> = [['A', 'B', sys.variant, {}]]
      if (sys.system === 'lastword' && !quick) pairs.push(['A0', 'B0', 'syncDebounceMs=0', { debounceMs: 0 }])
      for (const [a, b, variant, extra] of pairs) {
        try {
          if (a !== 'A') {
            await client.call('open', a, { ...base, ...extra })
            await client.call('initial', a)
          }
          await client.call('open', b, { ...base, ...extra })
          await client.call('initial', b)
          await server.call('resetPeak')
          await client.call('resetPeak')
          proxy.reset()
          const r = await client.callPeak<number[]>('realtime', a, b, REALTIME_SAMPLES)
          const wire = proxy.counts()
          push({
            scenario: 'realtime',
            system: sys.system,
            backend: sys.backend,
            variant,
            n,
            samples: r.result,
            ms: summarize(r.result),
            p50: percentile(r.result, 50),
            p99: percentile(r.result, 99),
            up: Math.round(wire.up / r.result.length),
            down: Math.round(wire.down / r.result.length),
            note: 'bytes per write, both clients',
            serverPeakMb: mb(await server.call<number>('peakRss')),
            clientPeakMb: mb(r.peak),
          })
        } catch (e) {
          push(failed('realtime', { ...sys, variant }, n, e))
        } finally {
          await client.call('close', b).catch(() => null)
          if (a !== 'A') await client.call('close', a).catch(() => null)
        }
      }
    }
    if (PUSH_IN_SUITE && n === NS[0] && wants('push', sys.system)) {
      for (const c of PUSH_CLIENTS) await runPush(st, sys, c)
    }
  } catch (e) {
    push(failed('initial', sys, n, e))
  } finally {
    await st.stop()
  }
}

/**
 * Push throughput on a started system: `clients` replicas (synced, then offline) each write their share
 * of PUSH_TOTAL new records, then all reconnect at once; timed until every one is in sync.
 */
async function runPush(st: Started, sys: SystemSpec, clients: number): Promise<void> {
  const perClient = Math.max(1, Math.floor(PUSH_TOTAL / clients))
  const { server, client, proxy } = st
  const base = { url: sys.url(proxy.port), ...(sys.batchSize ? { batchSize: sys.batchSize } : {}), ...(sys.storage ? { storage: sys.storage } : {}) }
  const vs = { ...sys, variant: `${sys.variant}, ${clients} client${clients > 1 ? 's' : ''}` }
  const ids = Array.from({ length: clients }, (_, i) => `P${clients}_${i}`)
  try {
    for (const [i, id] of ids.entries()) {
      await client.call('open', id, base)
      await client.call('initial', id)
      await client.call('offline', id)
      await client.call('create', id, 0, perClient, 1_000 + clients * 100 + i)
    }
    const before = await server.call<number>('count')
    // A push that has not finished after PUSH_LIMIT_MS is reported as such (below a rate) and the run
    // goes on: a few pathological figures must not eat the run's time budget.
    client.timeout(PUSH_LIMIT_MS)
    let step: Step
    try {
      step = await measure(server, client, proxy, sys, 'pushAll', ids)
    } catch (e) {
      if (!/timed out/.test((e as Error).message)) throw e
      throw new Error(
        `not finished after ${PUSH_LIMIT_MS / 1000} s (< ${Math.round((perClient * clients) / (PUSH_LIMIT_MS / 1000))} records/s); wire so far: ${JSON.stringify(proxy.counts())}`,
      )
    } finally {
      client.timeout(CALL_LIMIT_MS)
    }
    const total = perClient * clients
    const count = await server.call<number>('count')
    if (count !== before + total) throw new Error(`server holds ${count} records after the push, expected ${before + total}`)
    const limName = sys.backend === 'postgres' ? 'postgres' : 'sqlite'
    const lim = limits.get(limitKey(limName, PUSH_TOTAL))
    push(
      figureOf('push', vs, total, [step], {
        clients,
        recordsPerSec: (total / step.ms) * 1000,
        ...(lim ? { limitName: `${limName} insert`, limitMs: lim, ratio: step.ms / lim } : {}),
      }),
    )
  } catch (e) {
    push(failed('push', vs, PUSH_TOTAL, e))
  } finally {
    for (const id of ids) await client.call('close', id).catch(() => null)
  }
}

/** Push throughput on a fresh, empty server. */
async function runPushSuite(sys: SystemSpec, clients: number): Promise<void> {
  let st: Started
  try {
    st = await startSystem(sys, 0, `${sys.system}_${sys.backend}_push${clients}`.replace(/[^a-z0-9]/gi, '_').toLowerCase())
  } catch (e) {
    push(failed('push', sys, PUSH_TOTAL, e))
    return
  }
  try {
    await runPush(st, sys, clients)
  } finally {
    await st.stop()
  }
}

// -------------------------------------------------------------------------------------- multi-node
/**
 * lastword on three server processes sharing one PostgreSQL, once per socket.io adapter (PostgreSQL,
 * then Redis if it answers): cross-node fan-out latency and push throughput with clients on 1 node vs
 * 3 (see scenarios/multi-node.ts). Each adapter runs in a fresh actor, which forks the three nodes.
 */
async function runMultiNodeSuite(pgWhy: string | null): Promise<void> {
  if (pgWhy !== null) {
    notes.push(`Multi-node figures skipped: they need PostgreSQL (${pgWhy})`)
    return
  }
  const fanOut = wants('multi-node-fanout', 'lastword')
  const pushes = wants('multi-node-push', 'lastword')
  const redisWhy = await redisAvailable()
  if (redisWhy) notes.push(`Multi-node figures with the Redis adapter skipped: ${redisWhy}`)
  const adapters: Array<'postgres' | 'redis'> = redisWhy ? ['postgres'] : ['postgres', 'redis']
  for (const adapter of adapters) {
    if (overBudget(`lastword multi-node (${adapter} adapter)`)) continue
    const records = MULTI_NODE.pushClients * MULTI_NODE.pushBatches * MULTI_NODE.batch
    const variant = `${adapter} adapter`
    const sys = { system: 'lastword', backend: 'postgres, 3 nodes', variant }
    // The actor names its schema after our pid and the adapter; a killed actor's is dropped below.
    const schemaPrefix = `lwbench_multi_${process.pid}_${adapter}_`
    let actor: Actor | undefined
    let reported = false
    try {
      actor = await spawnActor('multi-node')
      actor.timeout(CALL_LIMIT_MS)
      say(`multi-node: ${adapter} adapter, 3 nodes`)
      const options: MultiNodeOptions = {
        adapter,
        pgUrl: PG_URL,
        redisUrl: REDIS_URL,
        schemaPrefix,
        batch: MULTI_NODE.batch,
        fanOutWrites: fanOut ? MULTI_NODE.fanOutWrites : 0,
        pushClients: pushes ? MULTI_NODE.pushClients : 0,
        pushBatches: MULTI_NODE.pushBatches,
      }
      const r = await actor.call<MultiNodeResult>('run', options)
      reported = true
      const peaks = (p: Peaks) => ({
        ...(p.server === null ? {} : { serverPeakMb: mb(p.server) }),
        clientPeakMb: mb(p.client),
      })
      for (const [path, l] of [['node 0 → nodes 1, 2', r.crossNode], ['node 0 → node 0 (baseline)', r.sameNode]] as const) {
        if (l === null) continue
        push({
          scenario: 'multi-node-fanout',
          ...sys,
          variant: `${variant}, ${path}`,
          n: MULTI_NODE.fanOutWrites,
          samples: l.samples,
          ms: summarize(l.samples),
          p50: percentile(l.samples, 50),
          p99: percentile(l.samples, 99),
          adapter,
          nodes: 3,
          ...peaks(l.peaks),
        })
      }
      const single = r.throughput.find((t) => t.nodes === 1)
      for (const t of r.throughput) {
        const relative = single && t !== single ? `; ${(t.recordsPerSecond / single.recordsPerSecond).toFixed(2)}× the 1-node rate` : ''
        push({
          scenario: 'multi-node-push',
          ...sys,
          variant: `${variant}, ${t.clients} clients on ${t.nodes} node${t.nodes === 1 ? '' : 's'}`,
          n: t.records,
          samples: [t.seconds * 1000],
          ms: summarize([t.seconds * 1000]),
          recordsPerSec: t.recordsPerSecond,
          clients: t.clients,
          adapter,
          nodes: t.nodes,
          ...peaks(t.peaks),
          note: `${t.syncsPerSecond.toFixed(1)} pushes/s of ${t.batch} records${relative}`,
        })
      }
    } catch (e) {
      if (reported) throw e // the harness, not the scenario
      if (fanOut) push(failed('multi-node-fanout', sys, MULTI_NODE.fanOutWrites, e))
      if (pushes) push(failed('multi-node-push', sys, records, e))
    } finally {
      await actor?.stop()
      await dropSchemasStartingWith(schemaPrefix).catch((e: Error) => say(`multi-node: could not drop ${schemaPrefix}*: ${e.message}`))
    }
  }
}

/** The old way's last full resync (nothing changed) per backend, to project the next N. */
const oldWayMs = new Map<string, { n: number; ms: number }>()
const OLD_WAY_MAX_MS = 120_000

/** Quick mode pushes into the suite's own (seeded) server, saving a server start per figure. */
const PUSH_IN_SUITE = quick

/** The peers' best batch size: initial sync at one N for each candidate; the fastest wins. */
async function batchSweep(make: (b?: number) => SystemSpec, candidates: number[], n: number): Promise<number | undefined> {
  let best: { b: number | undefined; ms: number } | undefined
  for (const b of [undefined, ...candidates]) {
    const sys = make(b)
    let st: Started | undefined
    try {
      st = await startSystem(sys, n, 'sweep')
      await st.client.call('open', 'S', { url: sys.url(st.proxy.port), ...(b ? { batchSize: b } : {}), ...(sys.storage ? { storage: sys.storage } : {}) })
      const step = await measure(st.server, st.client, st.proxy, sys, 'initial', 'S')
      push(figureOf('batch-sweep', sys, n, [step]))
      if (!best || step.ms < best.ms) best = { b, ms: step.ms }
    } catch (e) {
      push(failed('batch-sweep', sys, n, e))
    } finally {
      await st?.stop()
    }
  }
  return best?.b
}

// --------------------------------------------------------------------------------------------- run
async function main(): Promise<void> {
  say(`mode: ${quick ? 'quick' : 'full'}; N = ${NS.join(', ')}; ${REPS} repetition(s)${only.length ? `; only ${only.join(', ')}` : ''}`)
  const pgWhy = await pgAvailable()
  if (pgWhy) notes.push(`PostgreSQL figures skipped: ${pgWhy}`)
  const pgOk = pgWhy === null

  if (wants('limit', 'initial', 'resync', 'push', 'lastword', 'peers', 'rxdb', 'pouchdb', 'chromium')) await runLimits(pgOk)
  if (wants('chromium', 'limit', 'initial', 'lastword')) {
    const why = await runChromiumLimits()
    if (why) notes.push(`Chromium figures skipped: ${why}`)
  }

  // lastword
  const lwProbe = await probeLastword()
  if (lwProbe) notes.push(`lastword figures skipped: ${lwProbe}`)
  const lwSuites = !lwProbe && wants('lastword', 'initial', 'resync', 'reconnect', 'realtime', 'old', ...(PUSH_IN_SUITE ? ['push'] : []))
  if (lwSuites) {
    for (const sys of lastwordSystems(pgOk)) for (const n of NS.filter((x) => x < 100_000)) if (!overBudget(`lastword/${sys.backend} N=${n}`)) await runSyncSuite(sys, n, REPS)
  }
  if (!lwProbe && !PUSH_IN_SUITE && wants('push', 'lastword')) {
    for (const sys of lastwordSystems(pgOk)) for (const c of PUSH_CLIENTS) if (!overBudget(`lastword/${sys.backend} push ${c}`)) await runPushSuite(sys, c)
  }
  // Multi-node (about 20 s quick, 30–60 s full): lastword's own figures, cheap, so before the long N = 100,000 suites.
  if (!lwProbe && wants('multi-node', 'lastword')) await runMultiNodeSuite(pgWhy)
  if (lwSuites && NS.includes(100_000)) {
    for (const sys of lastwordSystems(pgOk)) if (!overBudget(`lastword/${sys.backend} N=100,000`)) await runSyncSuite(sys, 100_000, REPS)
  }

  // peers: N below 100,000 for every peer and variant first, then 100,000 (once each) last, so that a
  // run short of time loses the least.
  if (!noPeers && wants('peers', 'rxdb', 'pouchdb', 'initial', 'resync', 'reconnect', 'realtime', 'push', 'batch')) {
    const sweepN = quick ? 1_000 : 10_000
    const peerSets: Array<{ make: (b?: number) => SystemSpec; candidates: number[] }> = [
      { make: (b) => rxdb('memory', b), candidates: [1_000, 5_000] },
      { make: (b) => rxdb('dexie', b), candidates: [1_000, 5_000] },
      { make: (b) => pouch(b), candidates: [500, 2_000] },
    ]
    const later: SystemSpec[] = []
    for (const ps of peerSets) {
      const name = `${ps.make().system}/${ps.make().backend}`
      if (!wants('peers', ps.make().system, 'initial', 'resync', 'reconnect', 'realtime', 'push', 'batch')) continue
      if (overBudget(`${name} (every figure)`)) continue
      const best = PEER_SWEEP && (wants('batch', 'peers', ps.make().system) || only.length === 0) ? await batchSweep(ps.make, ps.candidates, sweepN) : undefined
      const variants = best === undefined ? [ps.make()] : [ps.make(), ps.make(best)]
      if (best !== undefined) notes.push(`${name}: best batch size at N=${sweepN.toLocaleString('en-US')}: ${best} (default: ${name.startsWith('pouchdb') ? 'batch_size 100' : 'batchSize 100'})`)
      for (const sys of variants) {
        for (const n of NS.filter((x) => x < 100_000)) if (!overBudget(`${sys.system}/${sys.backend}/${sys.variant} N=${n}`)) await runSyncSuite(sys, n, REPS)
        if (!PUSH_IN_SUITE && wants('push', 'peers', sys.system)) {
          for (const c of PUSH_CLIENTS) if (!overBudget(`${sys.system}/${sys.backend}/${sys.variant} push ${c}`)) await runPushSuite(sys, c)
        }
        if (PEER_MAX_N >= 100_000 && NS.includes(100_000)) later.push(sys)
      }
    }
    for (const sys of later) if (!overBudget(`${sys.system}/${sys.backend}/${sys.variant} N=100,000`)) await runSyncSuite(sys, 100_000, 1)
  }

  // lastword in Chromium last: its 100,000 figure is the longest of the run.
  if (!lwProbe && chromiumActor && wants('chromium', 'initial', 'lastword')) await runChromiumLastword()
  if (chromiumActor) {
    await chromiumActor.call('stop').catch(() => null)
    await chromiumActor.stop()
  }
  if (skipped.length > 0) notes.push(`Time budget (${BUDGET_MS / 1000} s, BENCH_BUDGET_S) reached; skipped: ${skipped.join('; ')}`)
  writeResults(false)
  say(`wrote results/${stamp}.{json,md,svg,log} in ${Math.round((Date.now() - started) / 1000)} s`)
  process.stdout.write(renderMarkdown(figures, metaOf(false)))
}

function metaOf(partial: boolean) {
  return {
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    mode: `${quick ? 'quick' : 'full'}${partial ? ' (partial: still running or interrupted)' : ''}`,
    only,
    ns: NS,
    repetitions: REPS,
    node: process.version,
    cpus: cpus().length,
    pgUrl: PG_URL.replace(/\/\/[^@]*@/, '//…@'),
    notes,
  }
}

/** Writes the JSON, markdown and chart; called after every figure (partial) and at the end. */
function writeResults(partial: boolean): void {
  try {
    checkTargets(figures)
    const meta = metaOf(partial)
    writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify({ meta, figures }, null, 2))
    writeFileSync(join(resultsDir, `${stamp}.md`), renderMarkdown(figures, meta))
    writeFileSync(join(resultsDir, `${stamp}.svg`), renderChart(figures))
  } catch (e) {
    say(`could not write results: ${(e as Error).message}`)
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    notes.push(`Interrupted (${signal}) after ${Math.round((Date.now() - started) / 1000)} s.`)
    writeResults(true)
    say(`interrupted: partial results in results/${stamp}.{json,md,svg}`)
    process.exit(130)
  })
}

/** Whether lastword's server and client can be loaded; the reason if not. */
async function probeLastword(): Promise<string | null> {
  let a: Actor | undefined
  try {
    a = await spawnActor('lastword-probe')
    return await a.call<string | null>('probe')
  } catch (e) {
    return (e as Error).message.split('\n')[0] ?? 'cannot load'
  } finally {
    await a?.stop()
  }
}

await main()
process.exit(0)
