/**
 * The engine behaviour suite (suite.ts), SQL: a sync or a push costs a constant number of statements,
 * not one per record; SQL filtering agrees with core's `matches` on generated rows and filters.
 */
import { matches, validateWhere, type Where } from '@lastword/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Replica, fcParams, live, principal, stamp, todo } from './helpers.js'
import { A, type EngineFixture } from './suite-fixture.js'

/** Statement counts, and SQL filtering against core's `matches`. */
export function sqlSuite(fx: EngineFixture): void {
  const { push, todos } = fx

  describe('statement counts', () => {
    it('a sync of 10,000 records uses as many statements as one of 1,000 (full and incremental)', async () => {
      const measure = async (tenant: string, n: number) => {
        const ctx = principal(`u-${tenant}`, tenant)
        const records = Array.from({ length: n }, (_, i) =>
          live(`${tenant}-${String(i).padStart(6, '0')}`, stamp(1), { ...todo({ title: `t${i}`, priority: i }), tenant }),
        )
        await fx.engine.service('todos').push(records)
        const replica = new Replica(fx.engine, ctx, 'todos', {}, 10_000)
        let before = fx.t.statements()
        await replica.full()
        const full = fx.t.statements() - before
        expect(replica.rows().size).toBe(n)
        // Full again with the client's n entries: looked up in one statement.
        before = fx.t.statements()
        const again = await replica.full()
        const fullWithEntries = fx.t.statements() - before
        expect(again[0]?.rows).toEqual([])
        await fx.engine.service('todos').push(records.map((r) => ({ ...r, updated_at: stamp(2), row: { ...r.row, title: 'v2' } })))
        before = fx.t.statements()
        const pages = await replica.pull()
        const incremental = fx.t.statements() - before
        expect(pages).toHaveLength(1)
        expect(pages[0]?.rows).toHaveLength(n)
        // Incremental with evictions: every record leaves the scope, before-images are read at once.
        const narrowed = new Replica(fx.engine, ctx, 'todos', { done: false }, 10_000)
        await narrowed.full()
        await fx.engine.service('todos').push(records.map((r) => ({ ...r, updated_at: stamp(3), row: { ...r.row, done: true } })))
        before = fx.t.statements()
        const evictions = await narrowed.pull()
        const incrementalEvict = fx.t.statements() - before
        expect(evictions[0]?.evict).toHaveLength(n)
        return { full, fullWithEntries, incremental, incrementalEvict }
      }
      const small = await measure('small', 1_000)
      const large = await measure('large', 10_000)
      expect(large).toEqual(small)
      // Two of them read the lineage: the open segment and the segments the request names (SPEC.md R12);
      // one counts the scope for the first page's progress.total (engine/progress-total.ts).
      expect(small.full).toBeLessThanOrEqual(9)
    }, 120_000)

    it('a push grows by a constant number of multi-row statements, not by record', async () => {
      const count = async (n: number, offset: number) => {
        const records = Array.from({ length: n }, (_, i) => live(`s${offset + i}`, stamp(1), todo()))
        const before = fx.t.statements()
        await push(A, records)
        return fx.t.statements() - before
      }
      const ten = await count(10, 0)
      const fourHundred = await count(400, 100)
      expect(fourHundred).toBe(ten)
    })
  })

  describe('SQL filtering agrees with core matches', () => {
    const titles = ['', 'a', 'A', 'b', 'B', 'é', 'e', 'z', 'Z', '😀', '\uffff', '\ud7ff', 'a b', 'ab', 'aB', 'Ab', '0', '10', '9']
    const rowArb = fc.record({
      title: fc.constantFrom(...titles),
      done: fc.boolean(),
      priority: fc.option(fc.integer({ min: -3, max: 3 }), { nil: null }),
      score: fc.option(fc.constantFrom(-1.5, -0.5, 0, 0.1, 0.5, 1, 2.25, 1e-9), { nil: null }),
      due: fc.option(fc.constantFrom('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2024-06-30T12:00:00.500Z', '1970-01-01T00:00:00.000Z', '2099-12-31T23:59:59.999Z'), { nil: null }),
    })
    const valueFor: Record<string, fc.Arbitrary<unknown>> = {
      title: fc.constantFrom(...titles, 'a\t', 'A\uffff'),
      done: fc.boolean(),
      priority: fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constantFrom(1.5, -0.5, 3e9, -3e9)),
      score: fc.constantFrom(-1.5, -0.5, 0, 0.1, 0.5, 1, 2.25, 1e-9, 0.30000000000000004, 3e9),
      due: fc.constantFrom('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2024-03-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '2099-12-31T23:59:59.999Z'),
    }
    const conditionArb = fc.constantFrom('title', 'done', 'priority', 'score', 'due').chain((column) =>
      fc
        .oneof(
          fc.constant(null),
          valueFor[column] as fc.Arbitrary<unknown>,
          fc.record({ eq: valueFor[column] as fc.Arbitrary<unknown> }),
          fc.record({ in: fc.array(valueFor[column] as fc.Arbitrary<unknown>, { maxLength: 3 }) }),
          fc.record({ gt: valueFor[column] as fc.Arbitrary<unknown> }, { requiredKeys: [] }).chain((lower) =>
            fc.record({ lt: valueFor[column] as fc.Arbitrary<unknown>, lte: valueFor[column] as fc.Arbitrary<unknown>, gte: valueFor[column] as fc.Arbitrary<unknown> }, { requiredKeys: [] }).map((upper) => ({ ...lower, ...upper })),
          ),
        )
        .filter((spec) => !(typeof spec === 'object' && spec !== null && Object.keys(spec).length === 0))
        .map((spec) => [column, spec] as const),
    )
    const filterArb = fc.array(conditionArb, { maxLength: 3 }).map((pairs) => Object.fromEntries(pairs) as Where)

    it('on generated rows and a few hundred filters (findMany and full pulls)', async () => {
      const generated = fc.sample(rowArb, { numRuns: 80, seed: 4242 })
      await todos().push(generated.map((r, i) => live(`g${String(i).padStart(3, '0')}`, stamp(1), { ...todo(r), tenant: 'A' })))
      const stored = await todos().findMany({})
      expect(stored).toHaveLength(80)
      const descriptor = fx.engine.tables[0] as (typeof fx.engine.tables)[number]
      let checked = 0
      await fc.assert(
        fc.asyncProperty(filterArb, async (where) => {
          const scope = validateWhere(where, descriptor)
          const expected = stored.filter((row) => matches(row, scope)).map((r) => r.uid)
          const actual = (await todos().findMany(where)).map((r) => r.uid)
          expect(actual).toEqual(expected)
          if (checked++ % 10 === 0) {
            const replica = new Replica(fx.engine, A, 'todos', where)
            await replica.full()
            expect([...replica.rows().keys()]).toEqual(expected)
          }
        }),
        fcParams('SQL vs matches', 300),
      )
    })
  })
}
