/** Tables keyed by the app's primary key, through the engine on better-sqlite3 (keys-suite.ts). */
import { sqliteHarness } from '../fixtures/db.js'
import { runKeySuite } from './keys-suite.js'

runKeySuite('better-sqlite3', sqliteHarness)
