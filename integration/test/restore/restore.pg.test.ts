/** T20 and T21 on PostgreSQL (scenarios.ts); skipped with the reason printed when PostgreSQL is unreachable (failing under CI). */
import { describe } from 'vitest'
import { requirePostgres } from '../../src/databases.js'
import { restoreScenarios } from './scenarios.js'

const available = await requirePostgres('restore (PostgreSQL)')

describe.skipIf(!available)('restore and another database (PostgreSQL)', () => {
  restoreScenarios('postgres')
})
