/** Field-level merge through the engine on better-sqlite3 (field-merge-suite.ts). */
import { sqliteHarness } from '../fixtures/db.js'
import { runFieldMergeSuite } from './field-merge-suite.js'

runFieldMergeSuite('better-sqlite3', sqliteHarness)
