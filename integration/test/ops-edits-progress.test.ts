/**
 * The client's status features against the real server: a local edit that loses to a later write is
 * told (`edit`, `superseded`, with the winner's row: R7), `hasSynced` turns true, and a full
 * reconciliation's `progress` knows its total from the first page and ends exact.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EditEvent, SyncClient, SyncProgress } from '@lastword/client'
import { eventually, manualClock, newClient, settle, startServer, whenOnline, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

function client(options: Parameters<typeof newClient>[1] = {}): SyncClient {
  const { client } = newClient(server, { logger: false, ...options })
  clients.push(client)
  return client
}

describe('status features end to end', () => {
  it('an offline edit that lost to a later one is told with the winner (R7)', async () => {
    const clock = manualClock()
    const a = client({ clock })
    const b = client({ clock })
    for (const c of [a, b]) c.table<Todo>('todos').subscribe({}, () => undefined)
    await Promise.all([whenOnline(a), whenOnline(b)])
    const uid = await a.table<Todo>('todos').create({ title: 'shared', done: false })
    await settle(a)
    await settle(b)
    expect(a.hasSynced).toBe(true)
    a.disconnect()
    b.disconnect()
    clock.advance(1_000)
    await a.table<Todo>('todos').update(uid, { title: 'A (earlier)' })
    clock.advance(1_000)
    await b.table<Todo>('todos').update(uid, { title: 'B (later)' })
    b.connect()
    await settle(b)
    const edits: EditEvent[] = []
    a.on('edit', (e) => edits.push(e))
    a.connect()
    await settle(a)
    await eventually(() => expect(edits).toHaveLength(1))
    expect(edits[0]).toMatchObject({ kind: 'superseded', table: 'todos', uid, winner: { row: { title: 'B (later)' }, deleted_at: null } })
    expect(await a.table<Todo>('todos').findUnique(uid)).toMatchObject({ title: 'B (later)' })
  })

  it("a full reconciliation's progress knows its total from the first page and ends exact", async () => {
    const seeder = client()
    seeder.table<Todo>('todos').subscribe({}, () => undefined)
    await whenOnline(seeder)
    for (let i = 0; i < 25; i++) await seeder.table<Todo>('todos').create({ title: `t${i}`, done: false })
    await settle(seeder)
    const reader = client({ pageSize: 10 })
    const progress: SyncProgress[] = []
    reader.on('progress', (p) => progress.push(p))
    expect(reader.hasSynced).toBe(false)
    reader.table<Todo>('todos').subscribe({}, () => undefined)
    await settle(reader)
    const full = progress.slice(0, 3)
    expect(full.map((p) => [p.received, p.total])).toEqual([
      [10, 25],
      [20, 25],
      [25, 25],
    ])
    expect(reader.hasSynced).toBe(true)
    expect(reader.lastSyncedAt).toEqual(expect.any(Number))
  })
})
