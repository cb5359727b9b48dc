/** T27 on SQLite (`hooks.suite.ts`): servers one after another on one WAL file. */
import { describe } from 'vitest'
import { sqliteShared } from './fixture.js'
import { hookSuite } from './hooks.suite.js'

describe('change hooks on SQLite', () => {
  hookSuite(sqliteShared)
})
