/** The physical limits (raw puts and inserts, durable commits), in Node and in Chromium, and lastword in Chromium. */
import { type Actor, spawnActor } from '../lib/actors.js'
import { percentile, summarize } from '../lib/stats.js'
import { CALL_LIMIT_MS, COMMIT_SAMPLES, NS, overBudget, push, PUSH_TOTAL, REPS, say } from './config.js'
import { failed, lastwordSystems, limitKey, limits, mb, type Started, startSystem, type SystemSpec } from './systems.js'

export async function runLimits(pgOk: boolean): Promise<void> {
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

export let chromiumActor: Actor | undefined

export async function runChromiumLimits(): Promise<string | null> {
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
export async function runChromiumLastword(): Promise<void> {
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
      const r = await ch.call<{ samples: number[]; heapPeakMb?: number; error?: string }>('lastwordInitial', `http://127.0.0.1:${st.proxy.port}`, n, n >= 100_000 ? 1 : REPS)
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
        // The browser's RSS is not the page's: client MB is the page's JS heap growth during the sync.
        ...(r.heapPeakMb === undefined ? { note: 'client memory not measured (no performance.memory)' } : { clientPeakMb: Math.round(r.heapPeakMb * 10) / 10, note: 'client MB: peak JS heap growth of the page during the sync' }),
        ...(lim ? { limitName: 'chromium IndexedDB put', limitMs: lim, ratio: med / lim } : {}),
      })
    } catch (e) {
      push(failed('initial', sys, n, e))
    } finally {
      await st?.stop()
    }
  }
}
