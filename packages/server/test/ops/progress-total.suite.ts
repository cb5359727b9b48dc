/**
 * `progress.total` (engine/progress-total.ts): counted on a pull's first page, within the effective
 * scope only, on every dialect.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import { createTestClock, live, principal, request, stamp, todo } from '../engine/helpers.js'
import { tenantAuthorize } from '../engine/suite.js'

const A = principal('alice', 'A')
const B = principal('bob', 'B')

export function runProgressTotalSuite(name: string, harness: DbHarness): void {
  describe(`progress.total on ${name}`, () => {
    let t: TestDb
    let engine: Engine
    beforeEach(async () => {
      t = await harness.open()
      engine = createEngine({
        db: t.db,
        tables: { todos: { table: t.todos, serverColumns: { tenant: (p) => (p?.['tenant'] as string | undefined) ?? 'system' } } },
        authorize: tenantAuthorize,
        now: createTestClock().now,
      })
      await engine.migrate()
    })
    afterEach(async () => {
      await engine.close()
      await t.close()
    })

    const seed = async (ctx: typeof A, n: number, from = 0, done = false) => {
      const records = Array.from({ length: n }, (_, i) =>
        live(`0190a000-0000-7000-8000-${String(from + i).padStart(12, '0')}`, stamp(1_000 + from + i), todo({ title: `t${from + i}`, done })),
      )
      await engine.sync(ctx, request('todos', { push: records }))
    }

    it('a full reconciliation counts the live records of the effective scope on its first page only', async () => {
      await seed(A, 5)
      await seed(A, 2, 100, true)
      await seed(B, 7, 200) // another tenant's: never counted for A
      const first = await engine.sync(A, request('todos', { where: { done: false }, full: { cursor: null, entries: [], complete: true }, pageSize: 2 }))
      expect(first.progress).toEqual({ received: 2, total: 5 })
      expect(first.hasMore).toBe(true)
      const second = await engine.sync(A, request('todos', { where: { done: false }, full: { cursor: first.cursor, entries: [], complete: true }, pageSize: 2 }))
      expect(second.progress.total).toBeNull()
    })

    it('an incremental pull counts the changes since its checkpoint that are live in the scope', async () => {
      await seed(A, 3)
      const full = await engine.sync(A, request('todos', { full: { cursor: null, entries: [], complete: true } }))
      const checkpoint = full.checkpoint as string
      await seed(A, 4, 300)
      await seed(B, 6, 400) // other tenant's changes: not disclosed through the count
      const page = await engine.sync(A, request('todos', { checkpoint }))
      expect(page.progress).toEqual({ received: 4, total: 4 })
      const again = await engine.sync(A, request('todos', { checkpoint: page.checkpoint }))
      expect(again.progress).toEqual({ received: 0, total: 0 })
    })
  })
}
