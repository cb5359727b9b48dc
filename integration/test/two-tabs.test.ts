/**
 * D05: two clients sharing one database name behave as two tabs: one sync owner (the lease fallback,
 * as Node has no `navigator.locks`), no duplicate pushes, both converge; when the owner closes mid-sync
 * the other takes over and finishes.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { IDBFactory, eventually, newClient, pushedRecords, readAll, serverRows, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

it('shares one database between two tabs with one sync owner', async () => {
  const indexedDB = new IDBFactory()
  const name = `tabs-${Date.now()}`
  const tabA = newClient(server, { name, indexedDB })
  clients.push(tabA.client)
  await eventually(() => expect(tabA.client.isOwner).toBe(true))
  const tabB = newClient(server, { name, indexedDB })
  clients.push(tabB.client)
  await tabB.client.ready()
  await new Promise((r) => setTimeout(r, 150))
  expect([tabA.client.isOwner, tabB.client.isOwner]).toEqual([true, false])

  const seenB: string[][] = []
  tabB.client.table<Todo>('todos').subscribe({ done: false }, (rows) => seenB.push(rows.map((r) => r.title).sort()))
  tabA.client.table<Todo>('todos').subscribe({}, () => undefined)
  await whenOnline(tabA.client)

  // Both tabs write; only the owner talks to the server, each record is pushed once.
  const written: string[] = []
  for (let i = 0; i < 10; i++) {
    written.push(await tabA.client.table<Todo>('todos').create({ title: `A${i}`, done: false }))
    written.push(await tabB.client.table<Todo>('todos').create({ title: `B${i}`, done: false }))
  }
  await eventually(async () => expect(await tabB.client.pendingCount()).toBe(0))
  expect(tabB.spy.requests).toEqual([]) // the non-owner never opened its socket
  const pushed = pushedRecords(tabA.spy).map((p) => `${p.uid}@${p.updated_at}`)
  expect(new Set(pushed).size).toBe(pushed.length) // no record version pushed twice
  expect(serverRows(server).map((r) => r.uid).sort()).toEqual([...written].sort())
  await eventually(() => expect(seenB.at(-1)?.length).toBe(20))

  // Another client writes; the owner pulls it and B's live query shows it.
  const other = newClient(server)
  clients.push(other.client)
  other.client.table<Todo>('todos').subscribe({}, () => undefined)
  await settle(other.client)
  await other.client.table<Todo>('todos').create({ title: 'from elsewhere', done: false })
  await settle(other.client)
  await eventually(() => expect(seenB.at(-1)).toContain('from elsewhere'))

  // The owner closes in the middle of a sync: B takes over and converges.
  await tabB.client.table<Todo>('todos').create({ title: 'late', done: false })
  tabA.spy.before = () => new Promise(() => undefined) // A's next request never completes
  await eventually(() => expect(pushedRecords(tabA.spy).some((p) => p.row?.title === 'late')).toBe(true))
  await tabA.client.close()
  await eventually(() => expect(tabB.client.isOwner).toBe(true))
  await settle(tabB.client)
  expect(serverRows(server).map((r) => r.title)).toContain('late')
  expect(await readAll(tabB.client)).toEqual(serverRows(server))
})

it("a follower tab's transaction is stored by it and pushed by the owner as one unit", async () => {
  const indexedDB = new IDBFactory()
  const name = `tabs-tx-${Date.now()}`
  const owner = newClient(server, { name, indexedDB })
  clients.push(owner.client)
  await eventually(() => expect(owner.client.isOwner).toBe(true))
  const follower = newClient(server, { name, indexedDB })
  clients.push(follower.client)
  await follower.client.ready()
  await whenOnline(owner.client)
  await eventually(() => expect(follower.client.isOwner).toBe(false))
  const uids = await follower.client.transaction(async (tx) => [
    await tx.table<Todo>('todos').create({ title: 'tx one', done: false }),
    await tx.table<Todo>('todos').create({ title: 'tx two', done: false }),
  ])
  await eventually(async () => expect(await follower.client.pendingCount()).toBe(0))
  expect(follower.spy.pushes).toEqual([])
  const unit = owner.spy.pushes.flatMap((p) => p.units).find((u) => u.groups.some((g) => g.records.some((r) => r.uid === uids[0])))
  expect(unit?.atomic).toBe(true)
  expect(unit?.groups.flatMap((g) => g.records.map((r) => r.uid))).toEqual(uids)
  expect(serverRows(server).filter((r) => uids.includes(r.uid))).toHaveLength(2)
})

