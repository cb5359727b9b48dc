/**
 * T25 on PostgreSQL — the field-merge model-based campaign of t25-field-merge.test.ts on node-postgres
 * (a pool of real connections). One schema for this file, reset before every run and dropped after.
 */
import { afterAll, beforeAll, it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { pgSchema, requirePostgres, trackPostgresIo, type PgSchema } from '../../src/databases.js'
import { runModelCampaign } from '../../src/model.js'

const available = await requirePostgres('T25-P')
let schema: PgSchema
beforeAll(() => {
  trackPostgresIo()
  schema = pgSchema('t25')
})
afterAll(async () => {
  await schema?.drop()
})

it.skipIf(!available)('T25 (PostgreSQL): field merge — random command sequences converge column by column (I1, I3 per field)', async () => {
  await runModelCampaign({ row: 'T25-P', ciCount: 20, merge: 'field', openDatabase: () => schema.open(4) })
}, scaledTimeout(900_000))
