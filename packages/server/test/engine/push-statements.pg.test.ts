/**
 * A push on PostgreSQL costs a fixed number of statements — each one a round trip — whatever its size:
 * no savepoint around the row batch unless the database refused it once.
 */
import { describe, expect, it } from 'vitest'
import { pgHarness, requirePostgres } from '../fixtures/db.js'
import { live, principal, request, stamp, todo } from './helpers.js'
import { tenantEngine } from './tenant-engine.js'

const available = await requirePostgres()

describe.skipIf(!available)('push on postgres: statements', () => {
  const fx = tenantEngine(() => pgHarness(4).open())
  const A = principal('alice', 'A')

  const records = (n: number, prefix: string, ms = 1) => Array.from({ length: n }, (_, i) => live(`${prefix}${i}`, stamp(ms), todo({ title: `${prefix}${i}` })))

  it('a push is 11 round trips whatever its size: read, lock, BEGIN, lock rows (2), capture mark, rows, meta+log+version row, open segment (R12), COMMIT, unlock', async () => {
    for (const [n, prefix, ms] of [[1, 'a', 1], [1_000, 'b', 1], [1_000, 'b', 2]] as const) {
      const before = fx.t.statements()
      const page = await fx.engine.sync(A, request('todos', { push: records(n, prefix, ms) }))
      expect(page.outcomes.every((o) => o.status === 'applied')).toBe(true)
      expect(fx.t.statements() - before).toBe(11)
    }
  })

  it('a push-only request (pull: false) costs the same fixed count whatever its size, and pulls nothing', async () => {
    const start = await fx.engine.sync(A, request('todos', { full: { cursor: null, entries: [], complete: true } }))
    const checkpoint = start.checkpoint as string
    const counts: number[] = []
    for (const [n, prefix, ms] of [[1, 'p', 1], [1_000, 'q', 1], [1_000, 'q', 2]] as const) {
      const before = fx.t.statements()
      const page = await fx.engine.sync(A, request('todos', { checkpoint, push: records(n, prefix, ms), pull: false }))
      expect(page.outcomes.every((o) => o.status === 'applied')).toBe(true)
      expect(page.checkpoint).toBe(checkpoint)
      expect(page.rows).toEqual([])
      counts.push(fx.t.statements() - before)
    }
    // The resync check with the history R12 judges against, the push after it (the lock taken already),
    // and the point of the history after it, which the outcomes' states are known as of: a fixed count.
    expect(counts).toEqual([20, 20, 20])
  })

  it('a batch the database refuses is written again row by row, and only the bad row is rejected', async () => {
    const batch = records(20, 'c')
    batch[7] = live('c7', stamp(1), todo({ title: 'x'.repeat(300) }))
    const page = await fx.engine.sync(A, request('todos', { push: batch }))
    expect(page.outcomes.filter((o) => o.status === 'applied')).toHaveLength(19)
    expect(page.outcomes[7]).toMatchObject({ uid: 'c7', status: 'rejected', error: { code: 'INVALID_VALUE' } })
    expect(await fx.engine.service('todos').findMany({})).toHaveLength(19)
    const rows = await fx.t.raw(`SELECT count(*)::int AS n FROM lastword_meta WHERE rev = 0`)
    expect(rows[0]?.['n']).toBe(0)
  })
})
