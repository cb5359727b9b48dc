/**
 * Commit order stays the truth (trap 1, docs/guarantees.md) with foreign writers on PostgreSQL: a
 * foreign transaction writes, stays open while a device's push commits and the device pulls, then
 * commits late. Its rev is taken at its commit (the deferred trigger takes the version row last), so it
 * is above every checkpoint handed out before: no client ever skips it. And the open transaction holds
 * no lock of lastword's: the push and the pull do not wait for it.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { PG_URL, type DbHarness } from '../fixtures/db.js'
import { todo } from '../engine/helpers.js'
import { captureFixture, deviceStamp } from './fixture.js'

export function runLateCommitSuite(harness: DbHarness): void {
  describe('a foreign transaction that commits late on postgres', () => {
    const fx = captureFixture(harness)

    it('is never skipped by a client that pushed and pulled while it was open', async () => {
      await fx.open()
      const schema = String((await fx.t.raw('SELECT current_schema() AS s'))[0]?.['s'])
      const foreign = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
      await foreign.connect()
      try {
        const device = fx.replica()
        const other = fx.replica()
        await device.full()
        await other.full()
        await foreign.query('BEGIN')
        await foreign.query(`INSERT INTO todos (uid, tenant, title) VALUES ('late', 'A', 'committed late')`)
        await foreign.query(`UPDATE todos SET title = 'committed late, edited' WHERE uid = 'late'`)
        // A push and pulls while the foreign transaction is open: none of them waits for it.
        const at = deviceStamp(Date.now())
        await device.pull([{ uid: 'p1', created_at: at, updated_at: at, deleted_at: null, row: todo({ tenant: 'A' }) }])
        await other.pull()
        const seen = await fx.engine.currentRev()
        expect(device.rows().has('late')).toBe(false)
        expect(other.rows().has('p1')).toBe(true)
        await foreign.query('COMMIT')
        const late = await fx.meta('todos', 'late')
        expect(late?.rev).toBeGreaterThan(seen)
        for (const replica of [device, other]) {
          await replica.pull()
          expect(replica.rows().get('late')).toMatchObject({ title: 'committed late, edited' })
        }
        // One record, one change-log entry for the whole transaction (its net change).
        expect((await fx.changes('todos')).filter((c) => c.uid === 'late')).toHaveLength(1)
      } finally {
        await foreign.end()
      }
    })

    it('a record created and deleted within one foreign transaction leaves nothing (not even a placeholder)', async () => {
      await fx.open()
      const rev = await fx.engine.currentRev()
      await fx.t.raw(`BEGIN; INSERT INTO todos (uid, tenant, title) VALUES ('brief', 'A', 'gone'); DELETE FROM todos WHERE uid = 'brief'; COMMIT`)
      expect(await fx.engine.currentRev()).toBe(rev)
      expect(await fx.t.raw(`SELECT rev FROM lastword_meta WHERE uid = 'brief'`)).toEqual([])
    })

    it('a foreign transaction that rolls back leaves nothing', async () => {
      await fx.open()
      const rev = await fx.engine.currentRev()
      const before = await fx.t.snapshot()
      await fx.t.raw(`BEGIN; INSERT INTO todos (uid, tenant, title) VALUES ('gone', 'A', 'never'); ROLLBACK`)
      expect(await fx.engine.currentRev()).toBe(rev)
      expect(await fx.t.snapshot()).toBe(before)
    })
  })
}
