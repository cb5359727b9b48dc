/**
 * Schema changes while clients are offline (SPEC.md section 11; README, "Schema changes"), one suite for
 * both dialects. Each test deploys version 1 of `items`, lets a client write, migrates the database the
 * way an app does (its DDL, then a server whose Drizzle table is the new one: `migrate()` records the
 * version), lets a client of the new schema write, then reconnects the client of version 1: nothing
 * either did is lost (SV1–SV5), or its push is answered `SCHEMA_OUTDATED` and kept for after it upgrades
 * (SV3); an unsupported change is refused at `migrate()` with nothing recorded (SV6).
 */
import { mapRow, schemaMapping, type PushOutcome, type Stamp, type TableDescriptor, type WireRecord } from '@lastword/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import type { TestDb } from '../fixtures/db.js'
import { createTestClock, expectCode, live, principal, request, stamp } from '../engine/helpers.js'
import type { Deploy, Kit } from './kits.js'
import { dropCapture } from '../../src/engine/drop-capture.js'

const P = principal('alice', 'A')

export function runSchemaSuite(name: string, kit: Kit, merge: 'row' | 'field' = 'row'): void {
  describe(`schema changes on ${name}, merge: '${merge}'`, () => {
    let t: TestDb
    let engine: Engine | undefined
    const clock = createTestClock()

    /** Runs the migrations of `migrations` (default: every table's), then starts a server on `tables`; `[]`: a restart. */
    async function deploy(tables: Record<string, Deploy>, migrations: Deploy[] = Object.values(tables)): Promise<Engine> {
      await engine?.close()
      // As an app does before its migrations: SQLite refuses to drop a column a capture trigger names.
      if (migrations.some((d) => d.ddl.length > 0)) await dropCapture(t.db)
      for (const d of migrations) for (const statement of d.ddl) await t.raw(statement)
      const input = Object.fromEntries(
        Object.entries(tables).map(([key, d]) => [key, d.renamed === undefined && merge === 'row' ? d.table : { table: d.table, renamed: d.renamed, merge }]),
      )
      const next = createEngine({ db: t.db, tables: input, now: clock.now })
      engine = next
      await next.migrate()
      return next
    }
    const descriptor = (e: Engine, table = 'items'): TableDescriptor => e.tables.find((d) => d.name === table) as TableDescriptor
    async function push(e: Engine, records: WireRecord[], schemaVersion?: number): Promise<PushOutcome[]> {
      const page = await e.sync(P, request('items', { push: records, ...(schemaVersion === undefined ? {} : { schemaVersion }) }))
      // A field-merge table's applied outcome also carries the merged state (checked in the field tests).
      return page.outcomes.map((o) => (o.status === 'applied' ? { uid: o.uid, status: o.status } : o))
    }
    async function row(uid: string): Promise<Record<string, unknown> | undefined> {
      return (await t.raw(`SELECT * FROM items WHERE uid = '${uid}'`))[0]
    }
    const versionsRecorded = async (): Promise<unknown[]> =>
      (await t.raw(`SELECT tbl, version FROM lastword_schema ORDER BY tbl, version`)).map((r) => `${String(r['tbl'])}@${String(r['version'])}`)

    beforeEach(async () => {
      t = await kit.harness.open()
      clock.ms = Date.UTC(2024, 0, 1) + 60_000
    })
    afterEach(async () => {
      await engine?.close()
      engine = undefined
      await t.close()
    })

    // Version 1 everywhere: one record, written by the client that will go offline.
    async function start(): Promise<{ e1: Engine; v1: TableDescriptor; x: WireRecord }> {
      const e1 = await deploy({ items: kit.v1 })
      const v1 = structuredClone(descriptor(e1))
      expect(v1.schemaVersion).toBe(1)
      const x = live('x1', stamp(1_000), { title: 'first', old_note: 'o', n: 1, gone: 'g' })
      expect(await push(e1, [x], 1)).toEqual([{ uid: 'x1', status: 'applied' }])
      return { e1, v1, x }
    }

    it('versions are recorded in order, once per distinct schema, stable across restarts', async () => {
      await start()
      await deploy({ items: kit.v1 }, [])
      expect(await versionsRecorded()).toEqual(['items@1'])
      const e2 = await deploy({ items: kit.addNote })
      expect(descriptor(e2).schemaVersion).toBe(2)
      await deploy({ items: kit.addNote }, [])
      expect(await versionsRecorded()).toEqual(['items@1', 'items@2'])
    })

    it('SV1 a nullable column added: the offline client of version 1 renames a row; the note another client set stays', async () => {
      const { x } = await start()
      const e2 = await deploy({ items: kit.addNote })
      expect(await push(e2, [live('x1', stamp(2_000), { title: 'first', old_note: 'o', n: 1, gone: 'g', note: 'from B' }, x.created_at as Stamp)], 2)).toEqual([
        { uid: 'x1', status: 'applied' },
      ])
      const offline = live('x1', stamp(3_000), { title: 'renamed', old_note: 'o', n: 1, gone: 'g' }, x.created_at as Stamp)
      const created = live('y1', stamp(3_000), { title: 'new', old_note: null, n: null, gone: null })
      expect(await push(e2, [offline, created], 1)).toEqual([
        { uid: 'x1', status: 'applied' },
        { uid: 'y1', status: 'applied' },
      ])
      expect(await row('x1')).toMatchObject({ title: 'renamed', note: 'from B' })
      expect(await row('y1')).toMatchObject({ title: 'new', note: null })
    })

    it('SV1 a NOT NULL column with a default: a create of version 1 gets the default, an update keeps the stored value', async () => {
      const { x } = await start()
      const e2 = await deploy({ items: kit.addRank })
      await push(e2, [live('x1', stamp(2_000), { title: 'first', old_note: 'o', n: 1, gone: 'g', rank: 3 }, x.created_at as Stamp)], 2)
      await push(e2, [live('x1', stamp(3_000), { title: 'renamed', old_note: 'o', n: 1, gone: 'g' }, x.created_at as Stamp), live('y1', stamp(3_000), { title: 'new' })], 1)
      expect(await row('x1')).toMatchObject({ title: 'renamed', rank: 3 })
      expect(await row('y1')).toMatchObject({ title: 'new', rank: 7 })
    })

    it('SV1 a table added: version 1 of it is recorded, the other tables keep theirs and their clients sync', async () => {
      const { x } = await start()
      const e2 = await deploy({ items: kit.v1, extra: kit.extra }, [kit.extra])
      expect(await versionsRecorded()).toEqual(['extra@1', 'items@1'])
      expect(await push(e2, [live('x1', stamp(3_000), { title: 'renamed', old_note: 'o', n: 1, gone: 'g' }, x.created_at as Stamp)], 1)).toEqual([
        { uid: 'x1', status: 'applied' },
      ])
      expect(await row('x1')).toMatchObject({ title: 'renamed' })
    })

    it('SV3 a column dropped: a push of version 1 is SCHEMA_OUTDATED and writes nothing; mapped after the upgrade, it applies', async () => {
      const { x, v1 } = await start()
      const e2 = await deploy({ items: kit.dropGone })
      const offline = live('x1', stamp(3_000), { title: 'renamed', old_note: 'o', n: 1, gone: 'g' }, x.created_at as Stamp)
      const before = await t.snapshot()
      const [outcome] = await push(e2, [offline], 1)
      expect(outcome).toMatchObject({ uid: 'x1', status: 'rejected', error: { code: 'SCHEMA_OUTDATED', details: { table: 'items', schemaVersion: 1, current: 2 } } })
      expect(await t.snapshot()).toBe(before)
      // The client upgrades: its record migrated with core's mapping (the dropped column left behind), pushed again.
      const upgraded = mapRow(schemaMapping(v1, descriptor(e2)), offline.row as Record<string, unknown>, false)
      expect(upgraded.ok).toBe(true)
      if (!upgraded.ok) return
      expect(await push(e2, [{ ...offline, row: upgraded.row }], 2)).toEqual([{ uid: 'x1', status: 'applied' }])
      expect(await row('x1')).toMatchObject({ title: 'renamed', old_note: 'o' })
    })

    it('SV4 a column renamed (declared): a push of version 1 under the old name lands in the new column', async () => {
      const { x } = await start()
      const e2 = await deploy({ items: kit.renameNote })
      expect(descriptor(e2).renames).toEqual([[2, 'old_note', 'note']])
      expect(await row('x1')).toMatchObject({ note: 'o' })
      expect(await push(e2, [live('x1', stamp(3_000), { title: 'first', old_note: 'edited offline', n: 1, gone: 'g' }, x.created_at as Stamp)], 1)).toEqual([
        { uid: 'x1', status: 'applied' },
      ])
      expect(await row('x1')).toMatchObject({ note: 'edited offline', title: 'first' })
      // Restarted with the option still declared: no new version.
      await deploy({ items: kit.renameNote }, [])
      expect(await versionsRecorded()).toEqual(['items@1', 'items@2'])
    })

    it('SV5 a column widened: a push of version 1 applies, a client of version 2 writes the wider values', async () => {
      const { x } = await start()
      const e2 = await deploy({ items: kit.widenTitle })
      expect(descriptor(e2).columns.find((c) => c.name === 'title')?.maxLength).toBe(100)
      expect(await push(e2, [live('y1', stamp(2_000), { title: 'a much longer title' })], 2)).toEqual([{ uid: 'y1', status: 'applied' }])
      expect(await push(e2, [live('x1', stamp(3_000), { title: 'short', old_note: 'o', n: 1, gone: 'g' }, x.created_at as Stamp)], 1)).toEqual([
        { uid: 'x1', status: 'applied' },
      ])
      expect(await row('x1')).toMatchObject({ title: 'short' })
    })

    it('SV6 an unsupported change is refused at migrate(), typed, naming the table and the reason; nothing is recorded', async () => {
      await start()
      for (const [d, reason] of [
        [kit.retypeN, 'retyped'],
        [kit.requiredNoDefault, 'required-without-default'],
      ] as const) {
        const before = await versionsRecorded()
        await engine?.close()
        // The app's own migration runs first (migrate() refuses a column the database lacks before this).
        for (const statement of d.ddl) await t.raw(statement)
        const next = createEngine({ db: t.db, tables: { items: d.table }, now: clock.now })
        engine = next
        const error = await expectCode(next.migrate(), 'SCHEMA_CHANGE_UNSUPPORTED')
        expect(error.details).toMatchObject({ table: 'items', reason })
        expect(await versionsRecorded()).toEqual(before)
      }
    })

    if (merge === 'field') {
      /** A field-merge edit of some columns, stamped each at `at` (what a client pushes for such a table). */
      const edit = (base: WireRecord, at: Stamp, row: Record<string, unknown>): WireRecord => ({
        ...base,
        updated_at: at,
        row,
        fields: Object.fromEntries(Object.keys(row).map((c) => [c, at])),
      })

      it('F + SV1: an edit of version 1 of one column leaves the column added since, and its stamp, to the other client', async () => {
        const { x } = await start()
        const e2 = await deploy({ items: kit.addNote })
        await push(e2, [edit(x, stamp(2_000), { note: 'from B' })], 2)
        expect(await push(e2, [edit(x, stamp(3_000), { title: 'renamed' })], 1)).toEqual([{ uid: 'x1', status: 'applied' }])
        expect(await row('x1')).toMatchObject({ title: 'renamed', note: 'from B', old_note: 'o' })
      })

      it('F + SV4: an edit of version 1 under a renamed column lands in the new column, with its stamp', async () => {
        const { x } = await start()
        const e2 = await deploy({ items: kit.renameNote })
        expect(await push(e2, [edit(x, stamp(3_000), { old_note: 'edited offline' })], 1)).toEqual([{ uid: 'x1', status: 'applied' }])
        expect(await row('x1')).toMatchObject({ note: 'edited offline', title: 'first' })
        // An older edit of the same column (under its new name) no longer wins: the stamp moved with it.
        await push(e2, [edit(x, stamp(2_500), { note: 'older' })], 2)
        expect(await row('x1')).toMatchObject({ note: 'edited offline' })
      })

      it('F + SV3: an edit of version 1 of a column dropped since is SCHEMA_OUTDATED and writes nothing', async () => {
        const { x } = await start()
        const e2 = await deploy({ items: kit.dropGone })
        const before = await t.snapshot()
        const [outcome] = await push(e2, [edit(x, stamp(3_000), { gone: 'edited offline' })], 1)
        expect(outcome).toMatchObject({ uid: 'x1', status: 'rejected', error: { code: 'SCHEMA_OUTDATED' } })
        expect(await t.snapshot()).toBe(before)
      })
    }

    it('a push naming a schema version the server never recorded is BAD_REQUEST, nothing written', async () => {
      const { e1, x } = await start()
      const before = await t.snapshot()
      await expectCode(push(e1, [live('x1', stamp(3_000), { title: 'z' }, x.created_at as Stamp)], 9), 'BAD_REQUEST')
      expect(await t.snapshot()).toBe(before)
    })

    it('a push of the current version with a column left out keeps its stored value', async () => {
      const { e1, x } = await start()
      expect(await push(e1, [live('x1', stamp(3_000), { title: 'partial' }, x.created_at as Stamp)], 1)).toEqual([{ uid: 'x1', status: 'applied' }])
      expect(await row('x1')).toMatchObject({ title: 'partial', old_note: 'o', n: 1, gone: 'g' })
    })
  })
}
