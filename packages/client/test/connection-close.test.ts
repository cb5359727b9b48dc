/**
 * D02: the IndexedDB connection closed under the client (`close`: Safari in a background tab, DevTools
 * clearing storage; `versionchange`: another tab upgrading) during a write and during a pull → the store
 * reopens, no completed write is lost, the sync goes on.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { forceCloseDatabase } from 'fake-indexeddb'
import { createSyncClient, IDB_SCHEMA_VERSION, type IdbStore, type SyncClient } from '../src/index.js'
import { idbConnection } from '../src/testing/index.js'
import { createScriptedServer, eventually, newIdbStore, newIndexedDB, page, stamp, todosTable, wireRow, type Todo } from './helpers.js'

const clients: SyncClient[] = []
const stores: IdbStore[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(stores.splice(0).map((s) => s.close()))
})

async function forceClose(store: IdbStore): Promise<void> {
  forceCloseDatabase((await idbConnection(store)) as unknown as typeof IDBDatabase) // fake-indexeddb types the argument as the class
}

describe('IndexedDB connection closed under the client (D02)', () => {
  it('reopens after a forced close between and during writes; nothing completed is lost', async () => {
    const store = newIdbStore(`lastword:close-${Math.random()}`)
    stores.push(store)
    const client = createSyncClient({ name: 'close', tables: [todosTable], transport: createScriptedServer().transport, store, tabs: false })
    clients.push(client)
    const todos = client.table<Todo>('todos')
    const done: string[] = []
    for (let i = 0; i < 20; i++) {
      const writing = todos.create({ uid: `w${i}`, title: `${i}`, done: false }).then((uid) => done.push(uid))
      if (i % 4 === 0) await forceClose(store) // while the write is in flight
      await writing
      if (i % 5 === 0) await forceClose(store) // between writes
    }
    expect(done).toHaveLength(20)
    expect((await todos.findMany()).map((r) => r.uid).sort()).toEqual(done.sort())
    expect(await client.pendingCount()).toBe(20)
  })

  it('stores a page whose pull saw the connection closed, and syncs on', async () => {
    const store = newIdbStore(`lastword:close-${Math.random()}`)
    stores.push(store)
    const s = stamp(Date.now())
    let pulls = 0
    const server = createScriptedServer(async (request) => {
      await forceClose(store) // the connection goes away while the answer is on its way (a pull's, or an lw:push's)
      if (request.pull === false) return page(request)
      const i = pulls++
      return page(request, { rows: [wireRow(`p${i}`, s, s, { title: `page ${i}`, done: false })], checkpoint: `lw1.${i + 1}.00000000000000` })
    })
    const client = createSyncClient({ name: 'close-pull', tables: [todosTable], transport: server.transport, store, tabs: false })
    clients.push(client)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'mine', done: false })
    todos.subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    await client.sync()
    await client.sync()
    expect((await todos.findMany()).map((r) => r.uid).sort()).toEqual(['p0', 'p1', 'p2', uid].sort())
    expect(await client.pendingCount()).toBe(0)
    expect((await store.transaction('readonly', (tx) => tx.listScopes()))[0]?.checkpoint).toBe('lw1.3.00000000000000')
  })

  it('lets another connection upgrade (versionchange) and reopens', async () => {
    const indexedDB = newIndexedDB()
    const client = createSyncClient({ name: 'upgrade', tables: [todosTable], transport: createScriptedServer().transport, indexedDB, tabs: false })
    clients.push(client)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: 'before', title: 'a', done: false })
    // A newer version of the app opens the database with a higher schema version.
    const upgraded = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('lastword:upgrade', IDB_SCHEMA_VERSION + 1)
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
      request.onblocked = () => reject(new Error('blocked: the old connection did not close on versionchange'))
    })
    upgraded.close()
    // This client's schema version is now older than the database's: it cannot reopen, and says so.
    const error = await todos.create({ uid: 'after', title: 'b', done: false }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INTERNAL' })
    await eventually(() => expect(client.lastError?.message).toMatch(/VersionError|version/i))
  })
})
