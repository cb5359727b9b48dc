/**
 * Tables keyed by the app's own primary key (core's SPEC.md section 4, "The key"), through the engine
 * on each dialect (`keys.test.ts` on better-sqlite3, `keys.pg.test.ts` on PostgreSQL):
 * - a text key under another Drizzle key and SQL name (`id: text('label_id')`) is the record's uid:
 *   pushes write it, full and incremental pulls read it, a delete removes the app row by it, the
 *   services read and write rows carrying it as `id`;
 * - on PostgreSQL a `uuid` key (`id: uuid('id').primaryKey().defaultRandom()`) and a `uuid` column:
 *   the same, scopes on the uuid column compared as core compares them (canonical lowercase, byte
 *   order), and bad uids or uuid values refused per record with a typed error, nothing written.
 */
import { matches, validateWhere, type PushOutcome, type WireRecord } from '@lastword/core'
import { integer as pgInteger, pgTable, text as pgText, uuid } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import { Replica, createTestClock, live, stamp, tomb, type TestClock } from '../engine/helpers.js'

const sqliteLabels = sqliteTable('labels', { id: text('label_id').primaryKey(), text: text('text').notNull(), n: integer('n') })
const pgLabels = pgTable('labels', { id: pgText('label_id').primaryKey(), text: pgText('text').notNull(), n: pgInteger('n') })
const pgItems = pgTable('items', { id: uuid('id').primaryKey().defaultRandom(), name: pgText('name').notNull(), owner: uuid('owner') })

const DDL = {
  sqlite: ['CREATE TABLE labels (label_id TEXT PRIMARY KEY, text TEXT NOT NULL, n INTEGER)'],
  postgres: [
    'CREATE TABLE labels (label_id text PRIMARY KEY, text text NOT NULL, n integer)',
    'CREATE TABLE items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, owner uuid)',
  ],
}

const U1 = '0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b'
const U2 = '9f000000-0000-4000-8000-000000000001'
const UA = 'a0000000-0000-4000-8000-000000000002'
const SYSTEM = { principal: null }

