/**
 * T24 on PostgreSQL — the foreign-writer campaign of t24-foreign-writers.test.ts on node-postgres: the
 * app's Drizzle writes on the server's pool, raw SQL on a separate `pg` client, and a transaction of a
 * third client held open across client pushes and pulls, committed late (trap 1); the change feed
 * wakes on the version row's NOTIFY. One schema for this file, reset before every run and dropped after.
 */
import { afterAll, beforeAll, it } from 'vitest'
import { scaledTimeout } from '../../src/random.js'
import { pgSchema, requirePostgres, trackPostgresIo, type PgSchema } from '../../src/databases.js'
import { pgForeignSite } from '../../src/foreign-site.js'
import { foreignVariant } from '../../src/foreign-model.js'
import { runModelCampaign } from '../../src/model.js'

const available = await requirePostgres('T24-P')
let schema: PgSchema
beforeAll(() => {
  trackPostgresIo()
  schema = pgSchema('t24')
})
afterAll(async () => {
  await schema?.drop()
})

it.skipIf(!available)('T24 (PostgreSQL): foreign writers and late commits mixed with real clients — every write captured once, delivered, converged (I1, I2, I3, I5, I14)', async () => {
  const site = pgForeignSite(() => schema, 6)
  await runModelCampaign({ row: 'T24-P', ciCount: 30, openDatabase: () => site.openDatabase(), variant: foreignVariant(site, true) })
}, scaledTimeout(1_800_000))
