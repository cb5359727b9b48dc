// Page application: one store transaction per page, with its checkpoint (I10); push outcomes decided by core.
import { describe, expect, it } from 'vitest'
import { parseWire, syncPageSchema, type SyncPage } from '@lastword/core'
import type { LocalStore } from '../../src/store/types.js'
import { applyPage } from '../../src/sync/page-apply.js'
import { buildRequest } from '../../src/sync/request-builder.js'
import { createHarness, get, page, put, query, stamp, todo } from './fixture.js'
import { wireRow } from '../helpers.js'

/** Stores the scope with a checkpoint, so acknowledged dirty records are pushed (no full reconciliation). */
const withCheckpoint = (h: ReturnType<typeof createHarness>, key: string) =>
  h.deps.store.transaction('readwrite', (tx) => tx.putScope({ key, table: 'todos', where: {}, checkpoint: 'lw1.1.00000000000000', fullCursor: null, syncedAt: null }))

const asPage = (reply: ReturnType<typeof page>): SyncPage => parseWire(syncPageSchema, (reply as { data: unknown }).data, 'page')

describe('page application', () => {
  it('stores rows, outcomes and the checkpoint together, or nothing when the transaction fails (I10)', async () => {
    const h = createHarness()
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await put(h, todo('mine', 1, { dirty: true, acknowledged: false }))
    const built = await buildRequest(h.ctx, entry, true)
    const answer = asPage(page(built.request, { rows: [wireRow('new', stamp(2), stamp(2), { title: 'new', done: false })], checkpoint: 'lw1.7.00000000000000' }))
    // The store refuses the checkpoint write: nothing of the page is kept.
    const store = h.deps.store
    const failing: LocalStore = {
      ...store,
      kind: store.kind,
      transaction: (mode, fn) =>
        store.transaction(mode, (tx) => fn({ ...tx, putScope: () => Promise.reject(new Error('disk full')) } as typeof tx)),
    }
    await expect(applyPage({ ...h.ctx, deps: { ...h.deps, store: failing } }, entry, built, answer, null, 0)).rejects.toThrow('disk full')
    expect(await get(h, 'new')).toBeUndefined()
    expect(await get(h, 'mine')).toMatchObject({ dirty: true })
    // Applied for real: all of it, with the checkpoint.
    const result = await applyPage(h.ctx, entry, built, answer, null, 0)
    expect(result.pushed).toBe(1)
    expect(await get(h, 'new')).toMatchObject({ row: { title: 'new' }, dirty: false })
    expect(await get(h, 'mine')).toMatchObject({ dirty: false, acknowledged: true })
    expect(await h.deps.store.transaction('readonly', (tx) => tx.getScope(entry.key))).toMatchObject({ checkpoint: 'lw1.7.00000000000000', fullCursor: null })
  })

  it('counts a record written while its push was in flight and keeps it dirty (trap 5)', async () => {
    const h = createHarness()
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await withCheckpoint(h, entry.key)
    await put(h, todo('a', 1, { dirty: true }))
    const built = await buildRequest(h.ctx, entry, true)
    await put(h, todo('a', 2, { dirty: true, row: { title: 'during', done: false } }))
    const result = await applyPage(h.ctx, entry, built, asPage(page(built.request)), null, 0)
    expect(result.changedInFlight).toBe(1)
    expect(await get(h, 'a')).toMatchObject({ row: { title: 'during' }, dirty: true, acknowledged: true })
  })

  it('reports refusals, purges and evictions, and stores a resync as no checkpoint', async () => {
    const h = createHarness()
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await withCheckpoint(h, entry.key)
    await put(h, todo('refused', 1, { dirty: true }), todo('purged', 1, { dirty: true }), todo('evicted', 1))
    const built = await buildRequest(h.ctx, entry, true)
    expect(built.request.push.map((r) => r.uid)).toEqual(['purged', 'refused'])
    const answer = asPage(
      page(built.request, {
        mode: 'resync',
        checkpoint: null,
        outcomes: [
          { uid: 'refused', status: 'rejected', error: { code: 'FORBIDDEN', message: 'no' } },
          { uid: 'purged', status: 'rejected', error: { code: 'PURGED', message: 'gone' } },
        ],
        evict: [['evicted', stamp(1)]],
      }),
    )
    const result = await applyPage(h.ctx, entry, built, answer, null, 0)
    expect(result).toMatchObject({ rejected: [{ uid: 'refused', error: { code: 'FORBIDDEN' } }], purged: ['purged'], evicted: ['evicted'] })
    expect(await get(h, 'refused')).toMatchObject({ dirty: false, rejected: { code: 'FORBIDDEN' } })
    expect(await get(h, 'purged')).toBeUndefined()
    expect(h.ctx.removals.removedAt('todos', 'evicted')).toBe(stamp(1))
    expect(await h.deps.store.transaction('readonly', (tx) => tx.getScope(entry.key))).toMatchObject({ checkpoint: null, fullCursor: null, syncedAt: null })
  })
})