/** Runs the key suite against one database harness. */
export function runKeySuite(name: string, harness: DbHarness): void {
  describe(`tables keyed by the app's primary key on ${name}`, () => {
    let t: TestDb
    let clock: TestClock
    let engine: Engine
    const pg = harness.dialect === 'postgres'

    beforeEach(async () => {
      t = await harness.open()
      for (const statement of DDL[harness.dialect]) await t.raw(statement)
      clock = createTestClock()
      engine = createEngine({ db: t.db, tables: pg ? { labels: pgLabels, items: pgItems } : { labels: sqliteLabels }, now: clock.now })
      await engine.migrate()
    })
    afterEach(async () => {
      await engine.close()
      await t.close()
    })

    const push = async (table: string, records: WireRecord[]): Promise<PushOutcome[]> =>
      (await engine.sync(SYSTEM, { table, where: {}, checkpoint: null, push: records })).outcomes
    const appRows = (sql: string) => t.raw(sql)

    it('describes the key in the descriptor, never as a column', () => {
      const labels = engine.tables.find((d) => d.name === 'labels')
      expect(labels).toMatchObject({ name: 'labels', key: 'id', columns: [{ name: 'text', type: 'text' }, { name: 'n', type: 'integer' }] })
      expect(labels?.keyType).toBeUndefined()
      if (pg) {
        expect(engine.tables.find((d) => d.name === 'items')).toMatchObject({
          key: 'id',
          keyType: 'uuid',
          columns: [{ name: 'name', type: 'text' }, { name: 'owner', type: 'uuid', nullable: true }],
        })
      }
    })

    it('a text key: push, full and incremental pulls, a delete, all by the key column', async () => {
      expect(await push('labels', [live('L1', stamp(1), { text: 'one', n: 1 }), live('L2', stamp(1), { text: 'two', n: null })])).toEqual([
        { uid: 'L1', status: 'applied' },
        { uid: 'L2', status: 'applied' },
      ])
      expect((await appRows('SELECT label_id, text FROM labels ORDER BY label_id')).map((r) => [r['label_id'], r['text']])).toEqual([
        ['L1', 'one'],
        ['L2', 'two'],
      ])
      const replica = new Replica(engine, SYSTEM, 'labels')
      await replica.full()
      expect([...replica.rows()]).toEqual([
        ['L1', { text: 'one', n: 1 }],
        ['L2', { text: 'two', n: null }],
      ])
      await push('labels', [live('L1', stamp(5), { text: 'uno', n: 1 }, stamp(1)), tomb('L2', stamp(6), stamp(1), stamp(1))])
      await replica.pull()
      expect([...replica.rows()]).toEqual([['L1', { text: 'uno', n: 1 }]])
      expect((await appRows('SELECT label_id FROM labels')).map((r) => r['label_id'])).toEqual(['L1'])
    })

    it("the services: rows carry the uid as `id`; create takes it as `id`; update and delete find the row by it", async () => {
      const labels = engine.service('labels')
      expect(await labels.create({ id: 'L3', text: 'three' })).toBe('L3')
      expect(await labels.findUnique('L3')).toEqual({ id: 'L3', text: 'three', n: null })
      const made = await labels.create({ text: 'made' })
      expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      await labels.update('L3', { n: 3 })
      expect(await labels.findMany({ n: 3 })).toEqual([{ id: 'L3', text: 'three', n: 3 }])
      await labels.delete('L3')
      expect(await labels.findUnique('L3')).toBeNull()
      expect((await labels.findMany()).map((r) => r['id'])).toEqual([made])
      // `uid` is no column of this table: the key is `id`.
      await expect(labels.create({ uid: 'x', text: 'a' })).rejects.toMatchObject({ code: 'UNKNOWN_COLUMN' })
    })

    if (!pg) return

    describe('a uuid key and a uuid column (PostgreSQL)', () => {
      it('push and pull: the uid is the uuid, the column a uuid, read back canonical', async () => {
        // Another table's uids in lastword_meta are no UUIDs: the join never casts them.
        await push('labels', [live('not-a-uuid', stamp(1), { text: 'x', n: null })])
        expect(await push('items', [live(U1, stamp(1), { name: 'one', owner: U2.toUpperCase() })])).toEqual([{ uid: U1, status: 'applied' }])
        const stored = await appRows(`SELECT id::text AS id, owner::text AS owner, pg_typeof(id)::text AS type FROM items`)
        expect(stored).toEqual([{ id: U1, owner: U2, type: 'uuid' }])
        const replica = new Replica(engine, SYSTEM, 'items')
        await replica.full()
        expect([...replica.rows()]).toEqual([[U1, { name: 'one', owner: U2 }]])
        await push('items', [tomb(U1, stamp(9), stamp(1), stamp(1))])
        await replica.pull()
        expect(replica.rows().size).toBe(0)
        expect(await appRows('SELECT id FROM items')).toEqual([])
      })

      it('a bad uid or uuid value: rejected with a typed error, nothing written', async () => {
        const before = await t.snapshot()
        const itemsBefore = JSON.stringify(await appRows('SELECT * FROM items'))
        const outcomes = await push('items', [
          live(U1.toUpperCase(), stamp(1), { name: 'upper uid', owner: null }),
          live('not-a-uuid', stamp(1), { name: 'text uid', owner: null }),
          live(U2, stamp(1), { name: 'bad owner', owner: 'nobody' }),
          live(UA, stamp(1), { name: 'braced owner', owner: `{${U1}}` }),
        ])
        expect(outcomes.map((o) => [o.status, o.status === 'rejected' ? o.error.code : null])).toEqual([
          ['rejected', 'INVALID_UID'],
          ['rejected', 'INVALID_UID'],
          ['rejected', 'INVALID_VALUE'],
          ['rejected', 'INVALID_VALUE'],
        ])
        for (const o of outcomes) if (o.status === 'rejected') expect(o.error.message).not.toMatch(/nobody|not-a-uuid/)
        expect(await t.snapshot()).toBe(before)
        expect(JSON.stringify(await appRows('SELECT * FROM items'))).toBe(itemsBefore)
        // A filter that is no UUID is refused before any SQL.
        await expect(engine.sync(SYSTEM, { table: 'items', where: { owner: 'nobody' }, checkpoint: null, push: [] })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
      })

      it('scopes on a uuid column: SQL selects what core matches (equality in either case, ranges, in)', async () => {
        const owners = [U1, U2, UA, '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', null]
        const records = owners.map((owner, i) => live(`${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`, stamp(1), { name: `n${i}`, owner }))
        expect((await push('items', records)).every((o) => o.status === 'applied')).toBe(true)
        const wheres = [
          { owner: U2.toUpperCase() },
          { owner: { gt: U2 } },
          { owner: { gte: '90000000-0000-0000-0000-000000000000', lt: 'b0000000-0000-0000-0000-000000000000' } },
          { owner: { in: [UA, U1.toUpperCase()] } },
          { owner: { lte: UA } },
          { owner: null },
        ]
        const descriptor = engine.tables.find((d) => d.name === 'items')
        if (descriptor === undefined) throw new Error('no items descriptor')
        for (const where of wheres) {
          const replica = new Replica(engine, SYSTEM, 'items', where)
          await replica.full()
          const scope = validateWhere(where, descriptor)
          const expected = records.filter((r) => matches(r.row as Record<string, unknown>, scope)).map((r) => r.uid)
          expect([...replica.rows().keys()], JSON.stringify(where)).toEqual(expected)
        }
      })

      it('the services: a UUIDv7 made for a create, any case to look it up, delete and erase by it', async () => {
        const items = engine.service('items')
        const made = await items.create({ name: 'made', owner: UA })
        expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(await items.findUnique(made.toUpperCase())).toEqual({ id: made, name: 'made', owner: UA })
        expect(await items.create({ id: U1.toUpperCase(), name: 'given' })).toBe(U1)
        await expect(items.create({ id: 'nope', name: 'x' })).rejects.toMatchObject({ code: 'INVALID_UID' })
        await expect(items.findUnique('nope')).rejects.toMatchObject({ code: 'INVALID_UID' })
        await items.delete(made)
        expect(await items.findUnique(made)).toBeNull()
        expect(await engine.erase('items', U1.toUpperCase())).toBe(true)
        expect(await appRows('SELECT id FROM items')).toEqual([])
      })
    })
  })
}
