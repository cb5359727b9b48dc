/**
 * Which dirty records one `lw:push` carries and how (push-plan.ts, SPEC.md section 12, U2): write order
 * across tables, a transaction's records as one atomic unit where its first record is, single writes in
 * non-atomic units between, consecutive records of one table in one group, a unit never split.
 */
import { describe, expect, it } from 'vitest'
import type { StoredRecord } from '../../src/store/types.js'
import { planPush, pushRequestOf } from '../../src/sync/push-plan.js'
import { stamp } from '../helpers.js'

const rec = (table: string, uid: string, seq: number | undefined, unit?: string): StoredRecord => ({
  table,
  uid,
  row: { name: uid },
  created_at: stamp(seq ?? 0) as StoredRecord['created_at'],
  updated_at: stamp(seq ?? 0) as StoredRecord['updated_at'],
  deleted_at: null,
  dirty: true,
  acknowledged: false,
  ...(seq === undefined ? {} : { seq }),
  ...(unit === undefined ? {} : { unit }),
})
const shape = (plan: ReturnType<typeof planPush>) => plan.units.map((u) => `${u.atomic ? 'A' : 'n'}:${u.records.map((r) => r.uid).join(',')}`)

describe('planPush', () => {
  it('orders by write sequence across tables (records without one first), units where their first record is', () => {
    const dirty = [rec('todos', 't2', 5, 'U'), rec('lists', 'l1', 4, 'U'), rec('todos', 't1', 2), rec('lists', 'l0', 1), rec('todos', 'old', undefined), rec('lists', 'l9', 9)]
    expect(shape(planPush(dirty, 100, () => false))).toEqual(['n:old,l0,t1', 'A:l1,t2', 'n:l9'])
  })

  it('never splits a unit: stops before one that would pass the bound (one alone may reach it)', () => {
    const dirty = [rec('a', 's1', 1), rec('a', 'u1', 2, 'U'), rec('b', 'u2', 3, 'U'), rec('a', 's2', 4)]
    const first = planPush(dirty, 2, () => false)
    expect(shape(first)).toEqual(['n:s1'])
    expect(first.more).toBe(true)
    expect(shape(planPush(dirty.slice(1), 2, () => false))).toEqual(['A:u1,u2'])
    expect(planPush(dirty.slice(1), 2, () => false).more).toBe(true)
  })

  it('a unit with a record that must wait waits whole; a single write that waits is left out alone', () => {
    const dirty = [rec('a', 'u1', 1, 'U'), rec('b', 'u2', 2, 'U'), rec('a', 's1', 3), rec('b', 's2', 4)]
    expect(shape(planPush(dirty, 100, (r) => r.table === 'b'))).toEqual(['n:s1'])
  })

  it('groups consecutive records of one table, each with its table`s schema version', () => {
    const plan = planPush([rec('lists', 'l1', 1, 'U'), rec('todos', 't1', 2, 'U'), rec('todos', 't2', 3, 'U'), rec('lists', 'l2', 4, 'U')], 100, () => false)
    const request = pushRequestOf(plan, (t) => (t === 'todos' ? { name: 'todos', columns: [{ name: 'name', type: 'text', nullable: false, writable: true }], schemaVersion: 3 } : undefined))
    expect(request.units).toHaveLength(1)
    expect(request.units[0]?.atomic).toBe(true)
    expect(request.units[0]?.groups.map((g) => [g.table, g.schemaVersion, g.records.map((r) => r.uid)])).toEqual([
      ['lists', undefined, ['l1']],
      ['todos', 3, ['t1', 't2']],
      ['lists', undefined, ['l2']],
    ])
  })
})
