/** Field-level merge through the engine on PostgreSQL (field-merge-suite.ts). */
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { runFieldMergeSuite } from './field-merge-suite.js'

if (await requirePostgres()) runFieldMergeSuite('postgres', pgHarness(4))
