/**
 * S01 on better-sqlite3 — random filter ASTs against two tenants with overlapping data: core's matcher
 * and the SQL agree on every row, and no foreign row, uid or tombstone ever comes back through sync,
 * realtime or an incremental pull (src/filter-attack.ts). `RUNS` scales the 10,000 filters.
 */
import { expect, it } from 'vitest'
import { reportCampaign } from '../../src/campaign.js'
import { openSqlite } from '../../src/databases.js'
import { runFilterAttack } from '../../src/filter-attack.js'
import { baseSeed, scaledCount, scaledTimeout } from '../../src/random.js'

it('S01 (SQLite): 10,000 random filters × 2 tenants: matcher = SQL, nothing foreign leaks (I8, V1, V2, V5)', async () => {
  const seed = baseSeed('S01-S')
  const database = openSqlite()
  try {
    const result = await runFilterAttack({ database, seed, filters: scaledCount(10_000), realtimeEvery: 50 })
    reportCampaign({ row: 'S01-S', runs: result.checked, failedRuns: result.violations.length === 0 ? 0 : 1, violations: result.violations.length, firstFailure: result.violations.length === 0 ? null : seed })
    console.log(`[S01-S] ${result.checked} filters (${result.valid} valid), ${result.violations.length} violations`)
    expect(result.violations, `seed ${seed} (replay: FC_SEED=${seed})\n${result.violations.slice(0, 10).join('\n')}`).toEqual([])
    expect(result.valid).toBeGreaterThan(result.checked / 4)
  } finally {
    await database.close()
  }
}, scaledTimeout(900_000))
