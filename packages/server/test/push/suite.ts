/**
 * `lw:push` units on a real foreign key (SPEC.md section 12), run on both dialects: a parent and its
 * children land whatever the order within a unit and across units (U2, U4), an atomic unit is all or
 * nothing (U1), a non-atomic one's records are independent, and a request refused whole writes nothing.
 */
import type { PushRequest, WireRecord } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import type { RequestContext } from '../../src/types.js'
import { createTestClock, expectCode, live, request, stamp } from '../engine/helpers.js'
import type { FkDb, FkHarness } from './fk-fixture.js'

const ME: RequestContext = { principal: { id: 'me' } }
export const L1 = '01900000-0000-7000-8000-000000000001'
export const L2 = '01900000-0000-7000-8000-000000000002'
export const T1 = '01900000-0000-7000-8000-000000000011'
export const T2 = '01900000-0000-7000-8000-000000000012'
export const T3 = '01900000-0000-7000-8000-000000000013'

const list = (id: string, at: number, name = 'groceries'): WireRecord => live(id, stamp(at), { name })
const todo = (id: string, at: number, listId: string, title = 'milk', tag: string | null = null): WireRecord => live(id, stamp(at), { list_id: listId, title, tag })

type Group = { table: 'lists' | 'todos'; records: WireRecord[] }
const unit = (atomic: boolean, ...groups: Group[]): PushRequest['units'][number] => ({ atomic, groups })
const lists = (...records: WireRecord[]): Group => ({ table: 'lists', records })
const todos = (...records: WireRecord[]): Group => ({ table: 'todos', records })

