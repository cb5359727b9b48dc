/** Capture on PostgreSQL (a schema of its own per test; raw SQL on another pool of the same database). */
import { formatStamp, MAX_COUNTER, nextDatabaseStamp, type Stamp } from '@lastword/core'
import { integer, pgTable, text } from 'drizzle-orm/pg-core'
import { describe, expect, it } from 'vitest'
import { pgHarness, requirePostgres, type TestDb } from '../fixtures/db.js'
import { runBackfillSuite } from './backfill-suite.js'
import { runCaptureConflictSuite } from './conflicts-suite.js'
import { captureFixture, type CaptureDialectKit } from './fixture.js'
import { runLateCommitSuite } from './late-commit-suite.js'
import { runCaptureSuite } from './suite.js'

const lists = pgTable('lists', { uid: text('uid').primaryKey(), name: text('name').notNull() })
const items = pgTable('items', { uid: text('uid').primaryKey(), list_uid: text('list_uid').notNull(), label: text('label').notNull(), rank: integer('rank') })

const kit: CaptureDialectKit = {
  async fill(t: TestDb, n: number) {
    await t.raw(`INSERT INTO todos (uid, tenant, title) SELECT 'b' || lpad(i::text, 5, '0'), 'A', 'row ' || i FROM generate_series(1, ${n}) AS i`)
  },
  async cascadeDdl(t: TestDb) {
    await t.raw(`CREATE TABLE lists (uid text PRIMARY KEY, name text NOT NULL)`)
    await t.raw(`CREATE TABLE items (uid text PRIMARY KEY, list_uid text NOT NULL REFERENCES lists (uid) ON DELETE CASCADE, label text NOT NULL, rank integer)`)
  },
}

if (await requirePostgres()) {
  // Schemas named after this suite, so that runs of other suites on the same server never collide.
  const harness = pgHarness(4, 'capture')
  runCaptureSuite('postgres', harness, kit)
  runCaptureConflictSuite('postgres', harness, { ...kit, cascade: { lists, items } })
  runBackfillSuite('postgres', harness, kit)
  runLateCommitSuite(harness)

  describe('PostgreSQL specifics of capture', () => {
    const fx = captureFixture(harness)

    it('lastword_stamp is core nextDatabaseStamp', async () => {
      await fx.open()
      const device = (ms: number, counter: number): Stamp => formatStamp({ ms, counter, node: 'ffffffffffffffff' })
      const cases: Array<[Stamp | null, number]> = [
        [null, 1_000],
        [device(999, 3), 1_000],
        [device(1_000, 3), 1_000],
        [device(5_000, 0x0abc), 1_000],
        [device(5_000, MAX_COUNTER), 1_000],
        [device(0xfffffffff, MAX_COUNTER), 1],
      ]
      for (const [previous, now] of cases) {
        const rows = await fx.t.raw('SELECT lastword_stamp($1, $2) AS s', [previous, now])
        expect(rows[0]?.['s']).toBe(nextDatabaseStamp(previous, now))
      }
    })

    it('TRUNCATE of a captured table is refused (row triggers cannot see it); nothing changes', async () => {
      await fx.open()
      await fx.t.raw(`INSERT INTO todos (uid, tenant, title) VALUES ('t1', 'A', 'kept')`)
      const before = await fx.t.snapshot()
      await expect(fx.t.raw('TRUNCATE todos')).rejects.toMatchObject({ code: '0A000' })
      expect(await fx.t.snapshot()).toBe(before)
      // A table declared capture: false is the app's to truncate.
      await fx.t.raw('TRUNCATE notes')
    })
  })
}
