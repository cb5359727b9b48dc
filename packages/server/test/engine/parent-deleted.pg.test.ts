/** Foreign keys and the parent-deleted rule through the engine on PostgreSQL (parent-deleted-suite.ts). */
import { requirePostgres } from '../fixtures/db.js'
import { pgRelations } from '../fixtures/relations.js'
import { runParentDeletedSuite } from './parent-deleted-suite.js'

if (await requirePostgres()) runParentDeletedSuite('postgres', pgRelations)
