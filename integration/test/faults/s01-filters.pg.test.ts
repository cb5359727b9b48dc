/**
 * S01 on PostgreSQL — the filter attack of s01-filters.test.ts against node-postgres (text compared with
 * COLLATE "C", booleans as booleans, timestamptz). One schema for this file, dropped after.
 */
import { afterAll, expect, it } from 'vitest'
import { reportCampaign } from '../../src/campaign.js'
import { pgSchema, requirePostgres } from '../../src/databases.js'
import { runFilterAttack } from '../../src/filter-attack.js'
import { baseSeed, scaledCount, scaledTimeout } from '../../src/random.js'

const available = await requirePostgres('S01-P')
const schema = pgSchema('s01')
afterAll(() => schema.drop())

it.skipIf(!available)('S01 (PostgreSQL): random filters × 2 tenants: matcher = SQL, nothing foreign leaks (I8, V1, V2, V5)', async () => {
  const seed = baseSeed('S01-P')
  const database = await schema.open(4)
  const count = scaledCount(Number(process.env.LW_S01_PG_FILTERS ?? 2_000))
  const result = await runFilterAttack({ database, seed, filters: count, realtimeEvery: 50 })
  reportCampaign({ row: 'S01-P', runs: result.checked, failedRuns: result.violations.length === 0 ? 0 : 1, violations: result.violations.length, firstFailure: result.violations.length === 0 ? null : seed })
  console.log(`[S01-P] ${result.checked} filters (${result.valid} valid), ${result.violations.length} violations`)
  expect(result.violations, `seed ${seed} (replay: FC_SEED=${seed})\n${result.violations.slice(0, 10).join('\n')}`).toEqual([])
}, scaledTimeout(900_000))
