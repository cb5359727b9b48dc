/**
 * The sync driver against a scripted server, continued (sync-driver.test.ts has the pushes): paging and
 * resuming a full reconciliation from a stored cursor (I10), metadata pages, realtime (E5), evictions by
 * version, purges, unsubscribing, descriptors from the hello, the protocol check.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, type SyncRequest } from '@lastword/core'
import { createSyncClient } from '../src/index.js'
import { withDroppedRealtime } from '../src/testing/index.js'
import { checkpointAt, createScriptedServer, eventually, newIndexedDB, page, stamp, wireRow, type Todo } from './helpers.js'

import { closeClients, online, reports, setup, T0, track } from './sync-driver-fixture.js'

afterEach(closeClients)

describe('sync driver: pulls, realtime, evictions', () => {
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

  it('pushes acknowledged dirty records through lw:push flagged with the point they date from, while the scope reconciles in full (B3: the server judges a purge, R10, U6)', async () => {
    const v1 = stamp(T0 + 1)
    const knownAt = '0123456789abcdef.fedcba9876543210.7'
    const server = createScriptedServer((request) => page(request, { checkpoint: 'lw1.5.00000000000000' }))
    const client = setup(server)
    await client.ready()
    await client.store.transaction('readwrite', async (tx) => {
      const base = { table: 'todos', deleted_at: null, dirty: true, created_at: v1 as never, updated_at: v1 as never }
      await tx.putRecord({ ...base, uid: 'edited', row: { title: 'edited', done: false }, acknowledged: true, knownAt })
      await tx.putRecord({ ...base, uid: 'created', row: { title: 'created', done: false }, acknowledged: false })
    })
    client.table<Todo>('todos').subscribe({}, () => undefined)
    await online(client, server)
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    // The scope's requests pull only; the records went by lw:push, the acknowledged one saying so.
    expect(server.requests.filter((r) => r.full !== undefined).flatMap((r) => r.push)).toEqual([])
    const pushed = server.pushes.flatMap((p) => p.units.flatMap((u) => u.groups.flatMap((g) => g.records)))
    expect(pushed.find((r) => r.uid === 'edited')).toMatchObject({ acknowledged: true, knownAt })
    expect(pushed.find((r) => r.uid === 'created')?.acknowledged).not.toBe(true)
  })

  it('removes a purged record even when it is dirty, if the server had acknowledged it (B3, E1); its push is refused PURGED (R10)', async () => {
    const v1 = stamp(T0 + 1)
    const server = createScriptedServer((request) =>
      request.full !== undefined
        ? page(request, { checkpoint: 'lw1.5.00000000000000', purged: ['gone'] })
        : page(request, { outcomes: request.push.map((r) => (r.uid === 'gone' ? { uid: r.uid, status: 'rejected' as const, error: { code: 'PURGED', message: 'gone' } } : { uid: r.uid, status: 'applied' as const })) }),
    )
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
    await eventually(() => expect(log.some((r) => r.purged.includes('gone'))).toBe(true))
    await eventually(async () => expect(await client.pendingCount()).toBe(0))
    expect(await todos.record('gone')).toBeNull()
    expect(await todos.findUnique('mine')).toMatchObject({ title: 'mine' })
    expect(await todos.record('mine')).toMatchObject({ dirty: false, acknowledged: true })
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
    track(offline)
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
