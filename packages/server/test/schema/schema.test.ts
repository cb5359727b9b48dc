/** Schema changes on SQLite (suite.ts). */
import { sqliteHarness } from '../fixtures/db.js'
import { sqliteKit } from './kits.js'
import { runSchemaSuite } from './suite.js'

runSchemaSuite('sqlite', sqliteKit(sqliteHarness))
runSchemaSuite('sqlite', sqliteKit(sqliteHarness), 'field')
