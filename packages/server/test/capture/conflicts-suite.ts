/**
 * Captured writes meet the conflict rules (SPEC.md section 1a): a foreign write is a write stamped by
 * the database at its commit, under last-writer-wins like any other (R3, R7); on a field-merge table it
 * stamps only the columns it changed (section 3a), so a device's concurrent edit of another column
 * survives. ON DELETE CASCADE children of synced tables are captured like any delete.
 */
import { isDatabaseStamp, type Stamp, type WireRecord } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import type { AnyDrizzleTable } from '../../src/engine/index.js'
import type { DbHarness } from '../fixtures/db.js'
import { Replica, todo } from '../engine/helpers.js'
import { ALICE, appTodo, captureFixture, deviceStamp, type CaptureDialectKit } from './fixture.js'

/** The cascade tables of a dialect: `lists`, and `items` whose `list_uid` references them ON DELETE CASCADE. */
export interface CascadeTables {
  lists: AnyDrizzleTable
  items: AnyDrizzleTable
}

function write(uid: string, at: Stamp, row: Record<string, unknown>, created: Stamp, fields?: Record<string, Stamp>): WireRecord {
  return { uid, created_at: created, updated_at: at, deleted_at: null, row, ...(fields === undefined ? {} : { fields }) }
}

export function runCaptureConflictSuite(name: string, harness: DbHarness, kit: CaptureDialectKit & { cascade: CascadeTables }): void {
  describe(`captured writes and conflicts on ${name}`, () => {
    const fx = captureFixture(harness)

    it('a foreign write racing a device push on the same record resolves by last writer wins (stamps)', async () => {
      await fx.open()
      await fx.drizzle.insert('todos', appTodo('x', { title: 'foreign' }))
      const foreign = await fx.meta('todos', 'x')
      // A device edit stamped before the foreign write (it was made offline earlier): superseded by it.
      const older = deviceStamp(Date.now() - 10_000)
      const lost = await fx.push('todos', [write('x', older, todo({ tenant: 'A', title: 'older device edit' }), older)])
      expect(lost.outcomes[0]).toMatchObject({ status: 'superseded', winner: { updated_at: foreign?.updated_at } })
      // One stamped after it wins.
      const newer = deviceStamp(Date.now() + 20_000)
      const won = await fx.push('todos', [write('x', newer, todo({ tenant: 'A', title: 'newer device edit' }), foreign?.created_at as Stamp)])
      expect(won.outcomes[0]?.status).toBe('applied')
      // And a foreign write after that follows it, whatever the database clock says.
      await fx.t.raw(`UPDATE todos SET title = 'foreign again' WHERE uid = 'x'`)
      const last = await fx.meta('todos', 'x')
      expect((last?.updated_at as string) > newer).toBe(true)
      const a = fx.replica()
      await a.full()
      expect(a.rows().get('x')?.['title']).toBe('foreign again')
    })

    it('field merge: a foreign update stamps only the column it changed; a device edit of another column survives it', async () => {
      await fx.open({ merge: 'field' })
      const s0 = deviceStamp(Date.now() - 20_000)
      await fx.push('todos', [write('x', s0, todo({ tenant: 'A', title: 'first', priority: 1 }), s0)])
      const before = await fx.meta('todos', 'x')
      await fx.drizzle.update('todos', 'x', { title: 'foreign title' })
      const after = await fx.meta('todos', 'x')
      const titleStamp = after?.fields?.['title'] as Stamp
      expect(isDatabaseStamp(titleStamp)).toBe(true)
      expect(after?.updated_at).toBe(titleStamp)
      for (const column of ['tenant', 'done', 'priority', 'score', 'due', 'tags']) {
        expect(after?.fields?.[column], column).toBe(before?.fields?.[column] ?? s0)
      }
      // A device edit of priority, stamped before the foreign write: merged (F3), the foreign title kept.
      const s1 = deviceStamp(Date.now() - 10_000)
      const merged = await fx.push('todos', [write('x', s1, { priority: 9 }, s0, { priority: s1 })])
      expect(merged.outcomes[0]?.status).toBe('applied')
      // A device edit of the title stamped before the foreign write: that column stays the foreign one (F8).
      const stale = await fx.push('todos', [write('x', s1, { title: 'older title' }, s0, { title: s1 })])
      expect(stale.outcomes[0]?.status).toBe('superseded')
      const a = fx.replica()
      await a.full()
      expect(a.rows().get('x')).toMatchObject({ title: 'foreign title', priority: 9 })
      // A foreign insert of a new record stamps every column.
      await fx.drizzle.insert('todos', appTodo('y'))
      const y = await fx.meta('todos', 'y')
      expect(Object.values(y?.fields ?? {})).toEqual(Array(7).fill(y?.updated_at))
    })

    it('field merge: a foreign delete leaves a tombstone with the last image and the column stamps; a foreign re-insert brings it back', async () => {
      await fx.open({ merge: 'field' })
      await fx.drizzle.insert('todos', appTodo('z', { title: 'kept' }))
      const live = await fx.meta('todos', 'z')
      await fx.drizzle.delete('todos', 'z')
      const tomb = await fx.meta('todos', 'z')
      expect(tomb).toMatchObject({ created_at: live?.created_at, updated_at: live?.updated_at, fields: live?.fields, image: live?.image })
      expect((tomb?.deleted_at as string) > (live?.updated_at as string)).toBe(true)
      await fx.drizzle.insert('todos', appTodo('z', { title: 'back' }))
      const back = await fx.meta('todos', 'z')
      // The least creation stays (section 3a); every column at the new stamp.
      expect(back).toMatchObject({ created_at: live?.created_at, deleted_at: null, image: { title: 'back' } })
      expect((back?.updated_at as string) > (tomb?.deleted_at as string)).toBe(true)
    })

    it('ON DELETE CASCADE children of a synced table are captured like any delete (a foreign delete and a service delete of the parent)', async () => {
      await kit.cascadeDdl(fx.t)
      await fx.open({ extra: { lists: kit.cascade.lists, items: kit.cascade.items } })
      const lists = fx.engine.service('lists')
      await lists.create({ uid: 'L1', name: 'one' })
      await lists.create({ uid: 'L2', name: 'two' })
      for (const [uid, list] of [['I1', 'L1'], ['I2', 'L1'], ['I3', 'L2']]) await fx.t.raw(`INSERT INTO items (uid, list_uid, label) VALUES ('${uid}', '${list}', 'item ${uid}')`)
      const items = new Replica(fx.engine, ALICE, 'items')
      await items.full()
      expect([...items.rows().keys()]).toEqual(['I1', 'I2', 'I3'])
      await fx.t.raw(`DELETE FROM lists WHERE uid = 'L1'`)
      await items.pull()
      expect([...items.rows().keys()]).toEqual(['I3'])
      expect(items.records.get('I1')?.deleted_at).not.toBeNull()
      // lastword's own delete of a parent: its row is the engine's, the cascaded children are captured.
      await lists.delete('L2')
      await items.pull()
      expect(items.rows().size).toBe(0)
      expect((await fx.meta('items', 'I3'))?.image).toMatchObject({ label: 'item I3' })
      expect((await fx.changes('lists')).map((c) => c.uid)).toEqual(['L1', 'L2', 'L1', 'L2'])
    })
  })
}
