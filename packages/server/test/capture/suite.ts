/**
 * Capture on both dialects (ARCHITECTURE.md, "Capture"; SPEC.md section 1a): writes that never went
 * through lastword — the app's plain Drizzle statements, raw SQL on another connection — reach clients
 * by pull (incremental and initial), stored exactly as lastword's own write would store the same row,
 * stamped by the database; lastword's own writes are logged once; `capture: false` tables are left alone;
 * `migrate()` is idempotent.
 */
import { DATABASE_NODE, isDatabaseStamp, parseStamp, type Stamp } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import type { DbHarness } from '../fixtures/db.js'
import { todo } from '../engine/helpers.js'
import { appTodo, captureFixture, deviceStamp, type CaptureDialectKit } from './fixture.js'

export function runCaptureSuite(name: string, harness: DbHarness, _kit: CaptureDialectKit): void {
  describe(`capture on ${name}`, () => {
    const fx = captureFixture(harness)

    it('a plain Drizzle insert, update and delete reach a client by incremental pull, and a fresh client by its initial sync', async () => {
      await fx.open()
      const a = fx.replica()
      await a.full()
      await fx.drizzle.insert('todos', appTodo('f1', { title: 'first', done: true, priority: 3 }))
      await a.pull()
      expect(a.rows().get('f1')).toMatchObject({ title: 'first', done: true, priority: 3, tenant: 'A' })
      await fx.drizzle.update('todos', 'f1', { title: 'renamed' })
      await a.pull()
      expect(a.rows().get('f1')).toMatchObject({ title: 'renamed', done: true })
      await fx.drizzle.insert('todos', appTodo('f2'))
      await fx.drizzle.delete('todos', 'f1')
      await a.pull()
      expect([...a.rows().keys()]).toEqual(['f2'])
      expect(a.records.get('f1')?.deleted_at).not.toBeNull()
      // A client that never synced gets the same state from its initial (full) sync.
      const b = fx.replica()
      await b.full()
      expect(b.rows()).toEqual(a.rows())
      // The tombstone keeps the last image, so scopes still apply to the deletion (trap 2).
      expect((await fx.meta('todos', 'f1'))?.image).toMatchObject({ title: 'renamed' })
    })

    it('a foreign write is stored and pulled exactly as the same row written through a service', async () => {
      await fx.open()
      const values = { tenant: 'A', title: 'same', done: true, priority: 7, score: 1.5, tags: { a: [1, 'two', null], b: { c: true } } }
      const due = '2024-05-01T10:20:30.123Z'
      await fx.engine.service('todos').create({ uid: 'svc', ...values, due })
      await fx.drizzle.insert('todos', { uid: 'raw', ...values, due: new Date(due) })
      const svc = await fx.meta('todos', 'svc')
      const raw = await fx.meta('todos', 'raw')
      expect(raw?.image).toEqual(svc?.image)
      expect(Object.keys(raw?.image ?? {})).toEqual(Object.keys(svc?.image ?? {}))
      const a = fx.replica()
      await a.full()
      expect(a.rows().get('raw')).toEqual(a.rows().get('svc'))
      // Nulls too.
      await fx.drizzle.insert('todos', appTodo('nulls'))
      await fx.engine.service('todos').create({ uid: 'svc-nulls', ...todo({ tenant: 'A', title: 'todo nulls' }) })
      expect((await fx.meta('todos', 'nulls'))?.image).toEqual((await fx.meta('todos', 'svc-nulls'))?.image)
    })

    it('a raw SQL statement on another connection is captured and pulled', async () => {
      await fx.open()
      const a = fx.replica()
      await a.full()
      await fx.t.raw(`INSERT INTO todos (uid, tenant, title) VALUES ('r1', 'A', 'raw insert')`)
      await a.pull()
      expect(a.rows().get('r1')).toMatchObject({ title: 'raw insert', done: false })
      await fx.t.raw(`UPDATE todos SET title = 'raw update' WHERE uid = 'r1'`)
      await a.pull()
      expect(a.rows().get('r1')).toMatchObject({ title: 'raw update' })
      await fx.t.raw(`DELETE FROM todos WHERE uid = 'r1'`)
      await a.pull()
      expect(a.rows().has('r1')).toBe(false)
      // One change-log entry per captured write, the before-image of the live record each time.
      const log = await fx.changes('todos')
      expect(log.map((c) => c.uid)).toEqual(['r1', 'r1', 'r1'])
      expect(log.map((c) => c.before?.['title'] ?? null)).toEqual([null, 'raw insert', 'raw update'])
    })

    it("foreign writes are stamped by the database: its node, strictly after the record's previous version", async () => {
      await fx.open()
      // A device's write stamped a minute ahead of the database clock: the foreign update must still follow it.
      const ahead = deviceStamp(Date.now() + 30_000, 5)
      await fx.push('todos', [{ uid: 'd1', created_at: ahead, updated_at: ahead, deleted_at: null, row: todo({ tenant: 'A' }) }])
      await fx.t.raw(`UPDATE todos SET title = 'by the database' WHERE uid = 'd1'`)
      const updated = await fx.meta('todos', 'd1')
      expect(updated?.created_at).toBe(ahead)
      expect(isDatabaseStamp(updated?.updated_at as Stamp)).toBe(true)
      expect(parseStamp(updated?.updated_at).node).toBe(DATABASE_NODE)
      expect(parseStamp(updated?.updated_at)).toMatchObject({ ms: parseStamp(ahead).ms, counter: 6 })
      await fx.t.raw(`DELETE FROM todos WHERE uid = 'd1'`)
      const deleted = await fx.meta('todos', 'd1')
      expect(deleted?.updated_at).toBe(updated?.updated_at)
      expect(deleted?.deleted_at).toBe(`${(updated?.updated_at as string).slice(0, 13)}0007-${DATABASE_NODE}`)
      // A new record: the database clock.
      const before = Date.now()
      await fx.drizzle.insert('todos', appTodo('n1'))
      const created = await fx.meta('todos', 'n1')
      expect(created?.created_at).toBe(created?.updated_at)
      expect(parseStamp(created?.created_at).ms).toBeGreaterThanOrEqual(before - 1_000)
      expect(parseStamp(created?.created_at).ms).toBeLessThanOrEqual(Date.now() + 1_000)
    })

    it("lastword's own writes are logged once each, with the writer's stamps (never captured again)", async () => {
      await fx.open()
      const at = deviceStamp(Date.now() - 1_000)
      const page = await fx.push('todos', ['p1', 'p2', 'p3'].map((uid) => ({ uid, created_at: at, updated_at: at, deleted_at: null, row: todo({ tenant: 'A' }) })))
      expect(page.outcomes.every((o) => o.status === 'applied')).toBe(true)
      await fx.engine.service('todos').update('p1', { title: 'by a service' })
      await fx.engine.service('todos').delete('p2')
      expect((await fx.changes('todos')).map((c) => c.uid)).toEqual(['p1', 'p2', 'p3', 'p1', 'p2'])
      expect((await fx.meta('todos', 'p3'))?.updated_at).toBe(at)
      expect(isDatabaseStamp((await fx.meta('todos', 'p1'))?.updated_at as Stamp)).toBe(false)
      // Nothing of the engine's mark is left behind: the app's next write is captured.
      await fx.drizzle.update('todos', 'p3', { title: 'foreign' })
      expect((await fx.changes('todos')).map((c) => c.uid)).toEqual(['p1', 'p2', 'p3', 'p1', 'p2', 'p3'])
    })

    it('a table declared capture: false is not captured: no triggers, nothing logged, nothing pulled', async () => {
      await fx.open()
      const before = await fx.engine.currentRev()
      await fx.drizzle.insert('notes', { uid: 'n1', tenant: 'A', body: 'not synced' })
      await fx.t.raw(`UPDATE notes SET body = 'still not' WHERE uid = 'n1'`)
      expect(await fx.engine.currentRev()).toBe(before)
      expect(await fx.meta('notes', 'n1')).toBeUndefined()
      const a = fx.replica('notes')
      await a.full()
      expect(a.rows().size).toBe(0)
      // lastword's own writes of it still sync, as before.
      await fx.engine.service('notes').create({ uid: 'n2', tenant: 'A', body: 'through lastword' })
      await a.pull()
      expect([...a.rows().keys()]).toEqual(['n2'])
      // Neither is it backfilled.
      expect((await fx.engine.backfill()).rows['notes']).toBeUndefined()
    })

    it('migrate() twice is idempotent: nothing logged by it, and a foreign write after it logged once', async () => {
      await fx.open()
      await fx.drizzle.insert('todos', appTodo('m1'))
      const rev = await fx.engine.currentRev()
      const log = await fx.changes('todos')
      await fx.engine.migrate()
      await fx.engine.migrate()
      expect(await fx.engine.currentRev()).toBe(rev)
      expect(await fx.changes('todos')).toEqual(log)
      await fx.drizzle.update('todos', 'm1', { title: 'once' })
      expect((await fx.changes('todos')).length).toBe(log.length + 1)
      expect(await fx.engine.currentRev()).toBe(rev + 1)
    })

    it('turning capture off drops the triggers at the next migrate(); turning it on backfills what was missed', async () => {
      await fx.open()
      await fx.engine.close()
      const t = fx.t
      const off = await fx.open({ extra: { todos: { table: t.todos, capture: false } } })
      await fx.drizzle.insert('todos', appTodo('missed'))
      expect(await fx.meta('todos', 'missed')).toBeUndefined()
      await off.close()
      await fx.open()
      expect((await fx.meta('todos', 'missed'))?.image).toMatchObject({ title: 'todo missed' })
    })
  })
}
