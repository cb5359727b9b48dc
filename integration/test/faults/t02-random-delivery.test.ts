/**
 * T02 — random delivery on the in-memory transport, 5 clients: every link drops, duplicates, delays and
 * reorders requests, acknowledgements and realtime events, and breaks connections mid-request; clients
 * go offline, sync on demand and change scopes (up to two, overlapping). After healing: I1 (every kept
 * scope equals the server's), I2, I3, I4, I7 (sampled all along) and I9 (queues drain). `RUNS` scales the
 * 50 CI seeds; `FC_SEED` replays one.
 */
import { it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { openSqlite } from '../../src/databases.js'
import { hostileLink, type LinkFaults } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenario } from '../../src/scenario.js'

/**
 * Seeds that once failed: 1012675189 (the harness retried the final sync without letting a late
 * connection break reconnect); 1210251228 (B1), 1123421285 and 1086858623 (B2); 641462144 (a lost push of
 * a record no held scope matched was never retried once another scope became the table's carrier);
 * 1102780698 (a page of one scope read before another scope's eviction brought an older state back: I7);
 * 698883329 (found by the soak: a realtime event applied while the scope's first full-reconciliation page
 * was awaited added a record that page's plan never saw; deleted later, it stayed: I1); 1084121842 (B13:
 * the page of an overlapping scope stored a record while a full reconciliation's first page was awaited;
 * the reconciliation never saw it, the server had deleted it, and it stayed once that scope was released);
 * 211053825 (B14: a push lost with one scope's request, of a record another scope acquired meanwhile
 * matched, was retried by neither: dirty for good, I9); 533279129 (B29: a push applied before another
 * client moved the record out of the scope was answered after the scope's pull had evicted it, the copy
 * still dirty (E1 kept it); the answer cleaned it and it stayed in the scope: I1).
 */
const REGRESSIONS: number[] = [1012675189, 1210251228, 1123421285, 1086858623, 641462144, 1102780698, 698883329, 1084121842, 211053825, 533279129]

it('T02: 5 clients under drop, duplicate, delay, reorder and disconnect converge (I1, I2, I3, I4, I7, I9)', async () => {
  await runCampaign({ row: 'T02', ciCount: 50, regressionSeeds: REGRESSIONS }, (seed) =>
    runScenario({
      label: 'T02',
      seed,
      openDatabase: async () => openSqlite(),
      clients: 5,
      durationMs: 15_000,
      writesPerSecond: 6,
      faults: (rng): LinkFaults => hostileLink(0.5 + rng.next() * 0.5),
      kicksPerClientPerMinute: 2,
      offlinePerClientPerMinute: 1,
      scopeChangesPerClientPerMinute: 2,
      maxScopesPerClient: 2,
      syncsPerClientPerMinute: 2,
    }),
  )
}, scaledTimeout(600_000))
