/**
 * T17 — six clients whose clocks are off by −1 day, −5 min, 0, +30 s, +5 min and +1 year: nothing is
 * stored beyond the drift bound, no dirty record is lost (every completed create reaches the server,
 * nothing stays refused or dirty), I1 and I3.
 */
import { it } from 'vitest'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenarioCampaign } from '../../src/scenario.js'

const DAY = 86_400_000

it('T17: clocks −1 day, −5 min, 0, +30 s, +5 min, +1 year: nothing stored beyond the drift bound, no dirty record lost', async () => {
  await runScenarioCampaign(
    { row: 'T17', ciCount: 100, regressionSeeds: [841003916] },
    {
      openDatabase: async () => openSqlite(),
      clients: 6,
      skews: [-DAY, -300_000, 0, 30_000, 300_000, 365 * DAY],
      durationMs: 2_500,
      writesPerSecond: 8,
      faults: () => PERFECT,
      offlinePerClientPerMinute: 10,
      maxScopesPerClient: 2,
      sampleEveryMs: 500,
    },
  )
}, scaledTimeout(600_000))
