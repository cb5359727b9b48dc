/**
 * T20 on PostgreSQL — t20-restore.test.ts's campaign on node-postgres: the backup is a copy of every table
 * of the schema, restored by emptying them and writing the copy back while the server is down.
 */
import { afterAll, beforeAll, it } from 'vitest'
import { pgSchema, requirePostgres, trackPostgresIo, type PgSchema } from '../../src/databases.js'
import { scaledTimeout } from '../../src/random.js'
import { runScenarioCampaign } from '../../src/scenario.js'

import { RESTORE_AFTER_PURGE_SCENARIO, RESTORE_SCENARIO } from '../../src/restore-campaign.js'

const available = await requirePostgres('T20-P')
let schema: PgSchema
beforeAll(() => {
  trackPostgresIo()
  schema = pgSchema('t20')
})
afterAll(async () => {
  await schema?.drop()
})

it.skipIf(!available)('T20 (PostgreSQL): restore from an older backup mid-history, without and with a purge before the backup (I11, I1–I4, I7, I9)', async () => {
  await runScenarioCampaign({ row: 'T20-P', ciCount: 4 }, { ...RESTORE_SCENARIO, openDatabase: () => schema.open(4) })
  await runScenarioCampaign({ row: 'T20-P-purged', ciCount: 2 }, { ...RESTORE_AFTER_PURGE_SCENARIO, openDatabase: () => schema.open(4) })
}, scaledTimeout(900_000))
