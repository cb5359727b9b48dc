/**
 * T10 — tombstone retention passes while clients are offline with dirty records: the server purges
 * tombstones (and the change log) at random moments; clients behind the horizon reconcile in full.
 * Nothing deleted comes back unless a later write brings it back (I3 with purges), I1, I2.
 * Clients go offline across purges with dirty edits of records deleted meanwhile (B3: a stale edit once
 * brought a purged record back; see purged-tombstone-resurrected.test.ts), with up to two scopes each.
 */
import { it } from 'vitest'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenarioCampaign } from '../../src/scenario.js'

it('T10: tombstones purged while clients were offline with dirty records: nothing deleted comes back (I1, I3, I4)', async () => {
  await runScenarioCampaign(
    { row: 'T10', ciCount: 50, regressionSeeds: [12536194, 1477412560, 287996308, 1146407132] },
    {
      openDatabase: async () => openSqlite(),
      clients: [3, 4],
      durationMs: 8_000,
      writesPerSecond: 6,
      faults: () => PERFECT,
      offlinePerClientPerMinute: 12,
      purges: { perMinute: 15, olderThanMs: 500 },
      maxScopesPerClient: 2,
    },
  )
}, scaledTimeout(600_000))
