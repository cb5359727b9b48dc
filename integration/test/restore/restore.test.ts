/** T20 and T21 on better-sqlite3 (scenarios.ts). */
import { describe } from 'vitest'
import { restoreScenarios } from './scenarios.js'

describe('restore and another database (SQLite)', () => {
  restoreScenarios('sqlite')
})
