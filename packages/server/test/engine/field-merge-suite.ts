/**
 * Field-level merge through the engine (core's SPEC.md section 3a, F1–F8), on both dialects: a table
 * declared `merge: 'field'` merges pushes column by column under the same transaction rules as a row
 * table, stores the column stamps, sends them in pages and realtime, and `migrate()` adds the stamps'
 * column to a database made before them without losing a record.
 */
import { arrayToRow, type FieldStamps, type PushOutcome, type Stamp, type SyncPage, type WireRecord } from '@lastword/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import type { CommittedChange } from '../../src/types.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import { createTestClock, principal, request, stamp, todo, NODE_B } from './helpers.js'
import { tenantAuthorize } from './suite.js'

const A = principal('alice', 'A')

/** An edit of some columns at `at`: the columns and their stamps, as a field-merge client pushes it. */
function edit(uid: string, at: Stamp, row: Record<string, unknown>, created: Stamp): WireRecord {
  const fields: Record<string, Stamp> = {}
  for (const key of Object.keys(row)) fields[key] = at
  return { uid, created_at: created, updated_at: at, deleted_at: null, row, fields }
}
function create(uid: string, at: Stamp, row: Record<string, unknown>): WireRecord {
  return edit(uid, at, todo(row), at)
}
function del(uid: string, at: Stamp, created: Stamp): WireRecord {
  return { uid, created_at: created, updated_at: created, deleted_at: at, row: null }
}

