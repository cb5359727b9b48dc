/**
 * A live result patched with many changes at once (a sync page: one merge, not a splice per record)
 * holds the rows a fresh query over the same state returns, for every order and limit. Randomized: the
 * seed is printed; replay with FC_SEED=<seed> (FC_PATH=<path>).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Stamp, Where } from '@lastword/core'
import { compileQuery, createLiveResult, runQuery, type QueryOptions } from '../../src/query.js'
import type { StoredRecord } from '../../src/store/types.js'
import { todosTable } from '../helpers.js'

const env = process.env
const seed = env['FC_SEED'] !== undefined && env['FC_SEED'] !== '' ? Number(env['FC_SEED']) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
console.log(`[live-result] fast-check seed=${seed} (replay with FC_SEED=${seed})`)
const params = { numRuns: 150, seed, ...(env['FC_PATH'] ? { path: env['FC_PATH'] } : {}) }

const QUERIES: QueryOptions[] = [{}, { orderBy: 'title' }, { orderBy: [{ column: 'priority', direction: 'desc' }, 'title'], limit: 3 }, { limit: 40 }, { orderBy: 'priority', limit: 1 }, { limit: 0 }]
const WHERES: Where[] = [{}, { done: false }]

const stampOf = (v: number): Stamp => `${String(v).padStart(12, '0')}-0000-0000000000000001` as Stamp
const uidOf = (i: number): string => `0190a0b0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`

interface Change {
  i: number
  /** `null`: removed (deleted, evicted); otherwise the record's new state. */
  state: { title: string; done: boolean; priority: number | null; deleted: boolean; sameVersion: boolean } | null
}

const stateArb = fc.record({ title: fc.constantFrom('a', 'b', 'c'), done: fc.boolean(), priority: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }), deleted: fc.boolean(), sameVersion: fc.boolean() })
const changeArb: fc.Arbitrary<Change> = fc.record({ i: fc.nat(79), state: fc.option(stateArb, { nil: null }) })

function build(initial: number, changes: Change[]): { before: StoredRecord[]; after: Map<string, StoredRecord>; patch: { uid: string; record: StoredRecord | undefined }[] } {
  const table = new Map<string, StoredRecord>()
  for (let i = 0; i < initial; i++) {
    const uid = uidOf(i)
    table.set(uid, { table: 'todos', uid, row: { title: 'abc'[i % 3], done: i % 2 === 0, priority: i % 4 === 0 ? null : i % 3 }, created_at: stampOf(1), updated_at: stampOf(1), deleted_at: null, dirty: false, acknowledged: true })
  }
  const before = [...table.values()]
  let version = 2
  const patch: { uid: string; record: StoredRecord | undefined }[] = []
  for (const { i, state } of changes) {
    const uid = uidOf(i)
    const old = table.get(uid)
    if (state === null) table.delete(uid)
    else if (state.sameVersion && old !== undefined) table.set(uid, { ...old, dirty: !old.dirty }) // an acknowledgement: same version
    else {
      const s = stampOf(version++)
      table.set(uid, { table: 'todos', uid, row: { title: state.title, done: state.done, priority: state.priority }, created_at: s, updated_at: s, deleted_at: state.deleted ? stampOf(version++) : null, dirty: false, acknowledged: true })
    }
    patch.push({ uid, record: table.get(uid) })
  }
  return { before, after: table, patch }
}

describe('live result, patched in bulk', () => {
  it('equals a fresh query after a large batch of changes, for every order and limit', () => {
    fc.assert(
      fc.property(fc.nat(60), fc.array(changeArb, { minLength: 33, maxLength: 120 }), (initial, changes) => {
        const { before, after, patch } = build(initial, changes)
        // The stores scan in uid order (a query without `orderBy` keeps it).
        const now = [...after.values()].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0))
        for (const where of WHERES) {
          for (const options of QUERIES) {
            const query = compileQuery(todosTable, where, options)
            const result = createLiveResult(query)
            result.reset(before)
            result.take()
            const outcome = result.patch(patch)
            if (outcome === 'reread') result.reset(now)
            const expected = runQuery(query, now)
            expect(result.take()).toEqual(expected)
            // Nothing the query shows changed: the patch says so.
            if (outcome === 'unchanged') expect(expected).toEqual(runQuery(query, before))
          }
        }
      }),
      params,
    )
  })
})
