/**
 * Tables keyed by the app's own primary key, end to end (core's SPEC.md section 4, "The key"): real
 * clients create records offline-first and read rows carrying the uid under the app's key (`row.id`,
 * never `row.uid`); pushes, pulls (a client arriving later), realtime (a live query updated with no
 * sync of its own) and a field-merge table keyed `id` all go by it; on PostgreSQL a `uuid` key gets
 * the UUIDs clients make and a `uuid` column canonical values, and bad ones are refused locally with a
 * typed error, nothing stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { eventually, settle, whenOnline } from '../fixture.js'
import { openKeySite, type KeySite } from './harness.js'

interface Label {
  id: string
  text: string
  n: number | null
}
interface Card {
  id: string
  title: string
  done: boolean
}
interface Item {
  id: string
  name: string
  owner: string | null
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const OWNER = '0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b'

/** Runs the scenarios on one dialect. */
export function runKeyScenarios(dialect: 'sqlite' | 'postgres'): void {
  describe(`tables keyed by the app's primary key, real clients (${dialect})`, () => {
    let site: KeySite
    let laptop: SyncClient
    let phone: SyncClient
    /** What each client's live query of `labels` shows last. */
    const shown = new Map<SyncClient, Label[]>()

    beforeEach(async () => {
      site = await openKeySite(dialect)
      laptop = site.client('laptop')
      phone = site.client('phone')
      for (const c of [laptop, phone]) c.table<Label, 'id'>('labels').subscribe({}, (rows) => void shown.set(c, rows))
      await Promise.all([whenOnline(laptop), whenOnline(phone)])
      await settle(phone)
    })
    afterEach(async () => {
      shown.clear()
      await site.close()
    })

    it('a create is pushed, reaches a live query by realtime and a later client by its pull, keyed `id`', async () => {
      const labels = laptop.table<Label, 'id'>('labels')
      const made = await labels.create({ text: 'one', n: null })
      expect(made).toMatch(UUID_V7)
      expect(await labels.create({ id: 'mine', text: 'two', n: null })).toBe('mine')
      const row = await labels.findUnique('mine')
      expect(row).toEqual({ id: 'mine', text: 'two', n: null })
      expect(row).not.toHaveProperty('uid')
      await settle(laptop)
      expect(await site.query('SELECT label_id, text FROM labels ORDER BY label_id')).toEqual(
        [
          { label_id: made, text: 'one' },
          { label_id: 'mine', text: 'two' },
        ].sort((a, b) => (a.label_id < b.label_id ? -1 : 1)),
      )
      // The phone never syncs on its own here: its live query is updated by realtime.
      await eventually(() => expect((shown.get(phone) ?? []).map((r) => r.id).sort()).toEqual([made, 'mine'].sort()))
      expect(shown.get(phone)?.find((r) => r.id === 'mine')).toEqual({ id: 'mine', text: 'two', n: null })
      // A client arriving later pulls them.
      const tablet = site.client('tablet')
      tablet.table<Label, 'id'>('labels').subscribe({}, () => undefined)
      await settle(tablet)
      expect((await tablet.table<Label, 'id'>('labels').findMany({}, { orderBy: 'text' })).map((r) => [r.id, r.text])).toEqual([
        [made, 'one'],
        ['mine', 'two'],
      ])
      // An update and a delete go by the key too.
      await labels.update('mine', { text: 'deux' })
      await labels.delete(made)
      await settle(laptop)
      await eventually(() => expect(shown.get(phone)).toEqual([{ id: 'mine', text: 'deux', n: null }]))
      expect(await site.query('SELECT label_id, text FROM labels')).toEqual([{ label_id: 'mine', text: 'deux' }])
    })

    it('the key is not a column: a row giving `uid`, or a patch giving `id`, is refused, nothing stored', async () => {
      laptop.disconnect() // the write stays pending, for inspect()
      const labels = laptop.table<Label, 'id'>('labels')
      await expect(labels.create({ uid: 'x', text: 'a', n: null } as unknown as Label)).rejects.toMatchObject({ code: 'UNKNOWN_COLUMN' })
      const id = await labels.create({ text: 'a', n: null })
      await expect(labels.update(id, { id: 'other' } as unknown as Partial<Label>)).rejects.toMatchObject({ code: 'UNKNOWN_COLUMN' })
      expect((await labels.findMany()).map((r) => r.id)).toEqual([id])
      const inspection = await laptop.inspect()
      expect(inspection.pending.records.find((r) => r.table === 'labels')).toMatchObject({ uid: id, key: 'id' })
    })

    it("a field-merge table keyed `id`: two devices offline edit different columns, both edits kept", async () => {
      const cards = laptop.table<Card, 'id'>('cards')
      for (const c of [laptop, phone]) c.table<Card, 'id'>('cards').subscribe({}, () => undefined)
      const id = await cards.create({ title: 'milk', done: false })
      await settle(laptop)
      await settle(phone)
      expect(await phone.table<Card, 'id'>('cards').findUnique(id)).toEqual({ id, title: 'milk', done: false })
      laptop.disconnect()
      phone.disconnect()
      await cards.update(id, { title: 'oat milk' })
      await phone.table<Card, 'id'>('cards').update(id, { done: true })
      for (const c of [laptop, phone]) {
        c.connect()
        await settle(c)
      }
      for (const c of [laptop, phone]) await settle(c)
      for (const c of [laptop, phone]) expect(await c.table<Card, 'id'>('cards').findUnique(id)).toEqual({ id, title: 'oat milk', done: true })
      const [stored] = await site.query(`SELECT id, title, done FROM cards`)
      expect({ ...stored, done: Boolean(stored?.['done']) }).toEqual({ id, title: 'oat milk', done: true })
    })

    if (dialect !== 'postgres') return

    it('a uuid key: client-made UUIDs stored in the uuid column, read back as `id`; a uuid column canonical', async () => {
      const items = laptop.table<Item, 'id'>('items')
      items.subscribe({}, () => undefined) // a held scope pushes the table's writes
      phone.table<Item, 'id'>('items').subscribe({ owner: OWNER.toUpperCase() }, () => undefined)
      const made = await items.create({ name: 'made', owner: OWNER.toUpperCase() })
      expect(made).toMatch(UUID_V7)
      expect(await items.findUnique(made)).toEqual({ id: made, name: 'made', owner: OWNER })
      const given = 'D0D0D0D0-0000-4000-8000-00000000000A'
      expect(await items.create({ id: given, name: 'given', owner: null })).toBe(given.toLowerCase())
      await settle(laptop)
      expect(await site.query('SELECT id::text AS id, owner::text AS owner, pg_typeof(id)::text AS type FROM items ORDER BY id')).toEqual(
        [
          { id: made, owner: OWNER, type: 'uuid' },
          { id: given.toLowerCase(), owner: null, type: 'uuid' },
        ].sort((a, b) => (a.id < b.id ? -1 : 1)),
      )
      // The phone's scope (owner, given in upper case) selects the one it owns, on the server as locally.
      await settle(phone)
      expect(await phone.table<Item, 'id'>('items').findMany()).toEqual([{ id: made, name: 'made', owner: OWNER }])
    })

    it('a uuid key: a uid or a uuid value that is no UUID is refused locally, typed, nothing stored', async () => {
      const items = laptop.table<Item, 'id'>('items')
      await expect(items.create({ id: 'not-a-uuid', name: 'x', owner: null })).rejects.toMatchObject({ code: 'INVALID_UID' })
      await expect(items.create({ name: 'x', owner: 'nobody' })).rejects.toMatchObject({ code: 'INVALID_VALUE', details: { column: 'owner' } })
      await expect(items.findMany({ owner: 'nobody' })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
      expect(await items.findMany()).toEqual([])
      expect(await laptop.pendingCount()).toBe(0)
    })
  })
}
