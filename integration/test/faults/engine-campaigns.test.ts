/**
 * Engine-level campaigns on better-sqlite3 (src/engine-campaigns.ts): T09 (10,000 sequences: tombstones
 * against stale edits, stale re-creates and later updates, reordered and duplicated), T13 (20 concurrent
 * pushers on the same 10 uids, 100 runs) and T14 (overlapping scopes serialised, disjoint in parallel,
 * 100 random pairs).
 */
import { describe, expect, it } from 'vitest'
import { runCampaign } from '../../src/campaign.js'
import { openSqlite } from '../../src/databases.js'
import { runContention, runScopeLocks, runTombstoneSequences } from '../../src/engine-campaigns.js'
import { scaledCount, scaledRuns, scaledTimeout } from '../../src/random.js'
import { createInMemoryServer } from '../../src/server-kit.js'

describe('engine campaigns (SQLite)', () => {
  it('T09: 10,000 sequences of tombstones, stale edits and stale re-creates, reordered and duplicated: never resurrected (I4)', async () => {
    const sequences = scaledCount(10_000)
    await runCampaign({ row: 'T09', ciCount: 1 }, async (seed) => {
      const database = openSqlite()
      try {
        return { violations: await runTombstoneSequences(database, seed, sequences) }
      } finally {
        await database.close()
      }
    })
  }, scaledTimeout(300_000))

  it('T13 (SQLite): 20 pushers on the same 10 uids at once: greatest stamp wins, no acknowledged write lost (I2, I3)', async () => {
    const database = openSqlite()
    const server = await createInMemoryServer({ database })
    try {
      let round = 0
      await runCampaign({ row: 'T13-S', ciCount: 50 }, async (seed) => ({ violations: await runContention(server, seed, round++) }))
    } finally {
      await server.close()
      await database.close()
    }
  }, scaledTimeout(300_000))

  it('T14: a sync holding its scope: overlapping scopes wait, disjoint ones run (100 random pairs)', async () => {
    const result = await runCampaign({ row: 'T14', ciCount: 100 }, async (seed) => ({ violations: await runScopeLocks(seed, async () => openSqlite()) }))
    expect(result.runs).toBe(scaledRuns(100))
  }, scaledTimeout(300_000))
})
