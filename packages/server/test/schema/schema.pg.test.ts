/** Schema changes on PostgreSQL (`PG_URL`, a fresh schema per test; suite.ts). */
import { describe, it } from 'vitest'
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { pgKit } from './kits.js'
import { runSchemaSuite } from './suite.js'

const available = await requirePostgres()
if (available) runSchemaSuite('postgres', pgKit(pgHarness(4)))
if (available) runSchemaSuite('postgres', pgKit(pgHarness(4)), 'field')
else describe('schema changes on postgres', () => it.skip('PostgreSQL unreachable (reason printed above)', () => undefined))
