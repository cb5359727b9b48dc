/** `lw:push` units on SQLite with `PRAGMA foreign_keys = ON` (suite.ts). */
import { sqliteFk } from './fk-fixture.js'
import { pushSuite } from './suite.js'

pushSuite('SQLite', sqliteFk)
