/**
 * T17: clients whose clocks are −1 day, −5 min, 0, +30 s, +5 min and +1 year write offline, then
 * connect. The server stores nothing beyond its drift bound (stamps too far ahead are refused with
 * CLOCK_AHEAD; the client corrects its offset, rewinds, re-stamps and pushes again), no dirty record is
 * lost, and every client converges.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { parseStamp, type Stamp } from '@lastword/core'
import type { SyncClient, SyncReport } from '@lastword/client'
import { DEFAULT_LIMITS } from '@lastword/server'
import { newClient, readAll, serverRows, settle, startServer, type TestServer, type Todo } from './fixture.js'

let server: TestServer
const clients: SyncClient[] = []
beforeEach(async () => {
  server = await startServer()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server.close()
})

const TABLES = [
  {
    name: 'todos',
    columns: [
      { name: 'title', type: 'text' as const, nullable: false, writable: true },
      { name: 'done', type: 'boolean' as const, nullable: false, writable: true },
      { name: 'priority', type: 'integer' as const, nullable: true, writable: true },
    ],
  },
]

const SKEWS: Array<[string, number]> = [
  ['-1 day', -86_400_000],
  ['-5 min', -300_000],
  ['0', 0],
  ['+30 s', 30_000],
  ['+5 min', 300_000],
  ['+1 year', 365 * 86_400_000],
]

it('stores nothing beyond the drift bound and loses no dirty record', async () => {
  const reports = new Map<string, SyncReport[]>()
  const created = new Map<string, string[]>()
  const all = SKEWS.map(([label, skew]) => {
    const { client } = newClient(server, { clock: { now: () => Date.now() + skew }, autoConnect: false, tables: TABLES })
    clients.push(client)
    reports.set(label, [])
    client.on('sync', (r) => reports.get(label)!.push(r))
    return { label, client }
  })
  // Fresh clients write offline first: no server time learned yet, stamps follow the skewed clocks.
  const shared = await server.sync.service('todos').create({ title: 'shared', done: false })
  for (const { label, client } of all) {
    const todos = client.table<Todo>('todos')
    created.set(label, [await todos.create({ title: `by ${label}`, done: false }), await todos.create({ title: `by ${label} 2`, done: true })])
    todos.subscribe({}, () => undefined)
  }
  for (const { client } of all) {
    client.connect()
    await settle(client)
  }
  // Then everyone edits the same record offline, and comes back.
  for (const { client } of all) client.disconnect()
  for (const { label, client } of all) await client.table<Todo>('todos').update(shared, { title: `shared by ${label}` })
  for (const { client } of all) {
    client.connect()
    await settle(client)
  }
  for (const { client } of all) await settle(client)

  const bound = Date.now() + DEFAULT_LIMITS.maxDriftMs
  for (const meta of server.meta()) {
    for (const stamp of [meta.created_at, meta.updated_at, meta.deleted_at]) {
      if (stamp !== null) expect(parseStamp(stamp as Stamp).ms).toBeLessThanOrEqual(bound)
    }
  }
  const rows = serverRows(server)
  for (const [label, uids] of created) {
    for (const uid of uids) expect(rows.find((r) => r.uid === uid), `${label}'s record ${uid}`).toBeDefined()
  }
  for (const { client } of all) {
    expect(await client.pendingCount()).toBe(0)
    expect(await readAll(client)).toEqual(rows)
  }
  // The fast clocks were corrected by the server's refusal, not dropped.
  for (const label of ['+5 min', '+1 year']) expect(reports.get(label)!.flatMap((r) => r.restamped).length).toBeGreaterThan(0)
  for (const label of ['-1 day', '-5 min', '0', '+30 s']) expect(reports.get(label)!.flatMap((r) => r.restamped)).toEqual([])
})
