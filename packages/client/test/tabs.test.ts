/**
 * D05 in Node: two clients on one database name behave as two tabs. `navigator.locks` is absent here, so
 * the lease fallback elects the sync owner; only the owner opens its transport; the other tab's writes
 * reach the owner through the shared IndexedDB and a BroadcastChannel ping; every tab's live queries
 * update; when the owner closes, the other takes over.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createSyncClient, type SyncClient } from '../src/index.js'
import { createScriptedServer, eventually, newIndexedDB, page, stamp, todosTable, wireRow, type ScriptedServer, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function tab(name: string, indexedDB: IDBFactory, server: ScriptedServer): SyncClient {
  const client = createSyncClient({
    name,
    tables: [todosTable],
    transport: server.transport,
    indexedDB,
    tabs: { leaseMs: 300, heartbeatMs: 50 },
  })
  clients.push(client)
  return client
}

describe('tabs (lease fallback)', () => {
  it('elects one sync owner; the other tab writes and reads through the shared database', async () => {
    const indexedDB = newIndexedDB()
    const name = `tabs-${Math.random()}`
    const s = stamp(Date.now())
    const serverA = createScriptedServer((request, i) => page(request, i === 0 ? { rows: [wireRow('srv', s, s, { title: 'from server', done: false })] } : {}))
    const serverB = createScriptedServer()
    const a = tab(name, indexedDB, serverA)
    await eventually(() => expect(a.isOwner).toBe(true))
    const b = tab(name, indexedDB, serverB)
    await b.ready()
    await new Promise((r) => setTimeout(r, 100))
    expect(b.isOwner).toBe(false)
    serverA.connect()
    expect(() => serverB.connect()).toThrow(/not opened/) // a non-owner never opens its transport

    // B subscribes: the owner syncs B's scope and B's live query sees the pulled row.
    const seenB: string[][] = []
    b.table<Todo>('todos').subscribe({ done: false }, (rows) => seenB.push(rows.map((r) => r.title)))
    await eventually(() => expect(seenB.at(-1)).toEqual(['from server']))

    // B writes offline-style: the owner pushes it, once.
    const uid = await b.table<Todo>('todos').create({ title: 'from B', done: false })
    await eventually(async () => expect(await b.pendingCount()).toBe(0))
    expect(serverA.requests.flatMap((r) => r.push).filter((r) => r.uid === uid)).toHaveLength(1)
    const seenA: string[][] = []
    a.table<Todo>('todos').subscribe({}, (rows) => seenA.push(rows.map((r) => r.title).sort()))
    await eventually(() => expect(seenA.at(-1)).toEqual(['from B', 'from server']))

    // A writes: B's live query updates too.
    await a.table<Todo>('todos').update(uid, { title: 'edited by A' })
    await eventually(() => expect(seenB.at(-1)?.sort()).toEqual(['edited by A', 'from server']))

    // B asks for a sync: the owner runs it.
    const before = serverA.requests.length
    await b.sync()
    expect(serverA.requests.length).toBeGreaterThan(before)
    expect(b.status).toBe(a.status)

    // The owner closes: B takes over and opens its own transport.
    await a.close()
    await eventually(() => expect(b.isOwner).toBe(true))
    serverB.connect()
    await b.sync()
    expect(serverB.requests.length).toBeGreaterThan(0)
  })

  it("a follower's sync() rejects with the owner's error code", async () => {
    const indexedDB = newIndexedDB()
    const name = `tabs-${Math.random()}`
    const server = createScriptedServer(() => ({ ok: false, error: { code: 'FORBIDDEN', message: 'not yours' } }))
    const a = tab(name, indexedDB, server)
    await eventually(() => expect(a.isOwner).toBe(true))
    const b = tab(name, indexedDB, createScriptedServer())
    await b.ready()
    server.connect()
    a.table<Todo>('todos').subscribe({}, () => undefined)
    const owner = await a.sync().catch((e: unknown) => e)
    const follower = await b.sync().catch((e: unknown) => e)
    expect((owner as { code?: string }).code).toBe('FORBIDDEN')
    expect((follower as { code?: string }).code).toBe('FORBIDDEN')
  })

  it('takes over from an owner that vanished without releasing its lease', async () => {
    const indexedDB = newIndexedDB()
    const name = `tabs-${Math.random()}`
    const a = tab(name, indexedDB, createScriptedServer())
    await eventually(() => expect(a.isOwner).toBe(true))
    const b = tab(name, indexedDB, createScriptedServer())
    await b.ready()
    // A freezes (its timers stop): simulate by stopping its renewals behind its back.
    const lease = await b.store.transaction('readonly', (tx) => tx.getMeta('owner'))
    expect(lease?.tab).toBe(a.clientId)
    await b.store.transaction('readwrite', (tx) => tx.putMeta('owner', { tab: 'feedfeedfeedfeed', expiresAt: Date.now() + 200 }))
    await eventually(() => expect([a.isOwner, b.isOwner].filter(Boolean).length).toBe(1), 3_000)
  })
})

/** A minimal in-process Web Locks manager: exclusive locks, granted in request order, abortable. */
function fakeLocks() {
  const held = new Set<string>()
  const waiting = new Map<string, Array<() => void>>()
  const grantNext = (name: string): void => {
    const next = waiting.get(name)?.shift()
    if (next !== undefined) next()
  }
  return {
    request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const run = (): void => {
          held.add(name)
          callback().then(resolve, reject).finally(() => {
            held.delete(name)
            grantNext(name)
          })
        }
        if (!held.has(name)) return run()
        const queue = waiting.get(name) ?? []
        waiting.set(name, queue)
        queue.push(run)
        options.signal?.addEventListener('abort', () => {
          const i = queue.indexOf(run)
          if (i >= 0) queue.splice(i, 1)
          reject(new DOMException('aborted', 'AbortError'))
        })
      })
    },
  }
}

describe('tabs (Web Locks)', () => {
  it('gives the lock to one tab and passes it on when that tab closes', async () => {
    const locks = fakeLocks()
    const indexedDB = newIndexedDB()
    const name = `locks-${Math.random()}`
    const make = () => {
      const client = createSyncClient({ name, tables: [todosTable], transport: createScriptedServer().transport, indexedDB, tabs: { locks, heartbeatMs: 50 } })
      clients.push(client)
      return client
    }
    const a = make()
    const b = make()
    await Promise.all([a.ready(), b.ready()])
    await eventually(() => expect([a.isOwner, b.isOwner].filter(Boolean)).toEqual([true]))
    const [owner, other] = a.isOwner ? [a, b] : [b, a]
    expect(await owner.store.transaction('readonly', (tx) => tx.getMeta('owner'))).toBeUndefined() // no lease: the lock decides
    await owner.close()
    await eventually(() => expect(other.isOwner).toBe(true))
  })
})
