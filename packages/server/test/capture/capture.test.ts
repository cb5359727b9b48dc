/** Capture on better-sqlite3 (a file in a temp dir, WAL, synchronous=FULL; raw SQL on a second connection to it). */
import Database from 'better-sqlite3'
import { DATABASE_NODE, formatStamp, MAX_COUNTER, nextDatabaseStamp, parseStamp, type Stamp } from '@lastword/core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import { msSql, stampSql } from '../../src/engine/dialect/sqlite-capture.js'
import { sqliteHarness, type TestDb } from '../fixtures/db.js'
import { runBackfillSuite } from './backfill-suite.js'
import { runCaptureConflictSuite } from './conflicts-suite.js'
import type { CaptureDialectKit } from './fixture.js'
import { runCaptureSuite } from './suite.js'

const lists = sqliteTable('lists', { uid: text('uid').primaryKey(), name: text('name').notNull() })
const items = sqliteTable('items', { uid: text('uid').primaryKey(), list_uid: text('list_uid').notNull(), label: text('label').notNull(), rank: integer('rank') })

const kit: CaptureDialectKit = {
  async fill(t: TestDb, n: number) {
    await t.raw(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
      INSERT INTO todos (uid, tenant, title) SELECT printf('b%05d', i), 'A', 'row ' || i FROM s`)
  },
  async cascadeDdl(t: TestDb) {
    await t.raw(`CREATE TABLE lists (uid TEXT PRIMARY KEY, name TEXT NOT NULL)`)
    await t.raw(`CREATE TABLE items (uid TEXT PRIMARY KEY, list_uid TEXT NOT NULL REFERENCES lists (uid) ON DELETE CASCADE, label TEXT NOT NULL, rank INTEGER)`)
    // Foreign keys are a per-connection setting in SQLite: the app turns them on where it writes.
    ;(t.db as unknown as { $client: Database.Database }).$client.pragma('foreign_keys = ON')
    await t.raw('PRAGMA foreign_keys = ON')
  },
}

runCaptureSuite('better-sqlite3', sqliteHarness, kit)
runCaptureConflictSuite('better-sqlite3', sqliteHarness, { ...kit, cascade: { lists, items } })
runBackfillSuite('better-sqlite3', sqliteHarness, kit)

describe('the SQLite stamp of a foreign write is core nextDatabaseStamp', () => {
  const db = new Database(':memory:')
  const stampOf = (previous: Stamp | null): string => String((db.prepare(`SELECT ${stampSql('@p')} AS s`).get({ p: previous }) as { s: unknown }).s)
  const device = (ms: number, counter: number): Stamp => formatStamp({ ms, counter, node: 'ffffffffffffffff' })

  it('bumps the counter of a version the database clock is not ahead of, moving on a full counter', () => {
    const ahead = Date.now() + 3_600_000
    for (const previous of [device(ahead, 0), device(ahead, 0x0abc), device(ahead, MAX_COUNTER - 1), device(ahead, MAX_COUNTER), device(0x1ffffffffff, MAX_COUNTER)]) {
      // The database clock is behind every one of these: any reading of it gives core's answer for 0.
      expect(stampOf(previous)).toBe(nextDatabaseStamp(previous, 0))
    }
  })

  it('takes the database clock when it is ahead (or the record is new)', () => {
    for (const previous of [null, device(1_000, 7)]) {
      const before = Date.now()
      const made = parseStamp(stampOf(previous))
      expect(made.node).toBe(DATABASE_NODE)
      expect(made.counter).toBe(0)
      expect(made.ms).toBeGreaterThanOrEqual(before - 1)
      expect(made.ms).toBeLessThanOrEqual(Date.now() + 1)
    }
  })

  it("reads the database clock to the ms (every instant SQLite can hold, as the stamp's ms)", () => {
    const ms = db.prepare(`SELECT ${msSql('@t')} AS ms`)
    const instants = [0, 1, 999, 1_000, 86_399_999, 951_782_400_000, 1_709_164_800_999, 1_764_633_599_999, 4_102_444_799_999]
    // A deterministic spread over 1970–2100, each ms digit pattern among them.
    for (let i = 0; i < 20_000; i++) instants.push(Math.floor(((i * 2_654_435_761) % 4_102_444_800) * 1_000 + (i % 1_000)))
    for (const at of instants) {
      const text = new Date(at).toISOString().replace('T', ' ').replace('Z', '')
      expect((ms.get({ t: text }) as { ms: number }).ms, text).toBe(at)
    }
  })
})
