/** Capture on better-sqlite3 (a file in a temp dir, WAL, synchronous=FULL; raw SQL on a second connection to it). */
import Database from 'better-sqlite3'
import { DATABASE_NODE, formatStamp, MAX_COUNTER, nextDatabaseStamp, parseStamp, type Stamp } from '@lastword/core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import { stampSql } from '../../src/engine/dialect/sqlite-capture.js'
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
})
