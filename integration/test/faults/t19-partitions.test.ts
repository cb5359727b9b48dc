/**
 * T19 — 5–10 clients writing 20 times a second while partitions of 0–10 s cut them off at random. After
 * the partitions heal (I9): every dirty queue drains within a generous bound of virtual time, with no
 * 11 s stretch without progress, and everything converges (I1, I2, I3).
 */
import { it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { runScenarioCampaign } from '../../src/scenario.js'

it('T19: 5–10 clients, 20 writes/s, partitions of 0–10 s: queues drain after healing (I9)', async () => {
  await runScenarioCampaign(
    { row: 'T19', ciCount: 30 },
    {
      openDatabase: async () => openSqlite(),
      clients: [5, 10],
      durationMs: 8_000,
      writesPerSecond: 20,
      faults: () => PERFECT,
      partitions: { perClientPerMinute: 6, maxMs: 10_000 },
      maxScopesPerClient: 2,
      healBoundMs: 60_000,
      sampleEveryMs: 2_000,
    },
  )
}, scaledTimeout(900_000))
