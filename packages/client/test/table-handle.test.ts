/**
 * Table handles with no server: every read and write works offline, writes are validated by core's
 * `normalizeRow` (typed errors, nothing written on a bad input), tombstones are hidden, queries match
 * with core's matcher and sort with core's `compareValues`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isLastwordError, isStamp, type Stamp } from '@lastword/core'
import { createMemoryStore, createSyncClient, type SyncClient } from '../src/index.js'
import { eventually, newIndexedDB, offlineTransport, todosTable, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function offlineClient(store: 'memory' | 'indexeddb' = 'indexeddb', indexedDB = newIndexedDB()): SyncClient {
  const client = createSyncClient({ name: `offline-${Math.random()}`, tables: [todosTable], transport: offlineTransport(), store, indexedDB })
  clients.push(client)
  return client
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  if (!isLastwordError(error)) throw new Error(`expected a LastwordError, got ${String(error)}`)
  return error.code
}

describe.each(['indexeddb', 'memory'] as const)('table handle offline (%s)', (store) => {
  it('creates, reads, updates and deletes with no connection', async () => {
    const client = offlineClient(store)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'milk', done: false })
    expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(await todos.findUnique(uid)).toEqual({ uid, title: 'milk', done: false, priority: null, due: null, tags: null, tenant: null })
    await todos.update(uid, { done: true, due: new Date('2025-01-02T03:04:05Z') as unknown as string })
    expect(await todos.findUnique(uid)).toMatchObject({ title: 'milk', done: true, due: '2025-01-02T03:04:05.000Z' })
    const record = await todos.record(uid)
    expect(record).toMatchObject({ dirty: true, acknowledged: false, deleted_at: null })
    expect(isStamp(record?.updated_at)).toBe(true)
    expect(record!.updated_at > record!.created_at).toBe(true)
    await todos.delete(uid)
    expect(await todos.findUnique(uid)).toBeNull()
    expect(await todos.findMany()).toEqual([])
    const tombstone = await todos.record(uid)
    expect(tombstone?.deleted_at).not.toBeNull()
    expect(tombstone!.deleted_at! > tombstone!.updated_at).toBe(true)
    expect(await client.pendingCount()).toBe(1)
    expect(client.status).toBe('connecting') // the transport keeps trying
  })

  it('refuses bad input with typed errors and writes nothing', async () => {
    const client = offlineClient(store)
    const todos = client.table<Todo>('todos')
    expect(await codeOf(todos.create({ title: 'x', done: 'yes' as unknown as boolean }))).toBe('INVALID_VALUE')
    // @ts-expect-error title is required (the compiler says so too)
    expect(await codeOf(todos.create({ done: false }))).toBe('INVALID_VALUE')
    expect(await codeOf(todos.create({ title: 'x', done: false, titel: 'x' } as never))).toBe('UNKNOWN_COLUMN')
    expect(await codeOf(todos.create({ title: 'x', done: false, tenant: 't1' }))).toBe('READ_ONLY_COLUMN')
    expect(await codeOf(todos.create(JSON.parse('{"title":"x","done":false,"__proto__":{"polluted":1}}') as never))).toBe('FORBIDDEN_KEY')
    expect(await codeOf(todos.create({ uid: 'bad uid!', title: 'x', done: false }))).toBe('INVALID_UID')
    expect(await codeOf(client.table('nope').create({ a: 1 }))).toBe('UNKNOWN_TABLE')
    const uid = await todos.create({ uid: 'fixed-1', title: 'ok', done: false })
    expect(uid).toBe('fixed-1')
    expect(await codeOf(todos.create({ uid, title: 'again', done: false }))).toBe('INVALID_UID')
    expect(await codeOf(todos.update(uid, { priority: 1.5 }))).toBe('INVALID_VALUE')
    expect(await codeOf(todos.update(uid, { title: null as unknown as string }))).toBe('INVALID_VALUE')
    expect(await codeOf(todos.update('missing', { done: true }))).toBe('NOT_FOUND')
    await todos.delete(uid)
    expect(await codeOf(todos.update(uid, { done: true }))).toBe('NOT_FOUND')
    expect(await codeOf(todos.delete(uid))).toBe('NOT_FOUND')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect((await todos.record(uid))?.row).toMatchObject({ title: 'ok' })
    expect(await client.pendingCount()).toBe(1)
  })

  it('brings a deleted uid back with a later create', async () => {
    const client = offlineClient(store)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: 'again', title: 'one', done: false })
    await todos.delete('again')
    await todos.create({ uid: 'again', title: 'two', done: false })
    expect(await todos.findUnique('again')).toMatchObject({ title: 'two' })
  })

  it('filters with core where, sorts with orderBy and limits', async () => {
    const client = offlineClient(store)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: 'a', title: 'b', done: false, priority: 2 })
    await todos.create({ uid: 'b', title: 'a', done: true, priority: 1 })
    await todos.create({ uid: 'c', title: 'c', done: false, priority: null })
    await todos.create({ uid: 'd', title: 'é', done: false, priority: 3 })
    await todos.create({ uid: 'e', title: 'Z', done: false, priority: 2 })
    await todos.delete('e')
    const uids = (rows: { uid: string }[]) => rows.map((r) => r.uid)
    expect(uids(await todos.findMany({ done: false }))).toEqual(['a', 'c', 'd'])
    expect(uids(await todos.findMany({ priority: { gte: 2 } }))).toEqual(['a', 'd'])
    expect(uids(await todos.findMany({ priority: null }))).toEqual(['c'])
    expect(uids(await todos.findMany({ title: { in: ['a', 'c'] } }))).toEqual(['b', 'c'])
    expect(uids(await todos.findMany({}, { orderBy: 'title' }))).toEqual(['b', 'a', 'c', 'd'])
    expect(uids(await todos.findMany({}, { orderBy: { column: 'priority', direction: 'desc' } }))).toEqual(['c', 'd', 'a', 'b'])
    expect(uids(await todos.findMany({}, { orderBy: ['done', { column: 'priority', direction: 'asc' }], limit: 2 }))).toEqual(['a', 'd'])
    // @ts-expect-error not a column (the compiler says so too)
    expect(await codeOf(todos.findMany({ nope: 1 }))).toBe('UNKNOWN_COLUMN')
    expect(await codeOf(todos.findMany({ done: { like: 'x' } } as never))).toBe('INVALID_WHERE')
    // @ts-expect-error a JSON column cannot be sorted on (the compiler says so too)
    expect(await codeOf(todos.findMany({}, { orderBy: 'tags' }))).toBe('INVALID_WHERE')
    expect(await codeOf(todos.findMany({}, { limit: -1 }))).toBe('INVALID_WHERE')
  })

  it('runs live queries: current rows at once, then after every change that affects them', async () => {
    const client = offlineClient(store)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: 'a', title: 'a', done: false })
    const seen: string[][] = []
    const stop = todos.subscribe({ done: false }, (rows) => seen.push(rows.map((r) => r.uid)), { orderBy: 'title' })
    await eventually(() => expect(seen).toEqual([['a']]))
    await todos.create({ uid: 'b', title: '0', done: false })
    await eventually(() => expect(seen.at(-1)).toEqual(['b', 'a']))
    await todos.update('a', { done: true })
    await eventually(() => expect(seen.at(-1)).toEqual(['b']))
    const before = seen.length
    await todos.create({ uid: 'c', title: 'c', done: true }) // outside the query: no callback
    await todos.delete('b')
    await eventually(() => expect(seen.at(-1)).toEqual([]))
    expect(seen.length).toBe(before + 1)
    stop()
    // A second query is the barrier: live queries of a table are refreshed together, so once it has
    // seen 'd', a query still subscribed would have too.
    const barrier: string[][] = []
    const stopBarrier = todos.subscribe({}, (rows) => barrier.push(rows.map((r) => r.uid)))
    await todos.create({ uid: 'd', title: 'd', done: false })
    await eventually(() => expect(barrier.at(-1)).toContain('d'))
    stopBarrier()
    expect(seen.at(-1)).toEqual([])
    expect(seen.length).toBe(before + 1)
    // @ts-expect-error not a column (the compiler says so too)
    expect(() => todos.subscribe({ nope: 1 }, () => undefined)).toThrow(/not in table/)
  })

  it('emits pending counts', async () => {
    const client = offlineClient(store)
    const counts: number[] = []
    client.on('pending', (n) => counts.push(n))
    const todos = client.table<Todo>('todos')
    await todos.create({ title: 'a', done: false })
    await todos.create({ title: 'b', done: false })
    await eventually(() => expect(counts.at(-1)).toBe(2))
  })
})

describe('persistence', () => {
  it('keeps records, dirty flags and descriptors across restarts on one IndexedDB', async () => {
    const indexedDB = newIndexedDB()
    const first = createSyncClient({ name: 'persist', tables: [todosTable], transport: offlineTransport(), indexedDB })
    const uid = await first.table<Todo>('todos').create({ title: 'kept', done: false })
    await first.close()
    const second = createSyncClient({ name: 'persist', tables: [todosTable], transport: offlineTransport(), indexedDB })
    clients.push(second)
    expect(await second.table<Todo>('todos').findUnique(uid)).toMatchObject({ title: 'kept' })
    expect(await second.pendingCount()).toBe(1)
    expect(second.clientId).not.toBe(first.clientId)
  })

  it('wipes the database on clear()', async () => {
    const indexedDB = newIndexedDB()
    const client = createSyncClient({ name: 'wipe', tables: [todosTable], transport: offlineTransport(), indexedDB })
    await client.table<Todo>('todos').create({ title: 'gone', done: false })
    await client.clear()
    expect(await codeOf(client.pendingCount())).toBe('CLOSED')
    const again = createSyncClient({ name: 'wipe', tables: [todosTable], transport: offlineTransport(), indexedDB })
    clients.push(again)
    expect(await again.table<Todo>('todos').findMany()).toEqual([])
    expect(await again.pendingCount()).toBe(0)
  })

  it('reads nothing and refuses writes before any descriptor is known', async () => {
    const client = createSyncClient({ name: 'no-tables', transport: offlineTransport(), indexedDB: newIndexedDB() })
    clients.push(client)
    expect(await client.table('todos').findMany({ done: false })).toEqual([])
    expect(await client.table('todos').findUnique('x')).toBeNull()
    expect(await codeOf(client.table('todos').create({ title: 'x' }))).toBe('UNKNOWN_TABLE')
    // The message says how to get past it; nothing was written.
    await expect(client.table('todos').create({ title: 'x' })).rejects.toThrow(/pass its descriptors as `tables` to createSyncClient \(describeTables of @lastword\/server/)
    expect(await client.pendingCount()).toBe(0)
    const stop = client.table('todos').subscribe({ done: false }, () => undefined)
    stop()
  })
})

describe('a local write on a record another writer stamped ahead of this clock', () => {
  it('still gets a greater version (the clock advances past what it reads)', async () => {
    const indexedDB = newIndexedDB()
    const name = `tabs-${Math.random()}`
    // Tab A's clock runs an hour ahead of tab B's; both share one database.
    const a = createSyncClient({ name, tables: [todosTable], transport: offlineTransport(), indexedDB, clock: { now: () => Date.now() + 3_600_000 }, tabs: false })
    const b = createSyncClient({ name, tables: [todosTable], transport: offlineTransport(), indexedDB, tabs: false })
    clients.push(a, b)
    const uid = await a.table<Todo>('todos').create({ title: 'from A', done: false })
    const before = (await a.table<Todo>('todos').record(uid))!
    await b.table<Todo>('todos').update(uid, { title: 'from B, later' })
    const after = (await b.table<Todo>('todos').record(uid))!
    expect(after.updated_at > before.updated_at).toBe(true)
    await b.table<Todo>('todos').delete(uid)
    const deleted = (await b.table<Todo>('todos').record(uid))!
    expect(deleted.deleted_at! > deleted.updated_at).toBe(true)
  })
})

describe('a record with columns it does not know (SPEC.md section 11, SV1)', () => {
  it('an update makes the columns it sets known; the others stay unknown, and read as null', async () => {
    const store = createMemoryStore()
    const client = createSyncClient({ name: 'unknown-columns', tables: [todosTable], transport: offlineTransport(), store })
    clients.push(client)
    const at = '000000000001-0000-ffffffffffffffff' as Stamp
    await store.transaction('readwrite', (tx) =>
      tx.putRecord({
        table: 'todos',
        uid: 'u',
        row: { title: 'migrated', done: false, priority: null, due: null, tags: null, tenant: null },
        created_at: at,
        updated_at: at,
        deleted_at: null,
        dirty: true,
        acknowledged: true,
        unknown: ['priority', 'tags'],
      }),
    )
    const todos = client.table<Todo>('todos')
    expect(await todos.findUnique('u')).toMatchObject({ priority: null, tags: null })
    await todos.update('u', { priority: 3 })
    expect(await todos.record('u')).toMatchObject({ row: { priority: 3 }, unknown: ['tags'] })
    await todos.update('u', { tags: ['a'] })
    expect(await todos.record('u')).not.toHaveProperty('unknown')
  })
})
