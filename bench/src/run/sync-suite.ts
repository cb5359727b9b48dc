/** Initial sync, resyncs, reconnects and realtime on one system at one N, and the peers' batch-size sweep. */
import { touched } from '../lib/data.js'
import type { Figure } from '../lib/figures.js'
import { percentile, summarize } from '../lib/stats.js'
import { notes, NS, OLD_WAY_MAX_MS, oldWayMs, push, PUSH_CLIENTS, PUSH_IN_SUITE, quick, REALTIME_SAMPLES, wants } from './config.js'
import { runPush } from './push-suite.js'
import { failed, figureOf, limitKey, limits, mb, measure, type Started, startSystem, type Step, type SystemSpec } from './systems.js'

// ------------------------------------------------------------------------------------- sync suites
export async function runSyncSuite(sys: SystemSpec, n: number, repsAll: number): Promise<void> {
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
      const pairs: Array<[string, string, string, Record<string, unknown>]> = [['A', 'B', sys.variant, {}]]
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


/** The peers' best batch size: initial sync at one N for each candidate; the fastest wins. */
export async function batchSweep(make: (b?: number) => SystemSpec, candidates: number[], n: number): Promise<number | undefined> {
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
