/**
 * Regression test for B6 (fixed), found by S01 on PostgreSQL, seed 1172074782: a filter on an integer
 * column with a number JavaScript writes in exponent notation (`1e300`, anything ≥ 1e21) is accepted by
 * core but fails on PostgreSQL with INTERNAL ("invalid input syntax for type bigint"), where SQLite
 * answers it (no row matches). Fixed in core: an integer filter value beyond ±(2^53 − 1) is refused
 * with INVALID_VALUE on both dialects (stored integers are safe integers).
 */
import { afterAll, expect, it } from 'vitest'
import { isLastwordError } from '@lastword/core'
import { pgSchema, requirePostgres } from '../../src/databases.js'
import { createInMemoryServer } from '../../src/server-kit.js'

const available = await requirePostgres('B6')
const schema = pgSchema('b6')
afterAll(() => schema.drop())

it.skipIf(!available)('B6: an integer filter of 1e300 is answered (no row) or refused with a typed error, never INTERNAL', async () => {
  const database = await schema.open(2)
  const server = await createInMemoryServer({ database })
  try {
    const items = server.engine.service('items')
    await items.create({ list: 'a', title: 't', done: false, n: 3 })
    for (const where of [{ n: 1e300 }, { n: { lt: 1e21 } }, { n: { in: [3, -1e300] } }]) {
      let outcome: unknown
      try {
        outcome = (await items.findMany(where as never)).map((r) => r['n'])
      } catch (error) {
        outcome = isLastwordError(error) ? error.code : String(error)
      }
      expect(outcome).not.toBe('INTERNAL')
    }
  } finally {
    await server.close()
  }
})
