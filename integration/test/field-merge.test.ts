/**
 * Field-level merge end to end (core's SPEC.md section 3a): a server table declared `merge: 'field'`,
 * its descriptor sent to real clients, two clients offline editing different columns of one record.
 * Both edits are kept, whichever client comes back first; the same column still goes to the later
 * stamp; a delete wins over older edits and a newer edit brings the record back with the columns as
 * they were at the delete. Every client ends equal to the server (I1). Manual clocks decide "later".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { eventually, manualClock, newClient, readAll, serverRows, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

async function expectConverged(all: SyncClient[]): Promise<void> {
  for (let round = 0; round < 2; round++) for (const c of all) await settle(c)
  const expected = serverRows(server)
  for (const c of all) expect(await readAll(c)).toEqual(expected)
}

for (const merge of ['field', 'row'] as const) {
  describe(`two clients offline on a merge: '${merge}' table`, () => {
    let clock: ReturnType<typeof manualClock>
    let laptop: SyncClient
    let phone: SyncClient
    let uid: string
    /** What each client's live query shows last (the app's view). */
    const shown = new Map<SyncClient, Array<Todo & { uid: string }>>()

    beforeEach(async () => {
      server = await startServer({ merge })
      clock = manualClock()
      ;[laptop, phone] = [0, 1].map(() => {
        const { client } = newClient(server, { clock })
        clients.push(client)
        client.table<Todo>('todos').subscribe({}, (rows) => void shown.set(client, rows as Array<Todo & { uid: string }>))
        return client
      }) as [SyncClient, SyncClient]
      await Promise.all([whenOnline(laptop), whenOnline(phone)])
      uid = await laptop.table<Todo>('todos').create({ title: 'milk', done: false, priority: null })
      await settle(laptop)
      await settle(phone)
      expect(await phone.table<Todo>('todos').findUnique(uid)).toMatchObject({ title: 'milk' })
      laptop.disconnect()
      phone.disconnect()
    })

    for (const first of ['laptop', 'phone'] as const) {
      it(`one renames, the other ticks later (${first} back first): ${merge === 'field' ? 'both kept' : 'the later whole row wins'}`, async () => {
        clock.advance(1_000)
        await laptop.table<Todo>('todos').update(uid, { title: 'oat milk' })
        clock.advance(1_000)
        await phone.table<Todo>('todos').update(uid, { done: true })
        const order = first === 'laptop' ? [laptop, phone] : [phone, laptop]
        for (const c of order) {
          c.connect()
          await settle(c)
        }
        await expectConverged([laptop, phone])
        expect(serverRows(server)).toEqual([{ uid, title: merge === 'field' ? 'oat milk' : 'milk', done: true, priority: null }])
      })
    }

    if (merge === 'field') {
      it('edits sharing one column (who edited) and each changing another: the shared column to the later, both others kept', async () => {
        clock.advance(1_000)
        await laptop.table<Todo>('todos').update(uid, { title: 'oat milk', priority: 1 })
        clock.advance(1_000)
        await phone.table<Todo>('todos').update(uid, { done: true, priority: 2 })
        phone.connect()
        await settle(phone)
        laptop.connect()
        await settle(laptop)
        await expectConverged([laptop, phone])
        expect(serverRows(server)).toEqual([{ uid, title: 'oat milk', done: true, priority: 2 }])
        for (const c of [laptop, phone]) expect(await c.table<Todo>('todos').record(uid)).toMatchObject({ dirty: false })
      })

      it('realtime carries a merge that does not raise the version (an older column written last) to an online client and its live query', async () => {
        clock.advance(1_000)
        await laptop.table<Todo>('todos').update(uid, { title: 'oat milk', priority: 1 })
        clock.advance(1_000)
        await phone.table<Todo>('todos').update(uid, { done: true, priority: 2 })
        phone.connect()
        await settle(phone)
        laptop.connect()
        await settle(laptop) // the phone is not asked to sync: only realtime brings it the rename
        await eventually(async () => expect(await phone.table<Todo>('todos').findUnique(uid)).toMatchObject({ title: 'oat milk', done: true, priority: 2 }))
        // The live query shows it too, although the record's version did not move (its row did).
        await eventually(() => expect(shown.get(phone)?.find((r) => r.uid === uid)).toMatchObject({ title: 'oat milk', done: true, priority: 2 }))
      })

      it('the same column: the later stamp wins, whoever comes back first', async () => {
        clock.advance(1_000)
        await phone.table<Todo>('todos').update(uid, { title: 'earlier' })
        clock.advance(1_000)
        await laptop.table<Todo>('todos').update(uid, { title: 'later', priority: 2 })
        laptop.connect()
        await settle(laptop)
        phone.connect()
        await settle(phone)
        await expectConverged([laptop, phone])
        expect(serverRows(server)).toEqual([{ uid, title: 'later', done: false, priority: 2 }])
      })

      it('a delete wins over an older edit; a newer edit of another column brings the record back with the older edit kept', async () => {
        clock.advance(1_000)
        await phone.table<Todo>('todos').update(uid, { done: true }) // older than the delete
        clock.advance(1_000)
        await laptop.table<Todo>('todos').delete(uid)
        laptop.connect()
        await settle(laptop)
        phone.connect()
        await settle(phone)
        await expectConverged([laptop, phone])
        expect(serverRows(server)).toEqual([])
        // A write newer than the delete: the record comes back with the columns it held at the delete.
        const { client: third } = newClient(server, { clock })
        clients.push(third)
        third.table<Todo>('todos').subscribe({}, () => undefined)
        await whenOnline(third)
        clock.advance(1_000)
        await server.sync.service('todos').push([{ uid, created_at: server.meta()[0]!.created_at, updated_at: stampAt(clock.now()), deleted_at: null, row: { priority: 9 }, fields: { priority: stampAt(clock.now()) } }])
        await expectConverged([laptop, phone, third])
        expect(serverRows(server)).toEqual([{ uid, title: 'milk', done: true, priority: 9 }])
      })
    }
  })
}

/** A stamp of the server's node at `ms` (the app's own write through the server's service). */
function stampAt(ms: number): string {
  return `${ms.toString(16).padStart(12, '0')}-0000-00000000000000ff`
}
