import { sqliteHarness } from '../fixtures/db.js'
import { runProgressTotalSuite } from './progress-total.suite.js'

runProgressTotalSuite('better-sqlite3', sqliteHarness)