export function runFieldMergeSuite(name: string, harness: DbHarness): void {
  describe(`field merge on ${name}`, () => {
    let t: TestDb
    let engine: Engine
    const committed: CommittedChange[] = []

    const open = async (merge: 'row' | 'field' = 'field') => {
      engine = createEngine({
        db: t.db,
        tables: { todos: { table: t.todos, merge, serverColumns: { tenant: (p) => (p?.['tenant'] as string | undefined) ?? 'system' } } },
        authorize: tenantAuthorize,
        now: createTestClock().now,
      })
      engine.onCommit((changes) => void committed.push(...changes))
      await engine.migrate()
    }
    const push = async (...records: WireRecord[]): Promise<PushOutcome[]> => (await engine.sync(A, request('todos', { push: records }))).outcomes
    /** The server's state of `uid` as a full pull gives it: the row and its column stamps, or its tombstone. */
    const pulled = async (uid: string): Promise<{ row: Record<string, unknown>; fields: FieldStamps; updated_at: string } | { deleted_at: string } | null> => {
      const page: SyncPage = await engine.sync(A, request('todos', { full: { cursor: null, entries: [[uid, stamp(0), false, false, null]], complete: true } }))
      const values = page.rows.find((r) => r[0] === uid)
      if (values !== undefined) {
        return { row: arrayToRow({ name: 'todos', columns: page.columns.map((c) => ({ name: c, type: 'text', nullable: true, writable: true })) }, values.slice(3)), fields: values[3 + page.columns.length] as FieldStamps, updated_at: values[2] as string }
      }
      const tomb = page.tombstones.find((r) => r[0] === uid)
      return tomb === undefined ? null : { deleted_at: tomb[3] }
    }

    beforeEach(async () => {
      committed.length = 0
      t = await harness.open()
    })
    afterEach(async () => {
      await engine.close()
      await t.close()
    })

    it('the descriptor says merge: field (sent to clients in lw:hello); a row table says nothing', async () => {
      await open()
      expect(engine.tables.find((d) => d.name === 'todos')?.merge).toBe('field')
      await engine.close()
      await open('row')
      expect(engine.tables.find((d) => d.name === 'todos')?.merge).toBeUndefined()
    })

    it('concurrent edits of different columns both survive, in either order (F3)', async () => {
      await open()
      for (const [uid, order] of [['a', 'rename-first'], ['b', 'tick-first']] as const) {
        expect(await push(create(uid, stamp(1), { title: 'milk' }))).toEqual([{ uid, status: 'applied', state: expect.anything() }])
        const rename = edit(uid, stamp(3), { title: 'oat milk' }, stamp(1))
        const tick = edit(uid, stamp(5, 0, NODE_B), { done: true }, stamp(1))
        const outcomes = order === 'rename-first' ? [...(await push(rename)), ...(await push(tick))] : [...(await push(tick)), ...(await push(rename))]
        expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied'])
        expect(await pulled(uid)).toMatchObject({ row: { title: 'oat milk', done: true }, fields: { title: stamp(3), done: stamp(5, 0, NODE_B) }, updated_at: stamp(5, 0, NODE_B) })
      }
    })

    it('the applied outcome carries the merged state (with columns the writer never saw)', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      await push(edit('a', stamp(5), { done: true }, stamp(1)))
      const [outcome] = await push(edit('a', stamp(3, 0, NODE_B), { title: 'oat milk' }, stamp(1)))
      expect(outcome).toMatchObject({ status: 'applied', state: { updated_at: stamp(5), row: { title: 'oat milk', done: true }, fields: { title: stamp(3, 0, NODE_B), done: stamp(5) } } })
    })

    it('the same column: the later stamp wins, whatever arrives first (F3, F8)', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      await push(edit('a', stamp(5), { title: 'later' }, stamp(1)))
      const [older] = await push(edit('a', stamp(3, 0, NODE_B), { title: 'earlier' }, stamp(1)))
      expect(older).toMatchObject({ status: 'superseded', rule: 'F8 every column already newer', winner: { row: { title: 'later' } } })
      expect(await pulled('a')).toMatchObject({ row: { title: 'later' }, fields: { title: stamp(5) } })
    })

    it('a delete wins over older edits; an older edit of another column stays under it and shows when a newer edit brings the record back (F4, F6, F5)', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      expect((await push(del('a', stamp(5), stamp(1))))[0]).toMatchObject({ status: 'applied' })
      const [under] = await push(edit('a', stamp(4, 0, NODE_B), { done: true }, stamp(1)))
      expect(under, JSON.stringify(under)).toMatchObject({ status: 'superseded', rule: 'F6 older edit stays under the delete', winner: { deleted_at: stamp(5) } })
      expect(await pulled('a')).toEqual({ deleted_at: stamp(5) })
      const [back] = await push(edit('a', stamp(6), { title: 'back' }, stamp(1)))
      expect(back).toMatchObject({ status: 'applied' })
      // The columns as they were at the delete (done from the edit older than it), overlaid with the newer edit.
      expect(await pulled('a')).toMatchObject({ row: { title: 'back', done: true }, fields: { title: stamp(6), done: stamp(4, 0, NODE_B) } })
    })

    it('an edit and a delete of different columns in the other order end the same (delete after the newer edit arrived)', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      await push(edit('a', stamp(6), { title: 'back' }, stamp(1)))
      const [late] = await push(del('a', stamp(5), stamp(1)))
      expect(late).toMatchObject({ status: 'superseded', rule: 'F7 older delete superseded' })
      await push(edit('a', stamp(4, 0, NODE_B), { done: true }, stamp(1)))
      expect(await pulled('a')).toMatchObject({ row: { title: 'back', done: true }, fields: { title: stamp(6), done: stamp(4, 0, NODE_B) } })
    })

    it("the app's own update through the service writes only the patched columns: a client's older edit of another column survives", async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      await engine.service('todos').update('a', { done: true })
      expect((await push(edit('a', stamp(3), { title: 'oat milk' }, stamp(1))))[0]).toMatchObject({ status: 'applied' })
      expect(await pulled('a')).toMatchObject({ row: { title: 'oat milk', done: true } })
    })

    it('the same write twice is a no-op: no new rev', async () => {
      await open()
      const write = create('a', stamp(1), { title: 'milk' })
      await push(write)
      const before = await t.snapshot()
      expect(await push({ ...write })).toMatchObject([{ status: 'applied' }])
      expect(await t.snapshot()).toBe(before)
    })

    it('realtime changes carry the column stamps after the row', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      await push(edit('a', stamp(4), { done: true }, stamp(1)))
      expect(committed.at(-1)).toMatchObject({ fields: { title: stamp(1), done: stamp(4) } })
    })

    it('refuses bad column stamps with a typed error, and writes nothing', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      const before = await t.snapshot()
      const bad: Array<[WireRecord, string]> = [
        [{ ...edit('a', stamp(3), { title: 'x' }, stamp(1)), fields: { nope: stamp(3) } }, 'UNKNOWN_COLUMN'],
        [{ ...edit('a', stamp(3), { title: 'x' }, stamp(1)), fields: { title: stamp(4) } }, 'INVALID_STAMP'],
        [{ ...edit('a', stamp(3), { title: 'x', done: true }, stamp(1)), fields: { title: stamp(3) } }, 'BAD_REQUEST'],
        [{ ...del('a', stamp(3), stamp(1)), fields: { title: stamp(1) } }, 'BAD_REQUEST'],
      ]
      for (const [record, code] of bad) {
        const [outcome] = await push(record)
        expect(outcome).toMatchObject({ status: 'rejected', error: { code } })
        expect(JSON.stringify(outcome)).not.toContain('nope')
      }
      expect(await t.snapshot()).toBe(before)
    })

    it('column stamps on a row table are refused', async () => {
      await open('row')
      const [outcome] = await push(create('a', stamp(1), { title: 'milk' }))
      expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'BAD_REQUEST' } })
    })

    it('a whole-row push (no fields) on a field table stamps every column at its updated_at', async () => {
      await open()
      await push({ uid: 'a', created_at: stamp(1), updated_at: stamp(1), deleted_at: null, row: todo({ title: 'milk' }) })
      await push(edit('a', stamp(3), { done: true }, stamp(1)))
      expect(await pulled('a')).toMatchObject({ row: { title: 'milk', done: true }, fields: { title: stamp(1), done: stamp(3) } })
    })

    it('full reconciliation sends a record at the same version whose column stamps differ (digest)', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      await push(edit('a', stamp(5), { done: true }, stamp(1)))
      const first = await pulled('a')
      const digest = (first as { fields: FieldStamps }).fields
      // An older column write: the record changes, its version does not.
      await push(edit('a', stamp(3, 0, NODE_B), { title: 'oat milk' }, stamp(1)))
      const { fieldDigest } = await import('@lastword/core')
      const stale = await engine.sync(A, request('todos', { full: { cursor: null, entries: [['a', stamp(5), false, true, null, fieldDigest(digest)]], complete: true } }))
      expect(stale.rows.map((r) => r[0])).toEqual(['a'])
      const fresh = (stale.rows[0]?.[3 + stale.columns.length] ?? {}) as FieldStamps
      const same = await engine.sync(A, request('todos', { full: { cursor: null, entries: [['a', stamp(5), false, true, null, fieldDigest(fresh)]], complete: true } }))
      expect(same.rows).toEqual([])
    })

    it('stored stamps of a column the table no longer has are left out, and a column they do not name counts from created_at', async () => {
      await open()
      await push(create('a', stamp(1), { title: 'milk' }))
      await push(edit('a', stamp(4), { done: true }, stamp(1)))
      await t.raw(`UPDATE lastword_meta SET fields = '${JSON.stringify({ title: stamp(1), done: stamp(4), gone: stamp(2) })}' WHERE uid = 'a'`)
      const state = await pulled('a')
      expect(state).toMatchObject({ fields: { title: stamp(1), done: stamp(4), priority: stamp(1) } })
      expect((state as { fields: FieldStamps }).fields).not.toHaveProperty('gone')
    })

    it('migrate() adds the column stamps to a database made before them; existing records read as every column at updated_at', async () => {
      await open('row')
      await push({ uid: 'a', created_at: stamp(1), updated_at: stamp(2), deleted_at: null, row: todo({ title: 'old' }) })
      await engine.close()
      await t.raw('ALTER TABLE lastword_meta DROP COLUMN fields')
      await open('field')
      await push(edit('a', stamp(3), { done: true }, stamp(1)))
      expect(await pulled('a')).toMatchObject({ row: { title: 'old', done: true }, fields: { title: stamp(2), done: stamp(3) } })
      await engine.close()
      await open('field') // idempotent
    })
  })
}