export function pushSuite(name: string, harness: FkHarness, enabled = true): void {
  describe.skipIf(!enabled)(`lw:push units on ${name}, with a real foreign key`, () => {
    let db: FkDb | undefined
    afterEach(async () => {
      await db?.close()
      db = undefined
    })
    const open = async (options: Parameters<FkHarness>[0] = {}): Promise<FkDb> => (db = await harness({ now: createTestClock().now, ...options }))

    it('U2: a parent and its children in one atomic unit land, their revs consecutive in one commit', async () => {
      const d = await open()
      const before = await d.engine.currentRev()
      const answer = await d.engine.push(ME, { units: [unit(true, lists(list(L1, 1)), todos(todo(T1, 2, L1), todo(T2, 3, L1)))] })
      expect(answer.units).toHaveLength(1)
      expect(answer.units[0]?.outcomes.map((o) => [o.uid, o.status])).toEqual([
        [L1, 'applied'],
        [T1, 'applied'],
        [T2, 'applied'],
      ])
      expect(await d.engine.currentRev()).toBe(before + 3)
      expect((await d.rows('todos')).map((r) => r['uid'])).toEqual([T1, T2])
      expect(answer.knownAt).toMatch(new RegExp(`\\.${String(before + 3)}$`))
    })

    it('U4: children before their parent in one unit land too (SQLite: checks deferred to commit; PostgreSQL: the isolated retry)', async () => {
      const d = await open()
      const answer = await d.engine.push(ME, { units: [unit(true, todos(todo(T1, 2, L1)), lists(list(L1, 1)), todos(todo(T2, 3, L1)))] })
      // SQLite defers every foreign key: one attempt, no row-by-row retry. PostgreSQL defers only
      // DEFERRABLE constraints (Drizzle's are not): the unit lands through the isolated retry.
      const isolated = d.statements().some((s) => s.includes('SAVEPOINT lw_unit_row'))
      expect(isolated).toBe(d.dialect === 'postgres')
      expect(answer.units[0]?.outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'applied'])
      expect((await d.rows('lists')).map((r) => r['uid'])).toEqual([L1])
      expect((await d.rows('todos')).map((r) => r['uid'])).toEqual([T1, T2])
    })

    it('U2: separate writes, a parent then its child in two units of one push, land in order', async () => {
      const d = await open()
      const answer = await d.engine.push(ME, { units: [unit(false, lists(list(L1, 1))), unit(false, todos(todo(T1, 2, L1))), unit(true, lists(list(L2, 3)), todos(todo(T2, 4, L2)))] })
      expect(answer.units.map((u) => u.outcomes.map((o) => o.status))).toEqual([['applied'], ['applied'], ['applied', 'applied']])
      expect((await d.rows('todos')).map((r) => r['list_id'])).toEqual([L1, L2])
    })

    it('U1: an atomic unit with a refused record writes nothing; the culprit keeps its code, the others UNIT_REFUSED naming it', async () => {
      const d = await open()
      await d.engine.push(ME, { units: [unit(false, lists(list(L2, 1)))] })
      const before = await d.snapshot()
      // T2 names a list that exists nowhere: refused PARENT_DELETED (PD1) before the database's foreign key would.
      const answer = await d.engine.push(ME, { units: [unit(true, lists(list(L1, 2)), todos(todo(T1, 3, L1), todo(T2, 4, '01900000-0000-7000-8000-0000000000ff')))] })
      const outcomes = answer.units[0]?.outcomes ?? []
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected'])
      const codes = outcomes.map((o) => (o.status === 'rejected' ? o.error.code : null))
      expect(codes).toEqual(['UNIT_REFUSED', 'UNIT_REFUSED', 'PARENT_DELETED'])
      for (const o of outcomes.slice(0, 2)) if (o.status === 'rejected') expect(o.error.details).toEqual({ table: 'todos', uid: T2 })
      expect(await d.snapshot()).toBe(before)
    })

    it('U1: a record authorize refuses makes the whole atomic unit refused; a non-atomic unit loses only that record', async () => {
      const d = await open({ authorize: (r) => r.op === 'read' || r.after === null || r.after['name'] !== 'forbidden' })
      const before = await d.snapshot()
      const refused = await d.engine.push(ME, { units: [unit(true, lists(list(L1, 1), list(L2, 2, 'forbidden')), todos(todo(T1, 3, L1)))] })
      expect(refused.units[0]?.outcomes.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['UNIT_REFUSED', 'FORBIDDEN', 'UNIT_REFUSED'])
      expect(await d.snapshot()).toBe(before)
      const independent = await d.engine.push(ME, { units: [unit(false, lists(list(L1, 1), list(L2, 2, 'forbidden')), todos(todo(T1, 3, L1)))] })
      expect(independent.units[0]?.outcomes.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['applied', 'FORBIDDEN', 'applied'])
      expect((await d.rows('todos')).map((r) => r['uid'])).toEqual([T1])
    })

    it('a non-atomic unit with a refused record (an absent parent) writes the others', async () => {
      const d = await open()
      const answer = await d.engine.push(ME, { units: [unit(false, lists(list(L1, 1)), todos(todo(T1, 2, L1), todo(T2, 3, '01900000-0000-7000-8000-0000000000ff')))] })
      expect(answer.units[0]?.outcomes.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['applied', 'applied', 'PARENT_DELETED'])
      expect((await d.rows('todos')).map((r) => r['uid'])).toEqual([T1])
    })

    // U1 when the database itself refuses a row lastword's own checks let through: at its statement (a
    // CHECK), or at commit (a deferred foreign key to a table lastword does not sync). The unit's
    // transaction is rolled back whole; the culprit is INVALID_VALUE, the others UNIT_REFUSED naming it.
    describe.each([
      { constraint: 'a CHECK, at the statement', culprit: (at: number) => todo(T2, at, L1, 'vetoed') },
      { constraint: 'a deferred foreign key to an unsynced table, at commit', culprit: (at: number) => todo(T2, at, L1, 'milk', 'nowhere') },
    ])('U1: a record the database refuses ($constraint)', ({ culprit }) => {
      it('an atomic unit writes nothing: the culprit INVALID_VALUE, the others UNIT_REFUSED naming it', async () => {
        const d = await open()
        await d.engine.push(ME, { units: [unit(false, lists(list(L2, 1)))] })
        const before = await d.snapshot()
        const revBefore = await d.engine.currentRev()
        const answer = await d.engine.push(ME, { units: [unit(true, lists(list(L1, 2)), todos(todo(T1, 3, L1, 'milk', 'home'), culprit(4), todo(T3, 5, L2)))] })
        const outcomes = answer.units[0]?.outcomes ?? []
        expect(outcomes.map((o) => o.uid)).toEqual([L1, T1, T2, T3])
        expect(outcomes.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['UNIT_REFUSED', 'UNIT_REFUSED', 'INVALID_VALUE', 'UNIT_REFUSED'])
        for (const o of outcomes) if (o.status === 'rejected' && o.error.code === 'UNIT_REFUSED') expect(o.error.details).toEqual({ table: 'todos', uid: T2 })
        expect(await d.snapshot()).toBe(before)
        expect(await d.engine.currentRev()).toBe(revBefore)
        // The unit again without its culprit lands whole (nothing of the refused attempt stands in its way).
        const again = await d.engine.push(ME, { units: [unit(true, lists(list(L1, 2)), todos(todo(T1, 3, L1, 'milk', 'home'), todo(T3, 5, L2)))] })
        expect(again.units[0]?.outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'applied'])
        expect((await d.rows('todos')).map((r) => r['uid'])).toEqual([T1, T3])
      })

      it('a non-atomic unit loses only the culprit (INVALID_VALUE); the others are written', async () => {
        const d = await open()
        const answer = await d.engine.push(ME, { units: [unit(false, lists(list(L1, 1)), todos(todo(T1, 2, L1, 'milk', 'home'), culprit(3), todo(T3, 4, L1)))] })
        expect(answer.units[0]?.outcomes.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['applied', 'applied', 'INVALID_VALUE', 'applied'])
        expect((await d.rows('todos')).map((r) => r['uid'])).toEqual([T1, T3])
        expect((await d.rows('lists')).map((r) => r['uid'])).toEqual([L1])
      })

      it('a push of one table through lw:sync (protocol 6) loses only the culprit too (INVALID_VALUE; V10)', async () => {
        const d = await open()
        await d.engine.push(ME, { units: [unit(false, lists(list(L1, 1)))] })
        const page = await d.engine.sync(ME, request('todos', { push: [todo(T1, 2, L1, 'milk', 'home'), culprit(3), todo(T3, 4, L1)] }))
        expect(page.outcomes.map((o) => (o.status === 'rejected' ? o.error.code : o.status))).toEqual(['applied', 'INVALID_VALUE', 'applied'])
        expect((await d.rows('todos')).map((r) => r['uid'])).toEqual([T1, T3])
      })
    })

    it('U1: a superseded record is no failure: the rest of the atomic unit is written', async () => {
      const d = await open()
      await d.engine.push(ME, { units: [unit(false, lists(list(L1, 10, 'newer')))] })
      const answer = await d.engine.push(ME, { units: [unit(true, lists(list(L1, 1, 'older')), todos(todo(T1, 2, L1)))] })
      expect(answer.units[0]?.outcomes.map((o) => o.status)).toEqual(['superseded', 'applied'])
      expect((await d.rows('lists'))[0]?.['name']).toBe('newer')
    })

    it('a push delivered twice leaves the same state (I5)', async () => {
      const d = await open()
      const request: PushRequest = { units: [unit(true, lists(list(L1, 1)), todos(todo(T1, 2, L1)))] }
      await d.engine.push(ME, request)
      const after = await d.snapshot()
      const again = await d.engine.push(ME, request)
      expect(again.units[0]?.outcomes.map((o) => o.status)).toEqual(['applied', 'applied'])
      expect(await d.snapshot()).toBe(after)
    })

    it('refused whole, nothing written: more records than maxPushRecords, an unknown table, an unknown schema version', async () => {
      const d = await open({ limits: { maxPushRecords: 2 } })
      const before = await d.snapshot()
      await expectCode(d.engine.push(ME, { units: [unit(false, lists(list(L1, 1))), unit(true, lists(list(L2, 2)), todos(todo(T1, 3, L2)))] }), 'TOO_LARGE')
      await expectCode(d.engine.push(ME, { units: [unit(false, lists(list(L1, 1))), { atomic: false, groups: [{ table: 'nope', records: [list(L2, 2)] }] }] }), 'UNKNOWN_TABLE')
      await expectCode(d.engine.push(ME, { units: [unit(false, lists(list(L1, 1))), { atomic: false, groups: [{ table: 'todos', schemaVersion: 9, records: [todo(T1, 2, L1)] }] }] }), 'BAD_REQUEST')
      expect(await d.snapshot()).toBe(before)
    })

    it('commit listeners get a unit`s changes once, in rev order, across its tables', async () => {
      const d = await open()
      const seen: Array<Array<[string, number]>> = []
      d.engine.onCommit((changes) => seen.push(changes.map((c) => [c.table, c.rev])))
      const before = await d.engine.currentRev()
      await d.engine.push(ME, { units: [unit(true, todos(todo(T3, 2, L1)), lists(list(L1, 1)))] })
      expect(seen).toHaveLength(1)
      expect(seen[0]?.map(([, rev]) => rev)).toEqual([before + 1, before + 2])
      expect(new Set(seen[0]?.map(([table]) => table))).toEqual(new Set(['lists', 'todos']))
    })
  })
}
