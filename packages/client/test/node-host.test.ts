/**
 * Node as a client host: passing an IndexedDB implementation as options (`indexedDB`, `IDBKeyRange`) is
 * enough, with no IndexedDB global installed. This file must not import `./helpers.js`, which installs
 * fake-indexeddb's globals; the first test proves none is there.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import type { TableDescriptor } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import { createSyncClient } from '../src/index.js'

const todosTable: TableDescriptor = {
  name: 'todos',
  columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'done', type: 'boolean', nullable: false, writable: true },
  ],
}

const IDB_GLOBALS = ['indexedDB', 'IDBKeyRange', 'IDBRequest', 'IDBOpenDBRequest', 'IDBDatabase', 'IDBTransaction', 'IDBObjectStore', 'IDBIndex', 'IDBCursor']

describe('Node host: IndexedDB from options, no globals', () => {
  it('the environment has no IndexedDB global', () => {
    expect(IDB_GLOBALS.filter((name) => name in globalThis)).toEqual([])
  })

  it('writes, reads, subscribes and keeps its data across clients on the factory it was given', async () => {
    const indexedDB = new IDBFactory()
    const client = createSyncClient({ name: 'node-host', tables: [todosTable], indexedDB, IDBKeyRange })
    expect(client.store.kind).toBe('indexeddb')
    const todos = client.table<{ title: string; done: boolean }>('todos')
    // The live query's latest rows, and a wait for a given result driven by its callback (no polling).
    let latest: string[] | undefined
    let wake: (() => void) | undefined
    const stop = todos.subscribe({ done: false }, (rows) => {
      latest = rows.map((r) => r.title)
      wake?.()
    })
    const until = async (want: string[]): Promise<void> => {
      while (JSON.stringify(latest) !== JSON.stringify(want)) await new Promise<void>((resolve) => (wake = resolve))
    }
    const milk = await todos.create({ title: 'milk', done: false })
    await todos.create({ title: 'eggs', done: true })
    expect((await todos.findMany({}, { orderBy: 'title' })).map((r) => r.title)).toEqual(['eggs', 'milk'])
    expect(await client.pendingCount()).toBe(2)
    await until(['milk'])
    await todos.update(milk, { done: true })
    await until([])
    stop()
    await client.close()
    expect(IDB_GLOBALS.filter((name) => name in globalThis)).toEqual([])

    // The data is in the factory's database, not in memory: a new client on it reads it back.
    const again = createSyncClient({ name: 'node-host', tables: [todosTable], indexedDB, IDBKeyRange })
    expect((await again.table<{ title: string; done: boolean }>('todos').findUnique(milk))?.done).toBe(true)
    expect(await again.pendingCount()).toBe(2)
    await again.clear()
  })

  it('a write before any descriptor is UNKNOWN_TABLE saying how to pass them, and writes nothing', async () => {
    const client = createSyncClient({ name: 'node-host-unknown', indexedDB: new IDBFactory(), IDBKeyRange })
    const error = await client.table('todos').create({ title: 'milk' }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    )
    expect(error?.code).toBe('UNKNOWN_TABLE')
    expect(error?.message).toContain('as `tables` to createSyncClient')
    expect(error?.message).toContain('describeTables')
    expect(await client.pendingCount()).toBe(0)
    await client.clear()
  })
})
