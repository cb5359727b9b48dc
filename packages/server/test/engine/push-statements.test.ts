/**
 * A push costs a fixed handful of statements, and on SQLite its reads of the stored metadata go by
 * primary key: with `rev > 0` in the filter the planner walked the `(tbl, rev)` index over every record
 * of the table, so each push of 1,000 records grew slower as the table grew (found by the benchmarks in bench/).
 */
import { describe, expect, it } from 'vitest'
import { sqliteHarness } from '../fixtures/db.js'
import { live, principal, request, stamp, todo } from './helpers.js'
import { tenantEngine } from './tenant-engine.js'

describe('push on better-sqlite3: statements', () => {
  const fx = tenantEngine(() => sqliteHarness.open())
  const A = principal('alice', 'A')

  const records = (n: number, prefix: string, ms = 1) => Array.from({ length: n }, (_, i) => live(`${prefix}${i}`, stamp(ms), todo({ title: `${prefix}${i}` })))

  it('a push is 11 statements whatever its size: read, BEGIN, revs, capture mark, rows, mark removed, meta, log, version row, open segment (R12), COMMIT', async () => {
    for (const [n, prefix] of [[1, 'a'], [1_000, 'b']] as const) {
      const before = fx.t.statements()
      const page = await fx.engine.sync(A, request('todos', { push: records(n, prefix) }))
      expect(page.outcomes.every((o) => o.status === 'applied')).toBe(true)
      expect(fx.t.statements() - before).toBe(11)
    }
    // Updates of stored records (before-images logged) cost the same.
    const before = fx.t.statements()
    await fx.engine.sync(A, request('todos', { push: records(1_000, 'b', 2) }))
    expect(fx.t.statements() - before).toBe(11)
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
    // The resync check with the history R12 judges against (a read transaction of 5), the 11 of a push,
    // and the point of the history after it, which the outcomes' states are known as of (4).
    expect(counts).toEqual([20, 20, 20])
  })

  it('a batch the database refuses is written again row by row, and only the bad row is rejected', async () => {
    const batch = records(20, 'c')
    batch[7] = live('c7', stamp(1), todo({ title: 'x'.repeat(300) }))
    const page = await fx.engine.sync(A, request('todos', { push: batch }))
    expect(page.outcomes.filter((o) => o.status === 'applied')).toHaveLength(19)
    expect(page.outcomes[7]).toMatchObject({ uid: 'c7', status: 'rejected', error: { code: 'INVALID_VALUE' } })
    expect(await fx.engine.service('todos').findMany({})).toHaveLength(19)
  })

  it('reads the stored metadata by primary key, never by scanning the (tbl, rev) index', async () => {
    const client = (fx.t.db as unknown as { $client: { prepare: (...args: unknown[]) => unknown } }).$client
    const counted = client.prepare
    const seen: string[] = []
    client.prepare = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'string' && args[0].includes('FROM lastword_meta m WHERE')) seen.push(args[0])
      return counted.apply(this, args)
    }
    try {
      await fx.engine.sync(A, request('todos', { push: records(10, 'd') }))
      await fx.engine.sync(A, request('todos', { push: records(10, 'd', 2) }))
    } finally {
      client.prepare = counted
    }
    expect(seen.length).toBeGreaterThanOrEqual(2)
    for (const text of new Set(seen)) {
      const params = Array.from({ length: (text.match(/\?/g) ?? []).length }, () => '[]')
      const plan = (await fx.t.raw(`EXPLAIN QUERY PLAN ${text}`, params)).map((row) => String(row['detail'])).join(' | ')
      expect(plan).toContain('PRIMARY KEY')
      expect(plan).not.toContain('lastword_meta_rev')
    }
  })
})
