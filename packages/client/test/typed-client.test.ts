/**
 * A client typed by the app's schema, given its descriptors as JSON (what `describeTables` of
 * @lastword/server writes): it writes and reads before it ever connects. Bad descriptors are refused
 * at creation with a typed error. The types themselves are pinned in types.test-d.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isLastwordError, type TableDescriptorJson } from '@lastword/core'
import { createSyncClient, type SyncClient } from '../src/index.js'
import descriptors from './fixtures/lastword-tables.json'
import { offlineTransport } from './helpers.js'

/** The schema the fixture describes, as a type (what an app imports with `import type`). */
interface Schema {
  todos: {
    table: {
      $inferSelect: {
        uid: string
        title: string
        done: boolean
        priority: number | null
        score: number | null
        due: Date | null
        kind: 'task' | 'note'
        tags: string[] | null
        tenant: string
      }
    }
    serverColumns: { tenant: () => unknown }
  }
  notes: { $inferSelect: { uid: string; body: string } }
}

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

describe('a typed client with JSON descriptors', () => {
  it('writes and reads before it ever connects (no UNKNOWN_TABLE)', async () => {
    const client = createSyncClient<Schema>({ name: `typed-${Math.random()}`, store: 'memory', transport: offlineTransport(), tables: descriptors })
    clients.push(client)
    const todos = client.table('todos')
    const due = new Date(Date.UTC(2026, 0, 2))
    const uid = await todos.create({ title: 'milk', done: false, kind: 'task', due })
    const row = await todos.findUnique(uid)
    // Timestamps are read back as ISO strings, as the row type says; the server-owned column is null until the server fills it.
    expect(row).toEqual({ uid, title: 'milk', done: false, priority: null, score: null, due: due.toISOString(), kind: 'task', tags: null, tenant: null })
    expect((await todos.findMany({ due: { gte: due } }, { orderBy: 'title' })).map((r) => r.uid)).toEqual([uid])
    expect(await client.pendingCount()).toBe(1)
  })

  it('refuses descriptors that are not valid with BAD_REQUEST, at creation', () => {
    const bad: TableDescriptorJson[] = [{ name: 'todos', columns: [{ name: 'title', type: 'varchar', nullable: false, writable: true }] }]
    let caught: unknown
    try {
      clients.push(createSyncClient({ name: `bad-${Math.random()}`, store: 'memory', transport: offlineTransport(), tables: bad }))
    } catch (error) {
      caught = error
    }
    expect(isLastwordError(caught, 'BAD_REQUEST')).toBe(true)
  })
})
