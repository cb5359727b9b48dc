/**
 * D02: the IndexedDB connection force-closed during a pull and during a write: the store reopens, no
 * completed write is lost, and the sync goes on to convergence.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { forceCloseDatabase } from 'fake-indexeddb'
import { createIdbStore, type IdbStore, type SyncClient } from '@lastword/client'
import { idbConnection } from '@lastword/client/testing'
import { IDBFactory, eventually, newClient, readAll, seededRandom, serverRows, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
const stores: IdbStore[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(stores.splice(0).map((s) => s.close()))
  await server.close()
})

it('reopens and loses nothing when the connection is closed during pulls and writes', async () => {
  const random = seededRandom('connection-close')
  const store = createIdbStore({ name: 'lastword:d02', indexedDB: new IDBFactory() })
  stores.push(store)
  const forceClose = async (): Promise<void> => forceCloseDatabase((await idbConnection(store)) as unknown as typeof IDBDatabase) // fake-indexeddb types the argument as the class
  const { client, spy } = newClient(server, { store })
  clients.push(client)
  // Every answer arrives on a connection that was just closed under the client (about half the time).
  spy.after = async () => {
    if (random.next() < 0.5) await forceClose()
  }
  const writer = newClient(server)
  clients.push(writer.client)
  writer.client.table<Todo>('todos').subscribe({}, () => undefined)
  const todos = client.table<Todo>('todos')
  todos.subscribe({}, () => undefined)
  await Promise.all([whenOnline(client), whenOnline(writer.client)])

  const mine: string[] = []
  for (let i = 0; i < 30; i++) {
    const writing = todos.create({ title: `mine ${i}`, done: false })
    if (random.next() < 0.3) await forceClose() // while the write is in flight
    mine.push(await writing)
    if (i % 3 === 0) await writer.client.table<Todo>('todos').create({ title: `theirs ${i}`, done: true })
  }
  await settle(writer.client)
  await settle(client)
  await eventually(async () => expect(await readAll(client)).toEqual(serverRows(server)))
  expect(serverRows(server).filter((r) => mine.includes(r.uid))).toHaveLength(30)
  expect(await client.pendingCount()).toBe(0)
})
