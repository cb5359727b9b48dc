/**
 * Offline clients across schema changes, end to end (SPEC.md section 11; row T23 of
 * docs/test-matrix.md): a client that learned version 1 of `items` goes offline, the app deploys a
 * migration, another client writes under the new version, the offline client edits under the old one and
 * comes back. Nothing either did is lost: the old client migrates its records at `lw:hello` (the `schema`
 * event tells the app), and its push leaves alone what it never knew (SV1), lands under the new name
 * (SV4), or loses only the dropped column (SV3). One suite, both dialects, both merge modes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { SchemaEvent, SyncClient } from '@lastword/client'
import { IDBFactory, newClient, settle, type TestServer } from '../fixture.js'
import { openSite, type SchemaSite, type Versions } from './harness.js'

type Item = { title: string; old_note?: string | null; note?: string | null; gone?: string | null; n: number | null }

export function runSchemaScenarios(name: string, open: () => Promise<{ site: SchemaSite; versions: Versions }>): void {
  describe(`offline clients across schema changes (${name})`, () => {
    let site: SchemaSite
    let versions: Versions
    const clients: SyncClient[] = []
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()))
      await site.close()
    })

    function client(indexedDB = new IDBFactory(), extra: { name?: string } = {}): { c: SyncClient; events: SchemaEvent[]; indexedDB: IDBFactory } {
      const { client: c } = newClient({ url: site.url } as TestServer, { indexedDB, ...extra })
      clients.push(c)
      const events: SchemaEvent[] = []
      c.on('schema', (e) => events.push(e))
      c.table<Item>('items').subscribe({}, () => undefined)
      return { c, events, indexedDB }
    }

    /** Version 1; `a` creates x and both clients hold it; then `a` goes offline. */
    async function start(): Promise<{ a: ReturnType<typeof client>; b: ReturnType<typeof client>; x: string }> {
      ;({ site, versions } = await open())
      await site.deploy(versions.v1)
      const a = client()
      const b = client()
      await settle(a.c)
      const x = await a.c.table<Item>('items').create({ title: 'first', old_note: 'o', gone: 'g', n: 1 })
      await settle(a.c)
      await settle(b.c)
      expect(await b.c.table<Item>('items').findUnique(x)).toMatchObject({ title: 'first' })
      a.c.disconnect()
      return { a, b, x }
    }

    it('T23 SV1 a column added: the offline client renames the row; the note another client set stays, on the server and on both clients', async () => {
      const { a, b, x } = await start()
      await site.deploy(versions.addNote)
      await settle(b.c)
      expect(b.events).toEqual([{ kind: 'migrated', tables: [{ table: 'items', from: 1, to: 2 }] }])
      await b.c.table<Item>('items').update(x, { note: 'from B' })
      await settle(b.c)
      await a.c.table<Item>('items').update(x, { title: 'renamed offline' })
      a.c.connect()
      await settle(a.c)
      expect(await site.row(x)).toMatchObject({ title: 'renamed offline', note: 'from B', old_note: 'o', gone: 'g', n: 1 })
      expect(a.events).toEqual([{ kind: 'migrated', tables: [{ table: 'items', from: 1, to: 2 }] }])
      expect(await a.c.table<Item>('items').findUnique(x)).toMatchObject({ title: 'renamed offline', note: 'from B' })
      await settle(b.c)
      expect(await b.c.table<Item>('items').findUnique(x)).toMatchObject({ title: 'renamed offline', note: 'from B' })
    })

    it('T23 SV4 a column renamed: the offline edit of the old column lands in the new one; SV3 a dropped column costs only its own value', async () => {
      const { a, b, x } = await start()
      const y = await b.c.table<Item>('items').create({ title: 'by B', old_note: null, gone: 'y', n: 2 })
      await settle(b.c)
      await site.deploy(versions.renameNote)
      await a.c.table<Item>('items').update(x, { old_note: 'edited offline' })
      a.c.connect()
      await settle(a.c)
      expect(await site.row(x)).toMatchObject({ title: 'first', note: 'edited offline', gone: 'g' })
      expect(await a.c.table<Item>('items').findUnique(x)).toMatchObject({ note: 'edited offline' })
      a.c.disconnect()
      await site.deploy(versions.renameThenDrop)
      await a.c.table<Item>('items').update(x, { title: 'after the drop' })
      a.c.connect()
      await settle(a.c)
      expect(await site.row(x)).toMatchObject({ title: 'after the drop', note: 'edited offline' })
      expect(await site.row(y)).toMatchObject({ title: 'by B', n: 2 })
      expect(a.events.map((e) => (e.kind === 'migrated' ? e.tables[0]?.to : e.kind))).toEqual([2, 3])
      await settle(b.c)
      expect(await b.c.table<Item>('items').findUnique(x)).toMatchObject({ title: 'after the drop', note: 'edited offline' })
    })

    it('T23 SV3 a client whose code declares the old schema is answered SCHEMA_OUTDATED: its write stays dirty, told by `schema`, and is pushed once it upgrades', async () => {
      ;({ site, versions } = await open())
      await site.deploy(versions.v1)
      const probe = client()
      await settle(probe.c)
      const v1 = probe.c.table<Item>('items')
      const x = await v1.create({ title: 'kept', old_note: null, gone: 'g', n: 1 })
      await settle(probe.c)
      // The app's own descriptors, pinned at version 1 (as its code was built).
      const pinned = [{ name: 'items', schemaVersion: 1, columns: ['title', 'old_note', 'gone', 'n'].map((n) => ({ name: n, type: n === 'n' ? 'integer' : 'text', nullable: n !== 'title', writable: true })) }] as never
      const indexedDB = new IDBFactory()
      const old = newClient({ url: site.url } as TestServer, { indexedDB, tables: pinned, name: 'pinned' }).client
      clients.push(old)
      const events: SchemaEvent[] = []
      old.on('schema', (e) => events.push(e))
      old.table<Item>('items').subscribe({}, () => undefined)
      await settle(old)
      old.disconnect()
      await site.deploy(versions.dropGone)
      await old.table<Item>('items').update(x, { title: 'edited under v1' })
      old.connect()
      await expect.poll(() => events, { timeout: 10_000 }).toEqual([{ kind: 'outdated', table: 'items', current: 2 }])
      expect(await old.pendingCount()).toBe(1)
      expect((await old.table<Item>('items').record(x))?.dirty).toBe(true)
      expect(await site.row(x)).toMatchObject({ title: 'kept' })
      // The app upgrades: the same local database, descriptors from the server.
      await old.close()
      const upgraded = newClient({ url: site.url } as TestServer, { indexedDB, name: 'pinned' }).client
      clients.push(upgraded)
      upgraded.table<Item>('items').subscribe({}, () => undefined)
      await settle(upgraded)
      expect(await site.row(x)).toMatchObject({ title: 'edited under v1' })
    })
  })
}
