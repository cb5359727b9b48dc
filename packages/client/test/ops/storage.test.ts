/**
 * Storage the browser keeps (storage/, store/replica-marker.ts, sync/replica-guard.ts): persistence asked
 * and reported; a database deleted under a running client (fake-indexeddb) is found by its replica
 * marker, told as `storage` `lost`, and resynced from scratch, with nothing of a run begun on the lost
 * database stored into the new one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SyncRequest } from '@lastword/core'
import { createSyncClient, type StorageEvent, type SyncClient, type SyncClientOptions } from '../../src/index.js'
import { createScriptedServer, eventually, newIndexedDB, page, stamp, todosTable, wireRow, type ScriptedServer, type Todo } from '../helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

let counter = 0
function setup(server: ScriptedServer, options: Partial<SyncClientOptions> = {}): SyncClient {
  const client = createSyncClient({
    name: `storage-${counter++}`,
    tables: [todosTable],
    transport: server.transport,
    indexedDB: newIndexedDB(),
    retry: { baseMs: 5, maxMs: 20 },
    tabs: false,
    logger: false,
    storageManager: null,
    ...options,
  })
  clients.push(client)
  return client
}

function deleteDatabase(factory: IDBFactory, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = factory.deleteDatabase(name)
    request.onsuccess = () => resolve()
    request.onerror = () => reject(request.error)
  })
}

const T0 = Date.now()
const ROWS = [wireRow('a', stamp(T0), stamp(T0), { title: 'a', done: false }), wireRow('b', stamp(T0), stamp(T0), { title: 'b', done: false })]
/** Full reconciliations get the rows; incremental pulls nothing new. */
const serve = (request: SyncRequest) =>
  request.full !== undefined ? page(request, { mode: 'full', rows: ROWS, checkpoint: 'lw1.5.00000000000000' }) : page(request, { checkpoint: 'lw1.5.00000000000000' })

describe('persistent storage', () => {
  it('asks once the store is open and reports the answer', async () => {
    const manager = { persisted: vi.fn(async () => false), persist: vi.fn(async () => true) }
    const client = setup(createScriptedServer(), { storageManager: manager })
    const events: StorageEvent[] = []
    client.on('storage', (e) => events.push(e))
    expect(client.storage.persistence).toBe('pending')
    await client.ready()
    await eventually(() => expect(client.storage.persistence).toBe('persisted'))
    expect(events).toEqual([{ kind: 'persistence', persistence: 'persisted' }])
    expect(manager.persist).toHaveBeenCalledTimes(1)
  })

  it('a refusal is best-effort; already persisted asks nothing; off or no manager is unavailable', async () => {
    const refused = setup(createScriptedServer(), { storageManager: { persist: async () => false } })
    await refused.ready()
    await eventually(() => expect(refused.storage.persistence).toBe('best-effort'))

    const persist = vi.fn(async () => true)
    const already = setup(createScriptedServer(), { storageManager: { persisted: async () => true, persist } })
    await already.ready()
    await eventually(() => expect(already.storage.persistence).toBe('persisted'))
    expect(persist).not.toHaveBeenCalled()

    const off = setup(createScriptedServer(), { persistStorage: false, storageManager: { persist } })
    await off.ready()
    await eventually(() => expect(off.storage.persistence).toBe('unavailable'))
    const memory = setup(createScriptedServer(), { store: 'memory', storageManager: { persist } })
    await memory.ready()
    await eventually(() => expect(memory.storage.persistence).toBe('unavailable'))
    expect(persist).not.toHaveBeenCalled()
  })
})

describe('a database deleted under a running client', () => {
  it('is found, told as lost, and resynced from scratch (D09)', async () => {
    const indexedDB = newIndexedDB()
    const server = createScriptedServer(serve)
    const client = setup(server, { indexedDB, name: 'vanishing' })
    const events: StorageEvent[] = []
    client.on('storage', (e) => events.push(e))
    const rows: number[] = []
    client.table<Todo>('todos').subscribe({}, (r) => rows.push(r.length))
    await client.ready()
    server.connect()
    await eventually(() => expect(rows.at(-1)).toBe(2))
    const before = server.requests.length

    await deleteDatabase(indexedDB, 'lastword:vanishing')
    await eventually(() => expect(events.filter((e) => e.kind === 'lost')).toHaveLength(1))
    expect(client.storage.lostAt).toEqual(expect.any(Number))
    // From scratch: a full reconciliation listing nothing, and the rows back.
    await eventually(() => expect(server.requests.slice(before).some((r) => r.full !== undefined && r.full.entries.length === 0)).toBe(true))
    await eventually(() => expect(rows.at(-1)).toBe(2))
    expect(await client.table<Todo>('todos').findMany()).toHaveLength(2)
  })

  it('stores nothing of a run begun on the lost database into the new one (D09)', async () => {
    const indexedDB = newIndexedDB()
    let deleteDuring = false
    const server = createScriptedServer(async (request) => {
      if (deleteDuring && request.full === undefined) {
        // The database goes while this incremental pull is at the server.
        deleteDuring = false
        await deleteDatabase(indexedDB, 'lastword:half')
        return page(request, { checkpoint: 'lw1.9.00000000000000' })
      }
      return serve(request)
    })
    const client = setup(server, { indexedDB, name: 'half' })
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await client.ready()
    server.connect()
    await eventually(async () => expect(await client.table<Todo>('todos').findMany()).toHaveLength(2))
    deleteDuring = true
    await client.sync().catch(() => undefined)
    // The stale incremental page's checkpoint never reached the new database: its scope reconciled in full.
    await eventually(async () => expect(await client.table<Todo>('todos').findMany()).toHaveLength(2))
    const scopes = await client.store.transaction('readonly', (tx) => tx.listScopes('todos'))
    expect(scopes.map((s) => s.checkpoint)).toEqual(['lw1.5.00000000000000'])
    const stale = server.requests.findIndex((r) => r.full === undefined && r.checkpoint !== null && server.requests.indexOf(r) > 0)
    expect(server.requests.slice(stale + 1).some((r) => r.full !== undefined && r.full.entries.length === 0)).toBe(true)
  })
})
