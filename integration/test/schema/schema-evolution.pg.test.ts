/** Offline clients across schema changes on PostgreSQL (scenarios.ts); skipped with the reason printed when PostgreSQL is unreachable (failing under CI). */
import { describe, it } from 'vitest'
import { requirePostgres } from '../../src/databases.js'
import { openSite, pgStore, pgVersions } from './harness.js'
import { runSchemaScenarios } from './scenarios.js'

const available = await requirePostgres('schema changes (PostgreSQL)')
if (available) {
  for (const merge of ['row', 'field'] as const) {
    runSchemaScenarios(`postgres, merge: '${merge}'`, async () => ({ site: await openSite(pgStore(), merge), versions: pgVersions() }))
  }
} else describe('offline clients across schema changes (postgres)', () => it.skip('PostgreSQL unreachable (reason printed above)', () => undefined))
