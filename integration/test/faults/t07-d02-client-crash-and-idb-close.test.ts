/**
 * T07 — clients killed mid-sync (the link cut, the IndexedDB connection closed under the transactions
 * in flight) and reopened on the same IndexedDB: every completed write survives, dirty until acknowledged
 * (I6); the reopened client asks each stored scope from its stored checkpoint or cursor (I10: pages were
 * stored with their checkpoint, all or nothing); everything converges (I1, I2, I3).
 * D02 — the IndexedDB connection force-closed at random moments during pulls and writes: the store
 * reopens, no completed write is lost, the sync goes on (I1, I2, I6).
 * Pages of 3 rows, so syncs are paged and a crash lands between pages.
 */
import { describe, it } from 'vitest'
import { openSqlite } from '../../src/databases.js'
import { PERFECT } from '../../src/fault-network.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenarioCampaign } from '../../src/scenario.js'

describe('client crashes and IndexedDB connections closed under the client', () => {
  it('T07: a client killed mid-sync and reopened on the same IndexedDB loses nothing and resumes (I6, I10, I1)', async () => {
    await runScenarioCampaign(
      { row: 'T07', ciCount: 100 },
      {
        openDatabase: async () => openSqlite(),
        clients: [2, 3],
        durationMs: 3_000,
        writesPerSecond: 8,
        faults: () => ({ ...PERFECT, up: { ...PERFECT.up, delayMs: [1, 40] }, down: { ...PERFECT.down, delayMs: [1, 40] } }),
        crashesPerClientPerMinute: 30,
        maxScopesPerClient: 2,
        client: { pageSize: 3 },
        sampleEveryMs: 500,
      },
    )
  }, scaledTimeout(900_000))

  it('D02: the IndexedDB connection closed during pulls and writes: reopened, nothing completed lost (I1, I2, I6)', async () => {
    await runScenarioCampaign(
      { row: 'D02', ciCount: 100 },
      {
        openDatabase: async () => openSqlite(),
        clients: [2, 3],
        durationMs: 3_000,
        writesPerSecond: 8,
        faults: () => PERFECT,
        idbClosesPerClientPerMinute: 120,
        maxScopesPerClient: 2,
        client: { pageSize: 3 },
        sampleEveryMs: 500,
      },
    )
  }, scaledTimeout(900_000))
})
