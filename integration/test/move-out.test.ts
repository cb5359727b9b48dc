/**
 * T15: a record edited out of a client's scope while its realtime event is lost leaves that client on the
 * next sync (an eviction), is never pushed back as a delete, and realtime never moves a checkpoint.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { withDroppedRealtime } from '@lastword/client/testing'
import { eventually, newClient, pushedRecords, serverRows, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

it('evicts a record that moved out of the scope although its realtime event was dropped', async () => {
  let dropping = false
  const dropped: number[] = []
  const watcher = newClient(server, { wrapTransport: (transport) => withDroppedRealtime(transport, (event) => dropping && dropped.push(event.rev) > 0) })
  const editor = newClient(server)
  clients.push(watcher.client, editor.client)
  const open: string[][] = []
  watcher.client.table<Todo>('todos').subscribe({ done: false }, (rows) => open.push(rows.map((r) => r.title)))
  editor.client.table<Todo>('todos').subscribe({}, () => undefined)
  await Promise.all([whenOnline(watcher.client), whenOnline(editor.client)])

  const uid = await editor.client.table<Todo>('todos').create({ title: 'open task', done: false })
  await settle(editor.client)
  await eventually(() => expect(open.at(-1)).toEqual(['open task'])) // delivered in realtime (or by a sync)

  dropping = true
  await editor.client.table<Todo>('todos').update(uid, { done: true })
  await settle(editor.client)
  await eventually(() => expect(dropped.length).toBeGreaterThan(0))
  expect(open.at(-1)).toEqual(['open task']) // the watcher missed the move-out

  const evicted: string[] = []
  watcher.client.on('sync', (r) => evicted.push(...r.evicted))
  await watcher.client.sync()
  expect(evicted).toEqual([uid])
  await eventually(() => expect(open.at(-1)).toEqual([]))
  expect(await watcher.client.table<Todo>('todos').record(uid)).toBeNull()
  expect(pushedRecords(watcher.spy)).toEqual([]) // an eviction is never pushed as a delete
  expect(serverRows(server)).toEqual([{ uid, title: 'open task', done: true, priority: null }])
})
