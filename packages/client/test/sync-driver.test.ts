/**
 * The sync driver against a scripted server: the protocol as ARCHITECTURE.md states it, one rule per
 * test — push outcomes, trap 5 (a write during a sync survives), drift correction, resync, evictions,
 * purges, coalescing, retries (sync-driver-pulls.test.ts has paging, realtime and the rest).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { versionOf, type SyncRequest } from '@lastword/core'
import type { ClockEvent, SyncClient } from '../src/index.js'
import { createManualRuntime } from '../src/testing/index.js'
import { createScriptedServer, eventually, page, stamp, wireRow, type Todo } from './helpers.js'

import { closeClients, online, reports, setup, T0 } from './sync-driver-fixture.js'

afterEach(closeClients)

describe('sync driver', () => {
  it('pushes offline writes through lw:push while the scope reconciles in full, then goes incremental from the checkpoint', async () => {
    const server = createScriptedServer((request) => page(request, { checkpoint: 'lw1.5.00000000000000' }))
    const client = setup(server)
    const todos = client.table<Todo>('todos')
    const uid = await todos.create({ title: 'offline', done: false })
    const log = reports(client)
    todos.subscribe({ done: false }, () => undefined)
    await online(client, server)
    await eventually(() => expect(log.length).toBe(2))
    const first = server.requests.find((r) => r.full !== undefined) as SyncRequest
    expect(first.checkpoint).toBeNull()
    expect(first.full).toEqual({ cursor: null, entries: [[uid, expect.any(String), false, false, null]], complete: true })
    expect(first.push).toEqual([])
    expect(first.subscription).toMatch(/^s[0-9a-f]{16}$/)
    const pushed = server.pushes[0]?.units[0]?.groups[0]
    expect(pushed?.records.map((r) => r.uid)).toEqual([uid])
    expect(pushed?.records[0]?.row).toEqual({ title: 'offline', done: false, priority: null, due: null, tags: null }) // no server-owned column
    expect(log.find((r) => r.mode === 'full')).toMatchObject({ pushed: 0, pulled: 0, rejected: [], superseded: [] })
    expect(log.find((r) => r.pushed > 0)).toMatchObject({ table: 'todos', pushed: 1, rejected: [], superseded: [] })
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
    client = setup(server)
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
    await eventually(() => expect(log.some((r) => r.superseded.length > 0)).toBe(true))
    expect(await todos.findUnique('won')).toMatchObject({ title: 'server', done: true, tenant: 't' })
    expect(await todos.record('won')).toMatchObject({ dirty: false, acknowledged: true })
    expect(await todos.record('hidden')).toBeNull()
    expect(log.find((r) => r.superseded.length > 0)!.superseded).toEqual([
      { uid: 'won', winnerStamp: stamp(T0 + 60_000), rule: 'R7 older write superseded' },
      { uid: 'hidden', winnerStamp: null, rule: 'R9 older write never resurrects' },
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

})
