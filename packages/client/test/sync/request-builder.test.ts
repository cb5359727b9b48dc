// Request building: a scope's request pulls only (its checkpoint, or its full-reconciliation entries); dirty records go through lw:push.
import { describe, expect, it } from 'vitest'
import type { Where } from '@lastword/core'
import { buildRequest } from '../../src/sync/request-builder.js'
import { createHarness, put, query, todo } from './fixture.js'

const storeScope = (h: ReturnType<typeof createHarness>, key: string, where: Where, checkpoint: string | null) =>
  h.deps.store.transaction('readwrite', (tx) => tx.putScope({ key, table: 'todos', where, checkpoint, fullCursor: null, syncedAt: null }))

describe('request builder', () => {
  it('pulls from its checkpoint and pushes nothing, dirty records included', async () => {
    const h = createHarness()
    const open = h.ctx.registry.acquire(query({ done: false }), 'q').entry
    await storeScope(h, open.key, open.where, 'lw1.1.00000000000000')
    await put(h, todo('in', 1, { dirty: true }), { ...todo('out', 1, { dirty: true }), row: { title: 'out', done: true } }, todo('clean', 1))
    const request = await buildRequest(h.ctx, open)
    expect(request).toMatchObject({ checkpoint: 'lw1.1.00000000000000', subscription: open.subscriptionId, push: [] })
    expect(request.full).toBeUndefined()
    expect(request.pull).toBeUndefined()
    expect(h.ctx.pushes.list()).toEqual([])
  })

  it('lists every record it holds in a full reconciliation, acknowledged ones with their point (R12), dirty ones included', async () => {
    const h = createHarness()
    const all = h.ctx.registry.acquire(query({}), 'q').entry
    const knownAt = '0123456789abcdef.fedcba9876543210.7'
    await put(h, { ...todo('edited', 1, { dirty: true }), knownAt }, todo('created1', 1, { dirty: true, acknowledged: false }), todo('created2', 1, { dirty: true, acknowledged: false }))
    const request = await buildRequest(h.ctx, all)
    expect(request.push).toEqual([])
    expect(request.full).toEqual({
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
    const request = await buildRequest(h.ctx, all)
    expect(request.full?.entries.map((e) => e[0])).toEqual(['b', 'c'])
    expect(request.full).toMatchObject({ cursor: { startRev: 3, after: 'a' }, complete: false })
  })
})
