/**
 * A database written by the previous release of the SDK (IndexedDB layout 1, protocol 5: descriptors
 * without schema versions, records without `unknown`) opened by this one: everything is found, the dirty
 * write is still dirty and pushed, and when the server's hello brings a newer schema of the table the
 * stored records are migrated (SPEC.md section 11): the dirty one keeps its write with the added column
 * unknown (left out of its push), the clean one is fetched again in full, and the app is told (`schema`).
 * The fixture is written with fake-indexeddb's raw API, exactly as layout 1 stores it.
 */
import { describe, expect, it } from 'vitest'
import { scopeKey, validateWhere, type SyncRequest, type TableDescriptor } from '@lastword/core'
import { createSyncClient, IDB_SCHEMA_VERSION, type SchemaEvent, type SyncClient } from '../src/index.js'
import { IDBKeyRange, checkpointAt, createScriptedServer, eventually, newIndexedDB, page, stamp, todosTable, type Todo } from './helpers.js'

const HISTORY_POINT = 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.7'
const KEY = scopeKey('todos', validateWhere({}, todosTable))
const row = (title: string): Record<string, unknown> => ({ title, done: false, priority: 1, due: null, tags: null, tenant: 't' })

/** Layout 1, as the previous release created it and wrote its records, scopes and metadata. */
async function writePreviousLayout(indexedDB: IDBFactory, name: string): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name, 1)
    request.onupgradeneeded = () => {
      const d = request.result
      const records = d.createObjectStore('records', { keyPath: ['table', 'uid'] })
      records.createIndex('table', 'table')
      records.createIndex('dirty', 'dirtyTable')
      d.createObjectStore('scopes', { keyPath: 'key' }).createIndex('table', 'table')
      d.createObjectStore('meta')
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
  const tx = db.transaction(['records', 'scopes', 'meta'], 'readwrite')
  const records = tx.objectStore('records')
  const base = { table: 'todos', created_at: stamp(1_000), acknowledged: true, knownAt: HISTORY_POINT }
  records.put({ ...base, uid: 'clean', row: row('clean'), updated_at: stamp(1_000), deleted_at: null, dirty: false })
  records.put({ ...base, uid: 'dirty', row: row('edited offline'), updated_at: stamp(2_000), deleted_at: null, dirty: true, dirtyTable: 'todos' })
  records.put({ ...base, uid: 'gone', row: row('deleted'), updated_at: stamp(1_000), deleted_at: stamp(1_500), dirty: false })
  tx.objectStore('scopes').put({ key: KEY, table: 'todos', where: {}, checkpoint: checkpointAt(7), fullCursor: null, syncedAt: 5 })
  const meta = tx.objectStore('meta')
  meta.put([todosTable], 'tables')
  meta.put(stamp(2_000), 'clock')
  meta.put(0, 'offset')
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
  })
  db.close()
}

describe('a database of the previous release', () => {
  it(`layout 1 opened by layout ${IDB_SCHEMA_VERSION}: every record, scope and descriptor found; the dirty write still dirty`, async () => {
    const indexedDB = newIndexedDB()
    await writePreviousLayout(indexedDB, 'lastword:legacy')
    const client = createSyncClient({ name: 'legacy', indexedDB, IDBKeyRange, transport: createScriptedServer().transport, tabs: false })
    try {
      const todos = client.table<Todo>('todos')
      expect((await todos.findMany()).map((r) => [r.uid, r.title]).sort()).toEqual([
        ['clean', 'clean'],
        ['dirty', 'edited offline'],
      ])
      expect(await client.pendingCount()).toBe(1)
      expect(await todos.record('dirty')).toMatchObject({ dirty: true, acknowledged: true, knownAt: HISTORY_POINT })
      expect(await todos.record('gone')).toMatchObject({ deleted_at: stamp(1_500) })
    } finally {
      await client.close()
    }
  })

  it('a newer schema at hello: records migrated in one transaction, the dirty write pushed without the column it never knew, the app told', async () => {
    const indexedDB = newIndexedDB()
    await writePreviousLayout(indexedDB, 'lastword:legacy2')
    const v2: TableDescriptor = { ...todosTable, schemaVersion: 2, columns: [...todosTable.columns, { name: 'note', type: 'text', nullable: true, writable: true }] }
    const columns = v2.columns.map((c) => c.name)
    const server = createScriptedServer((request: SyncRequest) =>
      page(request, {
        columns,
        checkpoint: checkpointAt(9),
        // The server's state of both records: the clean one comes back whole in the full reconciliation.
        rows: request.full === undefined ? [] : [['clean', stamp(1_000), stamp(1_000), ...columns.map((c) => (c === 'note' ? 'from B' : c === 'title' ? 'clean' : (row('clean')[c] ?? null)))]],
      }),
    )
    const client: SyncClient = createSyncClient({ name: 'legacy2', indexedDB, IDBKeyRange, transport: server.transport, tabs: false })
    const events: SchemaEvent[] = []
    client.on('schema', (e) => events.push(e))
    try {
      const todos = client.table<Todo & { note: string | null }>('todos')
      todos.subscribe({}, () => undefined)
      await client.ready()
      server.connect({ tables: [v2] })
      await eventually(() => expect(events).toEqual([{ kind: 'migrated', tables: [{ table: 'todos', from: 1, to: 2 }] }]))
      await eventually(async () => expect(await client.pendingCount()).toBe(0))
      const pushed = server.requests.find((r) => r.push.length > 0)
      expect(pushed?.schemaVersion).toBe(2)
      expect(pushed?.push[0]?.uid).toBe('dirty')
      expect(Object.keys(pushed?.push[0]?.row ?? {})).not.toContain('note')
      // The clean record was dropped and reconciled in full: it is back with the column it lacked.
      expect(server.requests.some((r) => r.full !== undefined)).toBe(true)
      await eventually(async () => expect(await todos.findUnique('clean')).toMatchObject({ title: 'clean', note: 'from B' }))
    } finally {
      await client.close()
    }
  })
})
