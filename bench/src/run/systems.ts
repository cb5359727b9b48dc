/** The systems measured, how one is started, and how a step is measured and turned into a figure. */
import { type Actor, spawnActor } from '../lib/actors.js'
import type { Figure } from '../lib/figures.js'
import { type CountingProxy, startProxy } from '../lib/proxy.js'
import { summarize } from '../lib/stats.js'
import { CALL_LIMIT_MS, say } from './config.js'

// ------------------------------------------------------------------------------------------ systems
export interface SystemSpec {
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

export const lastwordSystems = (pgOk: boolean): SystemSpec[] => [
  { system: 'lastword', backend: 'sqlite', variant: 'default', server: 'lastword-server', serverArgs: ['sqlite'], client: 'lastword-client', url: (p) => `http://127.0.0.1:${p}`, sql: true, oldWay: true },
  ...(pgOk
    ? [{ system: 'lastword', backend: 'postgres', variant: 'default', server: 'lastword-server', serverArgs: ['postgres'], client: 'lastword-client', url: (p: number) => `http://127.0.0.1:${p}`, sql: true, oldWay: true }]
    : []),
]

export const rxdb = (storage: 'memory' | 'dexie', batchSize?: number): SystemSpec => ({
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
export const pouch = (batchSize?: number): SystemSpec => ({
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
export interface Step {
  ms: number
  up: number
  down: number
  roundTrips: number
  connections: number
  statements: number | null
  serverPeak: number
  clientPeak: number
}

export async function statements(server: Actor, sql?: boolean): Promise<number | null> {
  if (!sql) return null
  return (await server.call<number | null>('statements')) ?? null
}

export async function measure(server: Actor, client: Actor, proxy: CountingProxy, sys: SystemSpec, method: string, ...args: unknown[]): Promise<Step> {
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

export const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10

export function figureOf(scenario: string, sys: SystemSpec, n: number, steps: Step[], extra: Partial<Figure> = {}): Figure {
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

export function failed(scenario: string, sys: Pick<SystemSpec, 'system' | 'backend' | 'variant'>, n: number, e: unknown): Figure {
  const text = (e as Error)?.message ?? String(e)
  let line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'failed (no message)'
  if (/COL23/.test(text)) {
    line = "RxDB's open-source core allows at most 16 open collections per process (error COL23, lifted only by its premium plugins), so this many RxDB clients cannot run in one process"
  }
  say(`${sys.system}/${sys.backend}/${sys.variant} ${scenario} n=${n} failed: ${text.slice(0, 2000)}`)
  return { scenario, system: sys.system, backend: sys.backend, variant: sys.variant, n, samples: [], ms: null, error: line.slice(0, 300) }
}

export interface Started {
  server: Actor
  client: Actor
  proxy: CountingProxy
  stop: () => Promise<void>
}

export async function startSystem(sys: SystemSpec, n: number, tag: string): Promise<Started> {
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
export const limits = new Map<string, number>()
export const limitKey = (name: string, n: number) => `${name}:${n}`
