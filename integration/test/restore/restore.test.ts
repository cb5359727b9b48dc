/** T20, T21 and erasure on better-sqlite3 (scenarios.ts). */
import { describe } from 'vitest'
import { erasureScenarios, restoreScenarios } from './scenarios.js'

describe('restore and another database (SQLite)', () => {
  restoreScenarios('sqlite')
  erasureScenarios('sqlite')
})
