/**
 * T20 (SQLite) — the server's database restored from an older backup mid-history: backed up at a random
 * moment, restored later (server stopped, backup written back, a new server started on it) while the
 * clients keep writing, some of them offline across it. What was written after the backup comes back
 * from the clients that hold it, with its original stamps; nothing a client holds is dropped unless the
 * server purged it before the backup (R12, I11); then I1, I2, I3, I4, I7 (client versions never go back)
 * and I9 as in T02 (src/restore-campaign.ts). `FC_SEED` replays a run.
 */
import { describe, it } from 'vitest'
import { openSqlite } from '../../src/databases.js'
import { scaledTimeout } from '../../src/random.js'
import { RESTORE_AFTER_PURGE_SCENARIO, RESTORE_SCENARIO } from '../../src/restore-campaign.js'
import { runScenarioCampaign } from '../../src/scenario.js'

describe('T20 (SQLite): restore from an older backup mid-history', () => {
  it('nothing a client holds is lost; what came after the backup comes back (I11, I1–I4, I7, I9)', async () => {
    await runScenarioCampaign({ row: 'T20-S', ciCount: 10, regressionSeeds: [902632790, 1878572393, 277398335, 732421896, 999424670] }, { ...RESTORE_SCENARIO, openDatabase: async () => openSqlite() })
  }, scaledTimeout(600_000))

  it('with tombstones really purged before the backup: exactly those stay gone (R12, I11, I3)', async () => {
    await runScenarioCampaign(
      { row: 'T20-S-purged', ciCount: 6, regressionSeeds: [799322702, 1114176268] },
      { ...RESTORE_AFTER_PURGE_SCENARIO, openDatabase: async () => openSqlite() },
    )
  }, scaledTimeout(600_000))
})
