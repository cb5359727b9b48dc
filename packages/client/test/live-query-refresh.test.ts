/**
 * Live queries refresh in proportion to what changed, not to the table. Laws:
 *
 * - Equivalence: after any sequence of creates, updates and deletes, every live query's last rows equal
 *   a fresh `findMany` with the same filter and options (order, nulls last, limit), and each query gets
 *   at most one callback per write (plus its first result).
 * - Cost: a local write is read back alone, never with a scan of the table; a write no query can see
 *   calls no callback; a sync page is patched in from the states it stored, with no read at all; changes
 *   of unknown records (another tab's sync) are re-read in full, coalesced.
 */
import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createMemoryStore, createSyncClient, type LocalStore, type QueryOptions, type ReadRow, type SyncClient } from '../src/index.js'
import type { Where } from '@lastword/core'
import { createScriptedServer, eventually, newIndexedDB, page, stamp, todosTable, wireRow, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

/** A store counting the full scans of a table (what a live query's re-read is) and the reads by uid. */
function countingStore(inner: LocalStore = createMemoryStore(), scanDelayMs = 0): LocalStore & { scans: number; gets: number } {
  const counted = {
    kind: inner.kind,
    scans: 0,
    gets: 0,
    transaction<T>(mode: 'readonly' | 'readwrite', fn: Parameters<LocalStore['transaction']>[1]): Promise<T> {
      return inner.transaction(mode, (tx) =>
        (fn as (t: typeof tx) => Promise<T>)({
          ...tx,
          getRecord(table, uid) {
            counted.gets++
            return tx.getRecord(table, uid)
          },
          getRecords(table, uids) {
            counted.gets += uids.length
            return tx.getRecords(table, uids)
          },
          async scanRecords(table, options) {
            if (options?.after == null && options?.limit === undefined) {
              counted.scans++
              if (scanDelayMs > 0) await new Promise((r) => setTimeout(r, scanDelayMs))
            }
            return tx.scanRecords(table, options)
          },
        }),
      )
    },
    clear: () => inner.clear(),
    close: () => inner.close(),
  }
  return counted
}

function offlineClient(store: 'memory' | 'indexeddb' | LocalStore): SyncClient {
  const client = createSyncClient({
    name: `live-${Math.random()}`,
    tables: [todosTable],
    store,
    indexedDB: newIndexedDB(),
    tabs: false,
  })
  clients.push(client)
  return client
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms))
const uidOf = (i: number): string => `0190a0b0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`

interface Probe {
  where: Where
  options: QueryOptions<Todo>
  seen: ReadRow<Todo>[][]
}

const QUERIES: { where: Where; options: QueryOptions<Todo> }[] = [
  { where: { done: false }, options: { orderBy: 'title' } },
  { where: {}, options: { orderBy: [{ column: 'priority', direction: 'desc' }, 'title'], limit: 3 } },
  { where: { priority: { gte: 2 } }, options: { limit: 2 } },
  { where: { done: true }, options: { orderBy: { column: 'title', direction: 'desc' }, limit: 1 } },
  { where: {}, options: { limit: 0 } },
  { where: {}, options: {} },
]

type Op =
  | { kind: 'create'; i: number; title: string; done: boolean; priority: number | null }
  | { kind: 'update'; i: number; title?: string; done?: boolean; priority?: number | null }
  | { kind: 'delete'; i: number }

const titleArb = fc.constantFrom('a', 'b', 'c', 'd', 'e')
const priorityArb = fc.option(fc.integer({ min: 0, max: 4 }), { nil: null })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), i: fc.nat(11), title: titleArb, done: fc.boolean(), priority: priorityArb }),
  fc.record({ kind: fc.constant('update' as const), i: fc.nat(11), title: fc.option(titleArb, { nil: undefined }), done: fc.option(fc.boolean(), { nil: undefined }), priority: fc.option(priorityArb, { nil: undefined }) }),
  fc.record({ kind: fc.constant('delete' as const), i: fc.nat(11) }),
)

/** Runs one write; whether it was made. */
async function runOp(client: SyncClient, op: Op): Promise<boolean> {
  const todos = client.table<Todo>('todos')
  const uid = uidOf(op.i)
  // Writes that do not apply (create over a live record, update or delete of none) fail and change nothing.
  const made = (write: Promise<unknown>): Promise<boolean> =>
    write.then(
      () => true,
      () => false,
    )
  if (op.kind === 'create') return made(todos.create({ uid, title: op.title, done: op.done, priority: op.priority }))
  if (op.kind === 'delete') return made(todos.delete(uid))
  {
    const patch: Partial<Todo> = {}
    if (op.title !== undefined) patch.title = op.title
    if (op.done !== undefined) patch.done = op.done
    if (op.priority !== undefined) patch.priority = op.priority
    return made(todos.update(uid, patch))
  }
}

async function expectFresh(client: SyncClient, probes: Probe[]): Promise<void> {
  const todos = client.table<Todo>('todos')
  await eventually(async () => {
    for (const probe of probes) expect(probe.seen.at(-1)).toEqual(await todos.findMany(probe.where, probe.options))
  })
}

