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
import { type Actor, spawnActor } from './lib/actors.js'
import { pgAvailable } from './lib/pg.js'
import { renderMarkdown } from './lib/report.js'
import { BUDGET_MS, figures, metaOf, noPeers, notes, NS, only, overBudget, PEER_MAX_N, PEER_SWEEP, PUSH_CLIENTS, PUSH_IN_SUITE, quick, REPS, say, skipped, stamp, started, wants, writeResults } from './run/config.js'
import { chromiumActor, runChromiumLastword, runChromiumLimits, runLimits } from './run/limits.js'
import { runMultiNodeSuite } from './run/multi-node-suite.js'
import { runPushSuite } from './run/push-suite.js'
import { batchSweep, runSyncSuite } from './run/sync-suite.js'
import { lastwordSystems, pouch, rxdb, type SystemSpec } from './run/systems.js'

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
