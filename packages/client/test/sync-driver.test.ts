/**
 * The sync driver against a scripted server: the protocol as ARCHITECTURE.md states it, one rule per
 * test — push outcomes, trap 5 (a write during a sync survives), drift correction, resync, paging and
 * resuming from a stored cursor (I10), evictions, purges, coalescing, retries and realtime.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, versionOf, type SyncRequest } from '@lastword/core'
import { createSyncClient, type ClockEvent, type SyncClient, type SyncClientOptions, type SyncReport } from '../src/index.js'
import { createManualRuntime, withDroppedRealtime } from '../src/testing/index.js'
import { checkpointAt, createScriptedServer, eventually, newIndexedDB, page, stamp, todosTable, wireRow, type ScriptedServer, type Todo } from './helpers.js'

const clients: SyncClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

let counter = 0
function setup(server: ScriptedServer, options: Partial<SyncClientOptions> = {}): SyncClient {
  const client = createSyncClient({
    name: `driver-${counter++}`,
    tables: [todosTable],
    transport: server.transport,
    indexedDB: newIndexedDB(),
    syncDebounceMs: 5,
    retry: { baseMs: 5, maxMs: 20 },
    tabs: false,
    ...options,
  })
  clients.push(client)
  return client
}

/** Connects and resolves once the client has taken the server's hello (status leaves `connecting`). */
async function online(client: SyncClient, server: ScriptedServer): Promise<void> {
  await client.ready()
  const reached = new Promise<void>((resolve) => {
    const off = client.on('status', (status) => {
      if (status === 'syncing' || status === 'online') {
        off()
        resolve()
      }
    })
  })
  server.connect()
  await reached
}

function reports(client: SyncClient): SyncReport[] {
  const out: SyncReport[] = []
  client.on('sync', (r) => out.push(r))
  return out
}

const T0 = Date.now()

