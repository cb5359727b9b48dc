/**
 * The backfill (ARCHITECTURE.md, "Capture"): rows that were in a synced table before the first
 * `migrate()` get metadata and revs in batches, each its own transaction; interrupted, it resumes where
 * it stopped and every row reaches clients exactly once; run again, it does nothing.
 */
import { isDatabaseStamp, type Stamp } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import type { DbHarness } from '../fixtures/db.js'
import { captureFixture, type CaptureDialectKit } from './fixture.js'

const ROWS = 10_000
const BATCH = 1_000

export function runBackfillSuite(name: string, harness: DbHarness, kit: CaptureDialectKit): void {
  describe(`backfill on ${name}`, () => {
    const fx = captureFixture(harness)

    it(`${ROWS} rows that predate lastword, interrupted after 3 batches and resumed: every row delivered once`, { timeout: 120_000 }, async () => {
      await kit.fill(fx.t, ROWS)
      const seen: Array<{ batch: number; rows: number }> = []
      let interrupt = true
      await fx.open({
        migrate: false,
        hooks: {
          beforeBackfillBatch: (info) => {
            seen.push({ batch: info.batch, rows: info.rows })
            if (interrupt && info.batch === 4) throw new Error('interrupted on purpose')
          },
        },
      })
      await expect(fx.engine.migrate({ backfill: { batchSize: BATCH } })).rejects.toThrow('interrupted on purpose')
      expect(seen.map((s) => s.rows)).toEqual([0, 1_000, 2_000, 3_000])
      // A client that syncs in between gets what was backfilled so far.
      const a = fx.replica()
      await a.full()
      expect(a.rows().size).toBe(3 * BATCH)
      interrupt = false
      const report = await fx.engine.backfill({ batchSize: BATCH })
      expect(report.rows['todos']).toBe(ROWS - 3 * BATCH)
      const pages = await a.pull()
      expect(a.rows().size).toBe(ROWS)
      // Once each: no uid twice in the change log, nor in what the client received after the first sync.
      const log = await fx.changes('todos')
      expect(log).toHaveLength(ROWS)
      expect(new Set(log.map((c) => c.uid)).size).toBe(ROWS)
      const received = pages.flatMap((p) => p.rows.map((r) => r[0] as string))
      expect(received).toHaveLength(ROWS - 3 * BATCH)
      expect(new Set(received).size).toBe(ROWS - 3 * BATCH)
      // A fresh client gets every row from its initial sync.
      const b = fx.replica()
      await b.full()
      expect(b.rows()).toEqual(a.rows())
      // The rows were written by the database; once more finds nothing to do.
      const meta = await fx.meta('todos', 'b00001')
      expect(isDatabaseStamp(meta?.updated_at as Stamp)).toBe(true)
      expect(meta?.image).toMatchObject({ title: 'row 1', tenant: 'A', done: false })
      const rev = await fx.engine.currentRev()
      expect((await fx.engine.backfill({ batchSize: BATCH })).rows['todos']).toBe(0)
      await fx.engine.migrate()
      expect(await fx.engine.currentRev()).toBe(rev)
    })

    it('a row written back while its table was not captured, over a tombstone lastword holds, is backfilled as a re-create after the tombstone', async () => {
      await fx.open()
      await fx.drizzle.insert('todos', { uid: 'g1', tenant: 'A', title: 'ghost' })
      await fx.drizzle.delete('todos', 'g1')
      const tomb = await fx.meta('todos', 'g1')
      // The row comes back while the table is not captured (as with triggers disabled).
      await fx.engine.close()
      await fx.open({ migrate: false, extra: { todos: { table: fx.t.todos, capture: false } } })
      await fx.engine.migrate()
      await fx.drizzle.insert('todos', { uid: 'g1', tenant: 'A', title: 'back' })
      await fx.engine.close()
      await fx.open()
      const back = await fx.meta('todos', 'g1')
      expect(back).toMatchObject({ deleted_at: null, image: { title: 'back' } })
      expect((back?.updated_at as string) > (tomb?.deleted_at as string)).toBe(true)
    })

    it('refuses a batch size that is not a positive integer (typed error, nothing written)', async () => {
      await kit.fill(fx.t, 3)
      await fx.open({ migrate: false })
      await fx.engine.migrate({ backfill: false })
      const before = await fx.t.snapshot()
      for (const batchSize of [0, -1, 1.5]) await expect(fx.engine.backfill({ batchSize })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
      expect(await fx.t.snapshot()).toBe(before)
      expect((await fx.engine.backfill({ batchSize: 2 })).rows['todos']).toBe(3)
    })
  })
}