describe.each(['memory', 'indexeddb'] as const)('live queries (%s)', (kind) => {
  it('equal a fresh query after any writes, with at most one callback per write', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const client = offlineClient(kind)
        const todos = client.table<Todo>('todos')
        // Some records before subscribing, so the first read has something to hold beyond the limits.
        for (let i = 0; i < 8; i++) await todos.create({ uid: uidOf(i), title: 'abcde'[i % 5]!, done: i % 2 === 0, priority: i % 3 === 0 ? null : i % 5 })
        const probes: Probe[] = QUERIES.map((q) => ({ ...q, seen: [] }))
        const stops = probes.map((p) => todos.subscribe(p.where, (rows) => p.seen.push(rows), p.options))
        await expectFresh(client, probes)
        let writes = 0
        for (const op of ops) {
          if (await runOp(client, op)) writes++
          await expectFresh(client, probes)
        }
        for (const probe of probes) expect(probe.seen.length).toBeLessThanOrEqual(1 + writes)
        expect(probes.find((p) => p.options.limit === 0)?.seen).toEqual([[]])
        for (const stop of stops) stop()
        await client.close()
      }),
      { numRuns: kind === 'memory' ? 40 : 15 },
    )
  }, 120_000)

  it('keeps order and limit when records enter, move within and leave the result', async () => {
    const client = offlineClient(kind)
    const todos = client.table<Todo>('todos')
    for (const [uid, title, priority] of [['p', 'p', 1], ['q', 'q', 2], ['r', 'r', null], ['s', 's', 3]] as const) {
      await todos.create({ uid: uidOf(uid.charCodeAt(0)), title, done: false, priority })
    }
    const seen: string[][] = []
    todos.subscribe({ done: false }, (rows) => seen.push(rows.map((r) => r.title)), { orderBy: 'priority', limit: 2 })
    await eventually(() => expect(seen.at(-1)).toEqual(['p', 'q']))
    await todos.create({ uid: uidOf(1), title: 'new first', done: false, priority: 0 }) // enters at the front
    await eventually(() => expect(seen.at(-1)).toEqual(['new first', 'p']))
    await todos.update(uidOf('p'.charCodeAt(0)), { priority: 9 }) // moves out of the window
    await eventually(() => expect(seen.at(-1)).toEqual(['new first', 'q']))
    await todos.update(uidOf(1), { done: true }) // leaves the filter
    await eventually(() => expect(seen.at(-1)).toEqual(['q', 's']))
    await todos.delete(uidOf('q'.charCodeAt(0)))
    await eventually(() => expect(seen.at(-1)).toEqual(['s', 'p']))
    await todos.delete(uidOf('s'.charCodeAt(0)))
    await eventually(() => expect(seen.at(-1)).toEqual(['p', 'r'])) // nulls last
    const before = seen.length
    await todos.update(uidOf('r'.charCodeAt(0)), { title: 'r2' }) // inside: the callback sees it
    await eventually(() => expect(seen.at(-1)).toEqual(['p', 'r2']))
    expect(seen.length).toBe(before + 1)
  })
})

