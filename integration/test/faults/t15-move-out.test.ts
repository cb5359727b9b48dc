/**
 * T15 — move-outs whose realtime events are all lost: records edited out of a client's scope leave it on
 * its next sync (I1), never pushed back as deletes (I3).
 */
import { it } from 'vitest'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenarioCampaign } from '../../src/scenario.js'

it('T15: records edited out of a scope while every realtime event is lost leave the client on its next sync (I1)', async () => {
  await runScenarioCampaign(
    { row: 'T15', ciCount: 100 },
    {
      openDatabase: async () => openSqlite(),
      clients: [2, 3],
      durationMs: 3_000,
      writesPerSecond: 8,
      faults: () => ({ ...PERFECT, realtime: { drop: 1, duplicate: 0, delayMs: [0, 0] } }),
      syncsPerClientPerMinute: 20,
      maxScopesPerClient: 2,
      sampleEveryMs: 500,
    },
  )
}, scaledTimeout(600_000))
