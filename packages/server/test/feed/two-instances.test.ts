/** T26 on SQLite: two better-sqlite3 connections on one WAL file, each serving as its own instance (`two-instances.suite.ts`). */
import { describe } from 'vitest'
import { sqliteShared } from './fixture.js'
import { twoInstanceSuite } from './two-instances.suite.js'

describe('the change feed, two instances on one SQLite file', () => {
  twoInstanceSuite(sqliteShared)
})