describe('sync driver', () => {
  it('pushes offline writes with the first full sync of a scope, then goes incremental from the checkpoint', async () => {
    const server = createScriptedServer((request) => page(request, { checkpoint: 'lw1.5.00000000000000' }))
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'offline', done: false })
    const log = reports(client)
    todos.subscribe({ done: false }, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.length).toBeGreaterThan(0))
    const first = server.requests[0] as SyncRequest
    expect(first.checkpoint).toBeNull()
    expect(first.full).toEqual({ cursor: null, entries: [[uid, expect.any(String), false, false, null]], complete: true })
    expect(first.push.map((r) => r.uid)).toEqual([uid])
    expect(first.push[0]?.row).toEqual({ title: 'offline', done: false, priority: null, due: null, tags: null }) // no server-owned column
    expect(first.subscription).toMatch(/^s[0-9a-f]{16}$/)
    expect(log[0]).toMatchObject({ mode: 'full', pushed: 1, pulled: 0, rejected: [], superseded: [] })
    expect(await todos.record(uid)).toMatchObject({ dirty: false, acknowledged: true })
    expect(await client.pendingCount()).toBe(0)
    await client.sync()
    const second = server.requests.at(-1) as SyncRequest
    expect(second).toMatchObject({ checkpoint: 'lw1.5.00000000000000', push: [] })
    expect(second.full).toBeUndefined() // a resync with nothing changed is the checkpoint alone
  })

  it('keeps a write made during a sync dirty with its newer version (trap 5)', async () => {
    let client!: SyncClient
    const server = createScriptedServer(async (request) => {
      if (request.push.length > 0 && server.requests.length === 1) {
        // The app writes the same record while the push is in flight.
        await client.table<Todo>('todos').update(request.push[0]!.uid, { title: 'during' })
        return page(request, { rows: [wireRow(request.push[0]!.uid, request.push[0]!.created_at, request.push[0]!.updated_at, { title: 'before', done: false })] })
      }
      return page(request)
    })
    client = setup(server, { syncDebounceMs: 10_000 })
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'before', done: false })
    todos.subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(server.requests.length).toBeGreaterThanOrEqual(1))
    await client.sync()
    // The echo of the older version did not overwrite it; it stayed dirty and was pushed again.
    expect(await todos.findUnique(uid)).toMatchObject({ title: 'during' })
    const pushedAgain = server.requests.find((r, i) => i > 0 && r.push.some((p) => p.uid === uid))
    expect(pushedAgain?.push[0]?.row?.title).toBe('during')
    expect(await todos.record(uid)).toMatchObject({ dirty: false, acknowledged: true })
  })

  it('takes a newer winner on superseded, removes the record when the winner may not be read', async () => {
    const server = createScriptedServer((request) =>
      page(request, {
        outcomes: request.push.map((r) =>
          r.uid === 'won'
            ? {
                uid: r.uid,
                status: 'superseded' as const,
                rule: 'R7 older write superseded',
                winner: { uid: r.uid, created_at: r.created_at, updated_at: stamp(T0 + 60_000), deleted_at: null, row: { title: 'server', done: true, priority: null, due: null, tags: null, tenant: 't' } },
              }
            : { uid: r.uid, status: 'superseded' as const, rule: 'R9 older write never resurrects', winner: null },
        ),
      }),
    )
    const client = setup(server)
    const log = reports(client)
    const todos = client.table<Todo>('todos')
    await todos.create({ uid: 'won', title: 'mine', done: false })
    await todos.create({ uid: 'hidden', title: 'mine', done: false })
    todos.subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.length).toBeGreaterThanOrEqual(1))
    expect(await todos.findUnique('won')).toMatchObject({ title: 'server', done: true, tenant: 't' })
    expect(await todos.record('won')).toMatchObject({ dirty: false, acknowledged: true })
    expect(await todos.record('hidden')).toBeNull()
    expect(log[0]!.superseded).toEqual([
      { uid: 'hidden', winnerStamp: null, rule: 'R9 older write never resurrects' },
      { uid: 'won', winnerStamp: stamp(T0 + 60_000), rule: 'R7 older write superseded' },
    ])
  })

  it('keeps a rejected record, clears dirty and reports why (never deletes silently)', async () => {
    const server = createScriptedServer((request) =>
      page(request, { outcomes: request.push.map((r) => ({ uid: r.uid, status: 'rejected' as const, error: { code: 'FORBIDDEN', message: 'not yours' } })) }),
    )
    const client = setup(server)
    const log = reports(client)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'refused', done: false })
    todos.subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.length).toBeGreaterThanOrEqual(1))
    expect(log[0]!.rejected).toEqual([{ uid, error: { code: 'FORBIDDEN', message: 'not yours' } }])
    expect(await todos.findUnique(uid)).toMatchObject({ title: 'refused' })
    expect(await todos.record(uid)).toMatchObject({ dirty: false, rejected: { code: 'FORBIDDEN' } })
    await todos.update(uid, { title: 'retry' }) // a new write clears the mark and is pushed again
    expect((await todos.record(uid))?.rejected).toBeUndefined()
  })

  it('corrects the offset on CLOCK_AHEAD, rewinds, re-stamps and pushes again (nothing lost)', async () => {
    const yearMs = 365 * 24 * 3600 * 1000
    const server = createScriptedServer((request) =>
      page(request, {
        outcomes: request.push.map((r) =>
          Number.parseInt(r.updated_at.slice(0, 12), 16) > Date.now() + 60_000
            ? { uid: r.uid, status: 'rejected' as const, error: { code: 'CLOCK_AHEAD', message: 'ahead', details: { now: Date.now(), stampMs: Number.parseInt(r.updated_at.slice(0, 12), 16) } } }
            : { uid: r.uid, status: 'applied' as const },
        ),
      }),
    )
    // The app's clock is a year fast; the server's time arrives only with its answers.
    const client = setup(server, { clock: { now: () => Date.now() + yearMs } })
    const log = reports(client)
    const clockEvents: ClockEvent[] = []
    client.on('clock', (e) => clockEvents.push(e))
    expect(client.clockRefused).toBeNull()
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'future', done: false })
    const before = (await todos.record(uid))!
    todos.subscribe({}, () => undefined)
    await client.ready()
    server.connect({ serverTime: Date.now() })
    await eventually(() => expect(log.some((r) => r.pushed === 1)).toBe(true))
    expect(log[0]!.restamped).toEqual([uid])
    const after = (await todos.record(uid))!
    expect(versionOf(after) < versionOf(before)).toBe(true)
    expect(Number.parseInt(after.updated_at.slice(0, 12), 16)).toBeLessThan(Date.now() + 60_000)
    expect(after).toMatchObject({ dirty: false, acknowledged: true, restamped: true })
    // The refusal is visible: one typed event and the client's state, with the skew the server measured.
    expect(clockEvents).toHaveLength(1)
    expect(clockEvents[0]).toMatchObject({ kind: 'refused' })
    expect(clockEvents[0]!.skewMs).toBeGreaterThan(yearMs - 60_000)
    expect(clockEvents[0]!.skewMs).toBeLessThan(yearMs + 60_000)
    expect(Math.abs(clockEvents[0]!.offsetMs + yearMs)).toBeLessThan(60_000)
    expect(client.clockRefused).toEqual(clockEvents[0])
    // A new local write makes new stamps: the record no longer says it was re-stamped.
    await todos.update(uid, { title: 'edited' })
    expect((await todos.record(uid))?.restamped).toBeUndefined()
    // New stamps follow the corrected clock, and the rewound clock is what is persisted.
    const next = await todos.create({ title: 'now', done: false })
    expect(Number.parseInt((await todos.record(next))!.created_at.slice(0, 12), 16)).toBeLessThan(Date.now() + 60_000)
  })

  it('drops the checkpoint and runs full on resync', async () => {
    const server = createScriptedServer((request, i) =>
      i === 1 ? page(request, { mode: 'resync', reason: 'retention', checkpoint: null }) : page(request, { checkpoint: `lw1.${i + 1}.00000000000000` }),
    )
    const client = setup(server)
    const log = reports(client)
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.length).toBeGreaterThanOrEqual(1))
    await client.sync()
    expect(server.requests.map((r) => [r.checkpoint, r.full !== undefined])).toEqual([
      [null, true],
      ['lw1.1.00000000000000', false],
      [null, true],
    ])
    expect(log.at(-1)?.mode).toBe('full')
  })

  it('marks what the server asks for as dirty and pushes it next', async () => {
    const server = createScriptedServer((request, i) => page(request, { push: i === 0 ? ['keep'] : [] }))
    const client = setup(server)
    const store = client.store
    await client.ready()
    const s = stamp(T0)
    await store.transaction('readwrite', (tx) =>
      tx.putRecord({ table: 'todos', uid: 'keep', row: { title: 'x', done: false }, created_at: s as never, updated_at: s as never, deleted_at: null, dirty: false, acknowledged: true }),
    )
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(server.requests.length).toBe(2))
    expect(server.requests[1]!.push.map((r) => r.uid)).toEqual(['keep'])
    expect(server.requests[1]!.full).toBeUndefined()
  })

  it('removes evicted and purged records (a dirty one stays), and never pushes them as deletes', async () => {
    let client!: SyncClient
    const server = createScriptedServer(async (request, i) => {
      if (i > 0) return page(request)
      await client.table<Todo>('todos').update('dirty', { title: 'mine' }) // written while the sync runs
      return page(request, { evict: [['out', s], ['dirty', s]], purged: ['gone'] })
    })
    client = setup(server)
    const log = reports(client)
    await client.ready()
    const s = stamp(T0)
    await client.store.transaction('readwrite', async (tx) => {
      for (const uid of ['out', 'gone', 'dirty']) {
        await tx.putRecord({ table: 'todos', uid, row: { title: uid, done: false }, created_at: s as never, updated_at: s as never, deleted_at: null, dirty: false, acknowledged: true })
      }
    })
    const todos = client.table<Todo>('todos')
    todos.subscribe({ done: false }, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.length).toBeGreaterThan(0))
    expect(await todos.record('out')).toBeNull()
    expect(await todos.record('gone')).toBeNull()
    expect(await todos.findUnique('dirty')).toMatchObject({ title: 'mine' })
    expect(log[0]).toMatchObject({ evicted: ['out'], purged: ['gone'] })
    expect(server.requests.flatMap((r) => r.push).filter((r) => r.deleted_at !== null)).toEqual([])
  })

  it('pushes a record that moved out of every scope through a held scope of its table', async () => {
    const server = createScriptedServer()
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'a', done: false })
    todos.subscribe({ done: false }, () => undefined)
    await online(client, server)
    await client.sync()
    await todos.update(uid, { done: true })
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    expect(server.requests.at(-1)!.push.map((r) => r.row?.done)).toEqual([true])
  })

  it('retries a lost push of a record no held scope matches, even when another scope became the first held meanwhile', async () => {
    let lose = true
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const server = createScriptedServer(async (request) => {
      if (lose && request.push.length > 0) {
        lose = false
        await gate
        return { ok: false, error: { code: 'TRANSIENT', message: 'the answer was lost' } }
      }
      return page(request, { checkpoint: 'lw1.5.00000000000000' })
    })
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    todos.subscribe({ title: 'zzz' }, () => undefined)
    await online(client, server)
    await client.sync()
    const uid = await todos.create({ title: 'x', done: true }) // in no held scope
    await eventually(() => expect(server.requests.some((r) => r.push.length > 0)).toBe(true))
    // Now the first held scope of the table; disjoint from the other, so its run goes while the other's
    // push hangs (runs of overlapping scopes take turns, B13).
    todos.subscribe({ title: 'yyy' }, () => undefined)
    await eventually(() => expect(server.requests.filter((r) => r.where['title'] === 'yyy').length).toBeGreaterThan(0))
    release()
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    expect(server.requests.filter((r) => r.push.some((p) => p.uid === uid)).length).toBe(2)
  })

  it('marks pushes of acknowledged records, and removes one the server refuses as PURGED (R10)', async () => {
    const server = createScriptedServer((request) =>
      page(request, {
        checkpoint: 'lw1.5.00000000000000',
        outcomes: request.push.map((r) =>
          r.uid === 'gone' ? { uid: r.uid, status: 'rejected' as const, error: { code: 'PURGED', message: 'purged' } } : { uid: r.uid, status: 'applied' as const },
        ),
      }),
    )
    const client = setup(server)
    const log = reports(client)
    await client.ready()
    const v1 = stamp(T0 + 1)
    await client.store.transaction('readwrite', async (tx) => {
      const base = { table: 'todos', deleted_at: null, dirty: true, created_at: v1 as never, updated_at: v1 as never }
      await tx.putRecord({ ...base, uid: 'gone', row: { title: 'gone', done: false }, acknowledged: true })
      await tx.putRecord({ ...base, uid: 'new', row: { title: 'new', done: false }, acknowledged: false })
    })
    const todos = client.table<Todo>('todos')
    todos.subscribe({}, () => undefined)
    await online(client, server)
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    const pushed = server.requests.flatMap((r) => r.push)
    expect(pushed.find((r) => r.uid === 'gone')?.acknowledged).toBe(true)
    expect(pushed.find((r) => r.uid === 'new')?.acknowledged).toBeUndefined()
    expect(await todos.record('gone')).toBeNull()
    expect(log.flatMap((r) => r.purged)).toContain('gone')
  })

  it('coalesces: requests during a sync schedule exactly one more', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const server = createScriptedServer(async (request, i) => {
      if (i === 0) await gate
      return page(request)
    })
    const client = setup(server)
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(server.requests.length).toBe(1))
    const waits = [client.sync(), client.sync(), client.sync()]
    release()
    await Promise.all(waits)
    expect(server.requests.length).toBe(2)
  })

  it('retries transient failures with backoff', async () => {
    const server = createScriptedServer((request, i) => (i < 2 ? { ok: false, error: { code: 'TRANSIENT', message: 'busy' } } : page(request)))
    const client = setup(server)
    const log = reports(client)
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.length).toBeGreaterThanOrEqual(1))
    expect(server.requests.length).toBe(3)
    expect(client.status).toBe('online')
  })

  it('reports a permanent error and does not loop', async () => {
    const server = createScriptedServer(() => ({ ok: false, error: { code: 'FORBIDDEN', message: 'no read access' } }))
    // Time moves only when the test says so: a retry loop would show as more requests after the advance.
    const runtime = createManualRuntime()
    const client = setup(server, { runtime })
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(errors).toEqual(['FORBIDDEN']))
    await runtime.advance(60_000) // far past every backoff (retry.maxMs is 20 ms here)
    expect(server.requests.length).toBe(1)
    await expect(client.sync()).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('pages a full reconciliation and resumes an interrupted one from the stored cursor (I10)', async () => {
    const uids = Array.from({ length: 9 }, (_, i) => `u${i}`)
    const s = stamp(T0)
    const full = (request: SyncRequest) => {
      if (request.full === undefined) return page(request, { checkpoint: request.checkpoint })
      const after = request.full?.cursor?.after ?? null
      const rest = uids.filter((u) => after === null || u > after)
      const chunk = rest.slice(0, 3)
      const last = chunk.length === rest.length
      return page(request, {
        mode: 'full',
        rows: chunk.map((u) => wireRow(u, s, s, { title: u, done: false })),
        hasMore: !last,
        checkpoint: last ? 'lw1.9.00000000000000' : null,
        cursor: last ? null : { startRev: 9, after: chunk.at(-1)! },
        progress: { received: chunk.length, total: uids.length }, // per page, as the server counts
      })
    }
    const indexedDB = newIndexedDB()
    // First session: the connection drops after the second page is stored.
    const server = createScriptedServer((request, i) => {
      if (i === 2) server.disconnect()
      return full(request)
    })
    const first = setup(server, { name: 'paged', indexedDB })
    const progress: number[] = []
    first.on('progress', (p) => progress.push(p.received))
    first.table<Todo>('todos').subscribe({}, () => undefined)
    await online(first, server)
    await eventually(() => expect(progress).toEqual([3, 6]))
    await first.close()
    // Second session on the same database: continues after u5, nothing stored is asked again.
    const resumed = createScriptedServer(full)
    const second = setup(resumed, { name: 'paged', indexedDB })
    const rows: number[] = []
    second.table<Todo>('todos').subscribe({}, (r) => rows.push(r.length))
    await online(second, resumed)
    await second.sync()
    expect(resumed.requests[0]!.full?.cursor).toEqual({ startRev: 9, after: 'u5' })
    expect(resumed.requests[0]!.full?.entries.map((e) => e[0])).toEqual([]) // entries after the cursor only
    expect(rows.at(-1)).toBe(9)
    expect(resumed.requests.at(-1)!.checkpoint).toBe('lw1.9.00000000000000')
  })

  it('sends metadata entries in pages of at most 5,000', async () => {
    const server = createScriptedServer((request) => {
      if (request.full === undefined) return page(request)
      const entries = request.full.entries
      return page(request, {
        mode: 'full',
        hasMore: !request.full.complete,
        checkpoint: request.full.complete ? 'lw1.1.00000000000000' : null,
        cursor: request.full.complete ? null : { startRev: 1, after: entries.at(-1)![0] },
      })
    })
    const client = setup(server, { store: 'memory' })
    await client.ready()
    const s = stamp(T0)
    await client.store.transaction('readwrite', async (tx) => {
      for (let i = 0; i < 12_001; i++) {
        const uid = `r${String(i).padStart(6, '0')}`
        await tx.putRecord({ table: 'todos', uid, row: { title: uid, done: false }, created_at: s as never, updated_at: s as never, deleted_at: null, dirty: false, acknowledged: true })
      }
    })
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await client.sync()
    expect(server.requests.slice(0, 3).map((r) => [r.full?.entries.length, r.full?.complete])).toEqual([
      [5000, false],
      [5000, false],
      [2001, true],
    ])
  })

  it('applies realtime changes only when newer, never moves the checkpoint, and loses nothing when the transport drops them', async () => {
    const server = createScriptedServer((request) => page(request, { checkpoint: checkpointAt(3) }))
    let drop = false
    const client = setup(server, { transport: withDroppedRealtime(server.transport, () => drop) })
    const todos = client.table<Todo>('todos')
    const seen: string[][] = []
    todos.subscribe({}, (rows) => seen.push(rows.map((r) => `${r.uid}:${r.title}`)))
    await online(client, server)
    await client.sync()
    const subscription = server.requests[0]!.subscription!
    const a1 = stamp(T0 + 1)
    const a2 = stamp(T0 + 2)
    server.changes({ subscription, table: 'todos', rows: [wireRow('a', a1, a2, { title: 'new', done: false })], tombstones: [], evict: [] })
    await eventually(() => expect(seen.at(-1)).toEqual(['a:new']))
    server.changes({ subscription, table: 'todos', rows: [wireRow('a', a1, a1, { title: 'old', done: false })], tombstones: [], evict: [] })
    server.changes({ subscription, table: 'todos', rows: [wireRow('b', a1, a1, { title: 'b', done: false })], tombstones: [], evict: [] })
    await eventually(() => expect(seen.at(-1)).toEqual(['a:new', 'b:b']))
    server.changes({ subscription, table: 'todos', rows: [], tombstones: [['b', a1, a1, a2]], evict: [['a', a2]] })
    await eventually(() => expect(seen.at(-1)).toEqual([]))
    drop = true
    server.changes({ subscription, table: 'todos', rows: [wireRow('c', a1, a1, { title: 'c', done: false })], tombstones: [], evict: [] })
    server.changes({ subscription: 'unknown', table: 'todos', rows: [wireRow('d', a1, a1, { title: 'd', done: false })], tombstones: [], evict: [] })
    // Events are applied in arrival order: once a later one is stored, the earlier ones were handled.
    drop = false
    server.changes({ subscription, table: 'todos', rows: [], tombstones: [['z', a1, a1, a2]], evict: [] })
    await eventually(async () => expect(await todos.record('z')).not.toBeNull())
    expect(await todos.findMany()).toEqual([])
    expect((await client.store.transaction('readonly', (tx) => tx.listScopes()))[0]?.checkpoint).toBe(checkpointAt(3))
  })

  it('skips a realtime event its pull already covered, and pulls when one straddles the checkpoint (E5)', async () => {
    const server = createScriptedServer((request) => page(request, { checkpoint: checkpointAt(10) }))
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    todos.subscribe({}, () => undefined)
    await online(client, server)
    await client.sync()
    const subscription = server.requests[0]!.subscription!
    const v = stamp(T0 + 1)
    // rev 9 and 10 are at or below the checkpoint: the pull covered them (it may have evicted them since).
    server.changes({ subscription, table: 'todos', firstRev: 9, rev: 10, rows: [wireRow('old', v, v, { title: 'old', done: false })], tombstones: [], evict: [] })
    // rev 11 is past it: applied.
    server.changes({ subscription, table: 'todos', firstRev: 11, rev: 11, rows: [wireRow('new', v, v, { title: 'new', done: false })], tombstones: [], evict: [] })
    await eventually(async () => expect((await todos.findMany()).map((r) => r.uid)).toEqual(['new']))
    const before = server.requests.length
    // 10..12 straddles it: not applied, the scope is pulled instead.
    server.changes({ subscription, table: 'todos', firstRev: 10, rev: 12, rows: [wireRow('mixed', v, v, { title: 'mixed', done: false })], tombstones: [], evict: [] })
    await eventually(() => expect(server.requests.length).toBeGreaterThan(before))
    expect(server.requests.at(-1)!.checkpoint).toBe(checkpointAt(10))
    expect((await todos.findMany()).map((r) => r.uid)).toEqual(['new'])
  })

  it('takes an eviction by version: a stale copy goes although another scope matches it, a newer copy stays (E2, E3)', async () => {
    const v1 = stamp(T0 + 1)
    const v2 = stamp(T0 + 2)
    const v3 = stamp(T0 + 3)
    const server = createScriptedServer((request) => {
      if (request.where['done'] === false) return page(request, { checkpoint: 'lw1.5.00000000000000', evict: [['stale', v2], ['late', v2]] })
      return page(request, { checkpoint: 'lw1.5.00000000000001' })
    })
    const client = setup(server)
    await client.ready()
    await client.store.transaction('readwrite', async (tx) => {
      const base = { table: 'todos', deleted_at: null, dirty: false, acknowledged: true }
      await tx.putRecord({ ...base, uid: 'stale', row: { title: 'stale', done: false }, created_at: v1 as never, updated_at: v1 as never })
      await tx.putRecord({ ...base, uid: 'late', row: { title: 'late', done: false }, created_at: v1 as never, updated_at: v3 as never })
    })
    const todos = client.table<Todo>('todos')
    todos.subscribe({ title: { gte: 'a' } }, () => undefined) // matches both local rows
    todos.subscribe({ done: false }, () => undefined)
    await online(client, server)
    await client.sync()
    expect(await todos.record('stale')).toBeNull()
    expect(await todos.findUnique('late')).toMatchObject({ title: 'late' })
  })

  it('withholds acknowledged dirty records from a full reconciliation and pushes them once it has ended (B3)', async () => {
    const v1 = stamp(T0 + 1)
    const server = createScriptedServer((request) => page(request, { checkpoint: 'lw1.5.00000000000000' }))
    const client = setup(server)
    await client.ready()
    await client.store.transaction('readwrite', async (tx) => {
      const base = { table: 'todos', deleted_at: null, dirty: true, created_at: v1 as never, updated_at: v1 as never }
      await tx.putRecord({ ...base, uid: 'edited', row: { title: 'edited', done: false }, acknowledged: true })
      await tx.putRecord({ ...base, uid: 'created', row: { title: 'created', done: false }, acknowledged: false })
    })
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    const full = server.requests.find((r) => r.full !== undefined)!
    expect(full.push.map((r) => r.uid)).toEqual(['created'])
    const incremental = server.requests.find((r) => r.full === undefined && r.push.length > 0)!
    expect(incremental.checkpoint).toBe('lw1.5.00000000000000')
    expect(incremental.push.map((r) => r.uid)).toEqual(['edited'])
  })

  it('removes a purged record even when it is dirty, if the server had acknowledged it (B3, E1)', async () => {
    const v1 = stamp(T0 + 1)
    const server = createScriptedServer((request) => page(request, { checkpoint: 'lw1.5.00000000000000', purged: request.full === undefined ? [] : ['gone'] }))
    const client = setup(server)
    const log = reports(client)
    await client.ready()
    await client.store.transaction('readwrite', async (tx) => {
      const base = { table: 'todos', deleted_at: null, dirty: true, created_at: v1 as never, updated_at: v1 as never }
      await tx.putRecord({ ...base, uid: 'gone', row: { title: 'gone', done: false }, acknowledged: true })
      await tx.putRecord({ ...base, uid: 'mine', row: { title: 'mine', done: false }, acknowledged: false })
    })
    const todos = client.table<Todo>('todos')
    todos.subscribe({}, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.some((r) => r.purged.length > 0)).toBe(true))
    expect(await todos.record('gone')).toBeNull()
    expect(await todos.findUnique('mine')).toMatchObject({ title: 'mine' })
    // Never acknowledged: an offline create, pushed with the reconciliation; the purged edit never is.
    expect(server.requests.flatMap((r) => r.push).map((r) => r.uid)).toEqual(['mine'])
  })

  it('sends lw:unsubscribe when the last subscriber of a scope leaves', async () => {
    const server = createScriptedServer()
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const stopA = todos.subscribe({ done: false }, () => undefined)
    const stopB = todos.subscribe({ done: { eq: false } }, () => undefined) // the same scope, written differently
    await online(client, server)
    await client.sync()
    const subscriptions = new Set(server.requests.map((r) => r.subscription))
    expect(subscriptions.size).toBe(1)
    stopA()
    expect(server.unsubscribes).toEqual([])
    stopB()
    expect(server.unsubscribes).toEqual([...subscriptions])
  })

  it('takes descriptors from lw:hello and keeps them, so the next session starts offline', async () => {
    const indexedDB = newIndexedDB()
    const server = createScriptedServer()
    const first = setup(server, { name: 'hello', tables: undefined, indexedDB })
    const rows: number[] = []
    first.table<Todo>('todos').subscribe({ done: false }, (r) => rows.push(r.length))
    await online(first, server)
    await eventually(() => expect(rows).toEqual([0]))
    await first.close()
    const offline = createSyncClient({ name: 'hello', indexedDB, tabs: false })
    clients.push(offline)
    const uid = await offline.table<Todo>('todos').create({ title: 'no server', done: false })
    expect(await offline.table<Todo>('todos').findMany({ done: false })).toEqual([expect.objectContaining({ uid })])
  })

  it('refuses a server speaking another protocol', async () => {
    const server = createScriptedServer()
    const client = setup(server)
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    await client.ready()
    server.connect({ protocolVersion: PROTOCOL_VERSION + 1 })
    await eventually(() => expect(errors).toEqual(['PROTOCOL_MISMATCH']))
    expect(client.status).toBe('offline')
  })
})
