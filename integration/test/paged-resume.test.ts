/**
 * I10 / T07: a paged initial sync interrupted halfway resumes from what it stored — the next session
 * asks from the stored cursor and receives only the rows it did not store (counted on the wire).
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { formatStamp } from '@lastword/core'
import { uuidv7, type SyncClient } from '@lastword/client'
import { IDBFactory, eventually, newClient, readAll, serverRows, startServer, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

it('resumes an interrupted full reconciliation without re-downloading stored pages', async () => {
  // 500 rows written by another writer in one push (one transaction).
  const now = Date.now()
  const outcomes = await server.sync.service('todos').push(
    Array.from({ length: 500 }, (_, i) => {
      const s = formatStamp({ ms: now, counter: i, node: '00000000000000aa' })
      return { uid: uuidv7(now), created_at: s, updated_at: s, deleted_at: null, row: { title: `row ${String(i).padStart(3, '0')}`, done: i % 2 === 0, priority: null } }
    }),
  )
  expect(outcomes.every((o) => o.status === 'applied')).toBe(true)
  const indexedDB = new IDBFactory()
  const name = 'paged'

  // Session 1: the sixth request never reaches the server; the app is closed meanwhile.
  const first = newClient(server, { name, indexedDB, pageSize: 50 })
  clients.push(first.client)
  let stop!: () => void
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  first.spy.before = async (_request, index) => {
    if (index < 5) return
    stop()
    await new Promise(() => undefined) // hangs: the client is closed before an answer
  }
  const progress: number[] = []
  first.client.on('progress', (p) => progress.push(p.received))
  first.client.table<Todo>('todos').subscribe({}, () => undefined)
  await stopped
  await eventually(() => expect(progress.length).toBe(5))
  await first.client.close()
  const receivedFirst = first.spy.pages.reduce((n, p) => n + p.rows.length, 0)
  expect(receivedFirst).toBe(250)

  // Session 2, same database: it continues after the last stored uid.
  const second = newClient(server, { name, indexedDB, pageSize: 50 })
  clients.push(second.client)
  second.client.table<Todo>('todos').subscribe({}, () => undefined)
  await eventually(async () => expect((await readAll(second.client)).length).toBe(500))
  await second.client.sync()
  const firstRequest = second.spy.requests[0]!
  expect(firstRequest.full?.cursor?.after).toBe(first.spy.pages[4]!.cursor?.after)
  const receivedSecond = second.spy.pages.reduce((n, p) => n + p.rows.length, 0)
  expect(receivedFirst + receivedSecond).toBe(500)
  expect(await readAll(second.client)).toEqual(serverRows(server))
  expect(second.spy.requests.at(-1)?.full).toBeUndefined() // incremental from the final checkpoint
})
