/** T20, T21 and erasure on PostgreSQL (scenarios.ts); skipped with the reason printed when PostgreSQL is unreachable (failing under CI). */
import { describe } from 'vitest'
import { requirePostgres } from '../../src/databases.js'
import { erasureScenarios, restoreScenarios } from './scenarios.js'

const available = await requirePostgres('restore (PostgreSQL)')

describe.skipIf(!available)('restore and another database (PostgreSQL)', () => {
  restoreScenarios('postgres')
  erasureScenarios('postgres')
})
