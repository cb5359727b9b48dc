/**
 * T02 — random delivery on the in-memory transport, 5 clients: every link drops, duplicates, delays and
 * reorders requests, acknowledgements and realtime events, and breaks connections mid-request; clients
 * go offline, sync on demand and change scopes. After healing: I1 (every kept scope equals the server's),
 * I2, I3, I4, I7 (sampled all along) and I9 (queues drain). `RUNS` scales the 50 CI seeds; `FC_SEED`
 * replays one.
 *
 * While B1 is open each client keeps one scope and never changes it; while B2 is open the server → client
 * stream keeps its order (as socket.io over one connection does) — drops, duplicates, delays and
 * client → server reordering stay — and a run that still fails in a B2 way (I1/I4/I7, and the same seed
 * passes with realtime off) is attributed to B2 and printed, not failed. `LW_EXPOSE_BUGS=1` (the soak)
 * runs the full model and counts everything.
 */
import { it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { openSqlite } from '../../src/databases.js'
import { hostileLink, type LinkFaults } from '../../src/fault-network.js'
import { attributeToB2, avoiding, noteAvoided } from '../../src/known-bugs.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenario } from '../../src/scenario.js'

/** Seeds that once failed: 1012675189 (the harness retried the final sync without letting a late connection break reconnect). */
const REGRESSIONS: number[] = [1012675189]

it('T02: 5 clients under drop, duplicate, delay, reorder and disconnect converge (I1, I2, I3, I4, I7, I9)', async () => {
  noteAvoided('T02', ['B1', 'B2'])
  const b1 = avoiding('B1')
  const b2 = avoiding('B2')
  const run = (seed: number, realtime = true) =>
    runScenario({
      label: 'T02',
      seed,
      openDatabase: async () => openSqlite(),
      clients: 5,
      durationMs: 15_000,
      writesPerSecond: 6,
      faults: (rng): LinkFaults => {
        const link = hostileLink(0.5 + rng.next() * 0.5)
        const narrowed = b2 ? { ...link, down: { ...link.down, fifo: true }, realtime: { ...link.realtime, fifo: true } } : link
        return realtime ? narrowed : { ...narrowed, realtime: { ...narrowed.realtime, drop: 1 } }
      },
      kicksPerClientPerMinute: 2,
      offlinePerClientPerMinute: 1,
      scopeChangesPerClientPerMinute: b1 ? 0 : 2,
      maxScopesPerClient: b1 ? 1 : 2,
      syncsPerClientPerMinute: 2,
    })
  await runCampaign(
    { row: 'T02', ciCount: 50, regressionSeeds: REGRESSIONS, attribute: (seed, outcome) => attributeToB2(outcome, () => run(seed, false)) },
    (seed) => run(seed),
  )
}, scaledTimeout(600_000))
