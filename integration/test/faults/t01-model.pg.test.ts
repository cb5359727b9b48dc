/**
 * T01 on PostgreSQL — the model-based campaign of t01-model.test.ts on node-postgres (a pool of real
 * connections). One schema for this file, reset before every run and dropped after.
 */
import { afterAll, beforeAll, it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { pgSchema, requirePostgres, trackPostgresIo, type PgSchema } from '../../src/databases.js'
import { runModelCampaign } from '../../src/model.js'

const available = await requirePostgres('T01-P')
let schema: PgSchema
beforeAll(() => {
  trackPostgresIo()
  schema = pgSchema('t01')
})
afterAll(async () => {
  await schema?.drop()
})

it.skipIf(!available)('T01 (PostgreSQL): random command sequences converge on the greatest stamp per uid (I1, I3)', async () => {
  await runModelCampaign({ row: 'T01-P', ciCount: 100, openDatabase: () => schema.open(4) })
}, scaledTimeout(1_800_000))
