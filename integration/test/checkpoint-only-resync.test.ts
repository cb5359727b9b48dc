/**
 * A resync with nothing changed is one small request and one small answer: the checkpoint alone — no
 * metadata entries, no push — and an empty page (ARCHITECTURE.md, "The sequence of one sync").
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { SyncClient } from '@lastword/client'
import { newClient, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

it('sends only the checkpoint when nothing changed', async () => {
  const { client, spy } = newClient(server)
  clients.push(client)
  await whenOnline(client) // the table descriptors come with the server's hello
  client.disconnect()
  const todos = client.table<Todo>('todos')
  for (let i = 0; i < 50; i++) await todos.create({ title: `t${i}`, done: false })
  todos.subscribe({ done: false }, () => undefined)
  client.connect()
  await settle(client)
  const first = spy.requests[0]!
  expect(first.full?.entries.length).toBe(50) // the first sync of the scope carried its metadata

  const before = spy.requests.length
  await client.sync()
  const requests = spy.requests.slice(before)
  expect(requests).toHaveLength(1)
  const [request] = requests
  expect(request!.checkpoint).toMatch(/^lw2\.[0-9a-f]{16}\.[0-9a-f]{16}\.\d+\.[0-9a-f]{14}$/)
  expect(request!.full).toBeUndefined()
  expect(request!.push).toEqual([])
  const answer = spy.pages.at(-1)!
  expect(answer).toMatchObject({ mode: 'incremental', rows: [], tombstones: [], evict: [], purged: [], push: [], hasMore: false, outcomes: [] })
  expect(answer.checkpoint).toBe(request!.checkpoint)
  expect(JSON.stringify(request).length).toBeLessThan(300)
})
