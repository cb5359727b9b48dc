/**
 * T10 — tombstone retention passes while clients are offline with dirty records: the server purges
 * tombstones (and the change log) at random moments; clients behind the horizon reconcile in full.
 * Nothing deleted comes back unless a later write brings it back (I3 with purges), I1, I2.
 * While B3 is open the clients stay online (see purged-tombstone-resurrected.test.ts); B1: one scope each.
 */
import { it } from 'vitest'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { avoiding, noteAvoided } from '../../src/known-bugs.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenarioCampaign } from '../../src/scenario.js'

it('T10: tombstones purged while clients were offline with dirty records: nothing deleted comes back (I1, I3, I4)', async () => {
  noteAvoided('T10', ['B1', 'B3'])
  await runScenarioCampaign(
    { row: 'T10', ciCount: 50 },
    {
      openDatabase: async () => openSqlite(),
      clients: [3, 4],
      durationMs: 8_000,
      writesPerSecond: 6,
      faults: () => PERFECT,
      offlinePerClientPerMinute: avoiding('B3') ? 0 : 12,
      purges: { perMinute: 15, olderThanMs: 500 },
      maxScopesPerClient: avoiding('B1') ? 1 : 2,
    },
  )
}, scaledTimeout(600_000))
