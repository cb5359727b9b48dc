/**
 * T30 on PostgreSQL — the model-based relational campaign of t30-relational.test.ts on node-postgres, with
 * the foreign key in the database (ON DELETE cascade, ON DELETE set null). One schema per action for this
 * file, reset before every run and dropped after.
 */
import { afterAll, beforeAll, it } from 'vitest'
import { requirePostgres, trackPostgresIo } from '../../src/databases.js'
import { scaledTimeout } from '../../src/random.js'
import { runRelationalCampaign } from '../../src/relational-campaign.js'
import { listThenTodoDeleted } from '../../src/relational-regressions.js'
import { relationalPgSchema, type OnDelete, type RelationalPgSchema } from '../../src/relational-schema.js'

const available = await requirePostgres('T30-P')
const schemas = new Map<OnDelete, RelationalPgSchema>()
beforeAll(() => {
  trackPostgresIo()
  for (const onDelete of ['cascade', 'set null'] as const) schemas.set(onDelete, relationalPgSchema(`t30_${onDelete}`, onDelete))
})
afterAll(async () => {
  for (const schema of schemas.values()) await schema.drop()
})

it.skipIf(!available).each(['cascade', 'set null'] as const)('T30 (PostgreSQL, ON DELETE %s): random relational commands keep the foreign key, units whole, and converge (U1, I16, I1)', async (onDelete) => {
  const schema = schemas.get(onDelete) as RelationalPgSchema
  // B25's race and B27 (set null): the runs that found them.
  const regressions = onDelete === 'set null' ? [{ seed: 2120532352, path: '21' }, { seed: 1890961252, path: '12' }] : []
  await runRelationalCampaign({ row: `T30-P ${onDelete}`, ciCount: 50, onDelete, open: () => schema.open(), regressions })
}, scaledTimeout(600_000))

it.skipIf(!available).each(['cascade', 'set null'] as const)('B27 (PostgreSQL, ON DELETE %s): a list and then its todo deleted in one unit leave two tombstones', async (onDelete) => {
  const schema = relationalPgSchema(`t30_b27_${onDelete}`, onDelete)
  try {
    await listThenTodoDeleted(await schema.open())
  } finally {
    await schema.drop()
  }
})
