/**
 * Foreign keys through the engine (core's SPEC.md section 4a), on both dialects, with and without the
 * foreign keys in the database's DDL: descriptors carry the keys to synced tables' uid and leave the
 * others out; a child write whose parent is deleted (a tombstone in lastword's metadata) or absent is
 * rejected `PARENT_DELETED` (PD1) with nothing written, and the rest of its push still applies.
 */
import type { PushOutcome, WireRecord } from '@lastword/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import { describeTables } from '../../src/describe-tables.js'
import type { RelationsDb, RelationsHarness } from '../fixtures/relations.js'
import { createTestClock, live, principal, request, stamp, tomb } from './helpers.js'

const A = principal('alice', 'A')

const item = (uid: string, at: number, fields: Record<string, unknown> = {}): WireRecord =>
  live(uid, stamp(at), { title: uid, group_uid: null, parent_uid: null, tag_uid: null, label: null, ...fields })
const group = (uid: string, at: number): WireRecord => live(uid, stamp(at), { name: `name-${uid}` })

export function runParentDeletedSuite(name: string, harness: RelationsHarness): void {
  for (const withForeignKeys of [true, false]) {
    describe(`parent deleted on ${name}, ${withForeignKeys ? 'with' : 'without'} foreign keys in the database`, () => {
      let t: RelationsDb | undefined
      let engine: Engine | undefined

      const open = async (): Promise<Engine> => {
        t = await harness(withForeignKeys)
        engine = createEngine({ db: t.db, tables: { groups: t.groups, items: t.items }, now: createTestClock().now })
        await engine.migrate()
        return engine
      }
      const push = async (table: string, ...records: WireRecord[]): Promise<PushOutcome[]> =>
        (await (engine as Engine).sync(A, request(table, { push: records }))).outcomes

      afterEach(async () => {
        await engine?.close()
        await t?.close()
        engine = undefined
        t = undefined
      })

      it('descriptors carry the keys to a synced uid and leave out the key to an unsynced table and to another column', async () => {
        const e = await open()
        const items = e.tables.find((d) => d.name === 'items')
        expect(items?.foreignKeys).toEqual([
          { column: 'group_uid', references: 'groups', onDelete: 'cascade', onUpdate: 'no action' },
          { column: 'parent_uid', references: 'items', onDelete: 'set null', onUpdate: 'no action' },
        ])
        expect(e.tables.find((d) => d.name === 'groups')?.foreignKeys).toBeUndefined()
        // describeTables gives the same without a database (less the schema version migrate() records).
        expect(describeTables({ groups: (t as RelationsDb).groups, items: (t as RelationsDb).items }).map((d) => d.foreignKeys)).toEqual(e.tables.map((d) => d.foreignKeys))
        // A parent that is not synced leaves the key out: items alone point at nothing lastword knows but themselves.
        expect(describeTables({ items: (t as RelationsDb).items })[0]?.foreignKeys).toEqual([{ column: 'parent_uid', references: 'items', onDelete: 'set null', onUpdate: 'no action' }])
      })

      it('PD1: a child created under a deleted parent is PARENT_DELETED, nothing written, the rest of the push applied', async () => {
        await open()
        expect(await push('groups', group('g1', 1))).toMatchObject([{ status: 'applied' }])
        expect(await push('groups', tomb('g1', stamp(2), stamp(1)))).toMatchObject([{ status: 'applied' }])
        const before = await (t as RelationsDb).snapshot()
        const outcomes = await push('items', item('i1', 3, { group_uid: 'g1' }))
        expect(outcomes).toEqual([
          { uid: 'i1', status: 'rejected', error: { code: 'PARENT_DELETED', message: expect.any(String), details: { table: 'items', column: 'group_uid', references: 'groups' } } },
        ])
        expect(await (t as RelationsDb).snapshot()).toBe(before)
        // In one push with others: only the orphan is refused.
        expect(await push('items', item('i2', 4, { group_uid: 'g1' }), item('i3', 4))).toMatchObject([
          { uid: 'i2', status: 'rejected', error: { code: 'PARENT_DELETED' } },
          { uid: 'i3', status: 'applied' },
        ])
      })

      it('PD1: a parent the server never knew is absent: PARENT_DELETED, not a constraint error', async () => {
        await open()
        const before = await (t as RelationsDb).snapshot()
        expect(await push('items', item('i1', 3, { group_uid: 'nowhere' }))).toMatchObject([{ status: 'rejected', error: { code: 'PARENT_DELETED' } }])
        expect(await (t as RelationsDb).snapshot()).toBe(before)
      })

      it('PD1: an edit of a child after its parent was deleted is refused whatever its stamp, nothing written', async () => {
        await open()
        await push('groups', group('g1', 1))
        expect(await push('items', item('i1', 2, { group_uid: 'g1' }))).toMatchObject([{ status: 'applied' }])
        await push('groups', tomb('g1', stamp(3), stamp(1)))
        const before = await (t as RelationsDb).snapshot()
        // Later than the parent's deletion: the deletion still wins. With the foreign key in the database,
        // its cascade deleted the child with the parent, and capture logged that deletion stamped by the
        // database's clock at its commit (SPEC.md section 1a), later than this test clock's stamps: the edit
        // loses to it. Without it, the child is live under a deleted parent: PD1 refuses the edit.
        expect(await push('items', live('i1', stamp(9), { title: 'edited', group_uid: 'g1', parent_uid: null, tag_uid: null, label: null }, stamp(2)))).toMatchObject([
          withForeignKeys ? { status: 'superseded' } : { status: 'rejected', error: { code: 'PARENT_DELETED' } },
        ])
        expect(await (t as RelationsDb).snapshot()).toBe(before)
        // Deleting the child is no child write: it applies (or loses to the cascade's deletion, as above).
        expect(await push('items', tomb('i1', stamp(10), stamp(2), stamp(2)))).toMatchObject([{ status: withForeignKeys ? 'superseded' : 'applied' }])
      })

      it('a live parent, no parent, and a parent written earlier in the same push are accepted', async () => {
        await open()
        await push('groups', group('g1', 1))
        expect(await push('items', item('i1', 2, { group_uid: 'g1' }), item('i2', 2), item('i3', 3, { parent_uid: 'i2' }))).toMatchObject([
          { status: 'applied' },
          { status: 'applied' },
          { status: 'applied' },
        ])
        // The app's own writes (services) follow the same rule.
        await push('groups', tomb('g1', stamp(4), stamp(1)))
        await expect((engine as Engine).service('items').create({ title: 'x', group_uid: 'g1', parent_uid: null, tag_uid: null, label: null })).rejects.toMatchObject({ code: 'PARENT_DELETED' })
      })
    })
  }
}
