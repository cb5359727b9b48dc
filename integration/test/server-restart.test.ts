/**
 * Offline writes reach the server after it restarts: the server is closed, the client keeps writing
 * (status offline, records dirty), a new server starts on the same database file and port, the client
 * reconnects by itself and pushes; a second client sees everything (I2, I9).
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { eventually, newClient, readAll, serverRows, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

it('pushes writes made while the server was down once it is back', async () => {
  const { client } = newClient(server)
  clients.push(client)
  const todos = client.table<Todo>('todos')
  todos.subscribe({}, () => undefined)
  await whenOnline(client)
  const before = await todos.create({ title: 'before the restart', done: false })
  await settle(client)

  await server.stop()
  await eventually(() => expect(client.status).not.toMatch(/online|syncing/))
  const during = await todos.create({ title: 'while down', done: false })
  await todos.update(before, { done: true })
  expect(await client.pendingCount()).toBe(2)

  await server.start()
  await whenOnline(client, 15_000)
  await eventually(async () => expect(await client.pendingCount()).toBe(0), 15_000)
  expect(serverRows(server)).toEqual(
    [
      { uid: before, title: 'before the restart', done: true, priority: null },
      { uid: during, title: 'while down', done: false, priority: null },
    ].sort((a, b) => (a.uid < b.uid ? -1 : 1)),
  )
  const { client: other } = newClient(server)
  clients.push(other)
  other.table<Todo>('todos').subscribe({}, () => undefined)
  await settle(other)
  expect(await readAll(other)).toEqual(serverRows(server))
})
