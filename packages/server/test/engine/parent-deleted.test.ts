/** Foreign keys and the parent-deleted rule through the engine on SQLite (parent-deleted-suite.ts). */
import { sqliteRelations } from '../fixtures/relations.js'
import { runParentDeletedSuite } from './parent-deleted-suite.js'

runParentDeletedSuite('sqlite', sqliteRelations)