describe('live query cost', () => {
  it('reads a local write back alone: a burst of 100 writes makes no full re-read', async () => {
    const store = countingStore()
    const client = offlineClient(store)
    const todos = client.table<Todo>('todos')
    for (let i = 0; i < 50; i++) await todos.create({ uid: uidOf(i), title: `t${i}`, done: false })
    const seen: number[] = []
    todos.subscribe({ done: false }, (rows) => seen.push(rows.length), { orderBy: 'title' })
    await eventually(() => expect(seen.at(-1)).toBe(50))
    const scans = store.scans
    expect(scans).toBe(1) // the first result
    for (let i = 0; i < 100; i++) await todos.update(uidOf(i % 50), { title: `u${i}` })
    await Promise.all(Array.from({ length: 100 }, (_, i) => todos.create({ uid: uidOf(100 + i), title: `c${i}`, done: i % 2 === 0 })))
    await eventually(() => expect(seen.at(-1)).toBe(100))
    expect(await todos.findMany({ done: false }, { orderBy: 'title' })).toHaveLength(100)
    expect(store.scans - scans).toBe(1) // that findMany
  })

  it('does not call back or scan for a write no query can see', async () => {
    const store = countingStore()
    const client = offlineClient(store)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: uidOf(1), title: 'a', done: false })
    const seen: string[][] = []
    todos.subscribe({ done: false }, (rows) => seen.push(rows.map((r) => r.title)), { orderBy: 'title', limit: 1 })
    // A second query of the table is the barrier: queries of a table are refreshed together, so once it
    // has seen the last write, the first query's refresh for it has run too.
    const barrier: string[][] = []
    const stopBarrier = todos.subscribe({}, (rows) => barrier.push(rows.map((r) => r.title)))
    await eventually(() => expect(seen).toEqual([['a']]))
    await eventually(() => expect(barrier.at(-1)).toEqual(['a']))
    const scans = store.scans
    await todos.create({ uid: uidOf(2), title: 'b', done: true }) // outside the filter
    await todos.create({ uid: uidOf(3), title: 'z', done: false }) // inside, beyond the limit
    await todos.update(uidOf(2), { title: 'c' })
    await eventually(() => expect(barrier.at(-1)).toContain('c'))
    stopBarrier()
    expect(seen).toEqual([['a']])
    expect(store.scans).toBe(scans)
  })

  it('sees another tab’s writes without re-reading the table', async () => {
    const store = countingStore()
    const name = `live-tabs-${Math.random()}`
    const make = (): SyncClient => {
      const c = createSyncClient({ name, tables: [todosTable], store, tabs: { leaseMs: 300, heartbeatMs: 50 } })
      clients.push(c)
      return c
    }
    const a = make()
    const b = make()
    await Promise.all([a.ready(), b.ready()])
    const seen: string[][] = []
    a.table<Todo>('todos').subscribe({}, (rows) => seen.push(rows.map((r) => r.title)), { orderBy: 'title' })
    await eventually(() => expect(seen.at(-1)).toEqual([]))
    const scans = store.scans
    const uid = await b.table<Todo>('todos').create({ title: 'from b', done: false })
    await eventually(() => expect(seen.at(-1)).toEqual(['from b']))
    await b.table<Todo>('todos').delete(uid)
    await eventually(() => expect(seen.at(-1)).toEqual([]))
    expect(store.scans).toBe(scans)
  })

  it('coalesces re-reads after changes of unknown records: a paged sync does not re-read per page', async () => {
    // Each re-read takes 30 ms; pages arrive every few ms, each with new rows and no uids for the client.
    const store = countingStore(createMemoryStore(), 30)
    const pages = 40
    const s = stamp(Date.now() - 1_000)
    const server = createScriptedServer(async (request, i) => {
      await tick(3)
      const last = i === pages - 1
      return page(request, {
        rows: [wireRow(uidOf(1_000 + i), s, s, { title: `p${i}`, done: false })],
        hasMore: !last,
        cursor: last ? null : { startRev: 1, after: uidOf(1_000 + i) },
        checkpoint: last ? 'lw1.1.00000000000000' : null,
      } as never)
    })
    const client = createSyncClient({ name: `live-${Math.random()}`, tables: [todosTable], store, transport: server.transport, tabs: false })
    clients.push(client)
    const seen: number[] = []
    client.table<Todo>('todos').subscribe({}, (rows) => seen.push(rows.length))
    await client.ready()
    server.connect()
    await eventually(() => expect(seen.at(-1)).toBe(pages), 15_000)
    expect(server.requests.length).toBeGreaterThanOrEqual(pages)
    // Without coalescing: one re-read per page. With it: about one per 60 ms of a ~120 ms... sync.
    expect(store.scans).toBeLessThan(pages / 2)
  }, 30_000)

  it('patches a paged sync in from the states each page stored: no read of the table or of its records', async () => {
    const store = countingStore()
    const pages = 5
    const perPage = 50
    const s = stamp(Date.now() - 1_000)
    // Every scope (the queries hold four) gets the same pages: its own count of requests.
    const requests = new Map<string, number>()
    const server = createScriptedServer(async (request) => {
      const key = JSON.stringify(request.where)
      const i = requests.get(key) ?? 0
      requests.set(key, i + 1)
      const last = i === pages - 1
      const rows = Array.from({ length: perPage }, (_, k) => {
        const n = i * perPage + k
        return wireRow(uidOf(10_000 - n), s, s, { title: `t${n % 7}`, done: n % 3 === 0, priority: n % 4 === 0 ? null : n % 5 })
      })
      return page(request, {
        rows,
        hasMore: !last,
        cursor: last ? null : { startRev: 1, after: uidOf(10_000 - i * perPage) },
        checkpoint: last ? 'lw1.1.00000000000000' : null,
      } as never)
    })
    const client = createSyncClient({ name: `live-${Math.random()}`, tables: [todosTable], store, transport: server.transport, tabs: false })
    clients.push(client)
    const todos = client.table<Todo>('todos')
    const probes: Probe[] = QUERIES.map((q) => ({ ...q, seen: [] }))
    for (const p of probes) todos.subscribe(p.where, (rows) => p.seen.push(rows), p.options)
    await client.ready()
    await eventually(() => expect(probes.every((p) => p.seen.length > 0)).toBe(true))
    const scansBefore = store.scans
    const getsBefore = store.gets
    server.connect()
    await eventually(() => expect(probes.find((p) => p.options.limit === undefined && Object.keys(p.where).length === 0)?.seen.at(-1)?.length).toBe(pages * perPage))
    const scans = store.scans - scansBefore
    const gets = store.gets - getsBefore
    await expectFresh(client, probes)
    // Page application reads its records once per page (each scope's pages); live queries read nothing more.
    expect(scans).toBe(0)
    expect(gets).toBe(requests.size * pages * perPage)
  }, 30_000)
})
