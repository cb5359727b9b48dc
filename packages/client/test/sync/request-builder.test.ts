// Request building: what a scope's request pushes, what it withholds, and its full-reconciliation entries.
import { describe, expect, it } from 'vitest'
import type { Where } from '@lastword/core'
import { buildRequest } from '../../src/sync/request-builder.js'
import { todosTable } from '../helpers.js'
import { createHarness, put, query, todo } from './fixture.js'

const storeScope = (h: ReturnType<typeof createHarness>, key: string, where: Where, checkpoint: string | null) =>
  h.deps.store.transaction('readwrite', (tx) => tx.putScope({ key, table: 'todos', where, checkpoint, fullCursor: null, syncedAt: null }))

describe('request builder', () => {
  it('pushes dirty records in scope and, for a held scope, those no held scope matches; marks them in progress', async () => {
    const h = createHarness()
    const open = h.ctx.registry.acquire(query({ done: false }), 'q').entry
    await storeScope(h, open.key, open.where, 'lw1.1.00000000000000')
    await put(h, todo('in', 1, { dirty: true }), { ...todo('out', 1, { dirty: true }), row: { title: 'out', done: true } }, todo('clean', 1))
    const built = await buildRequest(h.ctx, open, true)
    expect(built.request.push.map((r) => r.uid)).toEqual(['in', 'out'])
    expect(built.request).toMatchObject({ checkpoint: 'lw1.1.00000000000000', subscription: open.subscriptionId })
    expect(built.request.full).toBeUndefined()
    // In progress: a second request (another scope, the same versions) leaves them out.
    const again = await buildRequest(h.ctx, open, true)
    expect(again.request.push).toEqual([])
    // Only a run's first request pushes.
    h.ctx.pushes.release(built.pushed.values())
    expect((await buildRequest(h.ctx, open, false)).request.push).toEqual([])
  })

  it('states the schema version it pushes under, leaves unknown columns out, and holds a table\'s writes while the server said its version is outdated (P8)', async () => {
    const h = createHarness()
    let version = 2
    h.deps.descriptor = (table) => (table === 'todos' ? { ...todosTable, schemaVersion: version } : undefined)
    const open = h.ctx.registry.acquire(query({}), 'q').entry
    await storeScope(h, open.key, open.where, 'lw1.1.00000000000000')
    await put(h, { ...todo('x', 1, { dirty: true }), unknown: ['priority'] })
    const built = await buildRequest(h.ctx, open, true)
    expect(built.request.schemaVersion).toBe(2)
    expect(Object.keys(built.request.push[0]?.row ?? {})).not.toContain('priority')
    expect(Object.keys(built.request.push[0]?.row ?? {})).toContain('title')
    h.ctx.pushes.release(built.pushed.values())
    h.ctx.state.outdated.set('todos', 2)
    expect((await buildRequest(h.ctx, open, true)).request.push).toEqual([])
    version = 3
    expect((await buildRequest(h.ctx, open, true)).request.push.map((r) => r.uid)).toEqual(['x'])
  })

  it('withholds acknowledged dirty records from a full reconciliation (B3) and caps a request at maxPushPerRequest', async () => {
    const h = createHarness(undefined, { maxPushPerRequest: 1 })
    const all = h.ctx.registry.acquire(query({}), 'q').entry
    const knownAt = '0123456789abcdef.fedcba9876543210.7'
    await put(h, { ...todo('edited', 1, { dirty: true }), knownAt }, todo('created1', 1, { dirty: true, acknowledged: false }), todo('created2', 1, { dirty: true, acknowledged: false }))
    const built = await buildRequest(h.ctx, all, true)
    expect(built.request.push.map((r) => r.uid)).toEqual(['created1'])
    expect(built.more).toBe(true)
    expect(built.request.full).toEqual({
      cursor: null,
      // Each acknowledged record says where its acknowledged state was read (R12), so a purge can be told from a restore.
      entries: ['created1', 'created2', 'edited'].map((uid) => [uid, expect.any(String), false, uid === 'edited', uid === 'edited' ? knownAt : null]),
      complete: true,
    })
  })

  it('pages full-reconciliation entries from the stored cursor', async () => {
    const h = createHarness(undefined, { maxEntriesPerRequest: 2 })
    const all = h.ctx.registry.acquire(query({}), 'q').entry
    await put(h, todo('a', 1), todo('b', 1), todo('c', 1), todo('d', 1))
    await h.deps.store.transaction('readwrite', (tx) =>
      tx.putScope({ key: all.key, table: 'todos', where: {}, checkpoint: null, fullCursor: { startRev: 3, after: 'a' }, syncedAt: null }),
    )
    const { request } = await buildRequest(h.ctx, all, false)
    expect(request.full?.entries.map((e) => e[0])).toEqual(['b', 'c'])
    expect(request.full).toMatchObject({ cursor: { startRev: 3, after: 'a' }, complete: false })
  })
})
