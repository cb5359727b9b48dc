// Page application: one store transaction per page, with its checkpoint (I10). Scopes pull only: a page's outcomes are not read.
import { describe, expect, it } from 'vitest'
import { parseWire, syncPageSchema, type SyncPage } from '@lastword/core'
import { createMemoryStore } from '../../src/store/memory-store.js'
import type { LocalStore, StoreTransaction, StoredRecord } from '../../src/store/types.js'
import { applyPage } from '../../src/sync/page-apply.js'
import { buildRequest } from '../../src/sync/request-builder.js'
import { createHarness, get, page, put, query, stamp, todo } from './fixture.js'
import { newIdbStore, wireRow } from '../helpers.js'

/** Stores the scope with a checkpoint (an incremental pull). */
const withCheckpoint = (h: ReturnType<typeof createHarness>, key: string) =>
  h.deps.store.transaction('readwrite', (tx) => tx.putScope({ key, table: 'todos', where: {}, checkpoint: 'lw1.1.00000000000000', fullCursor: null, syncedAt: null }))

const asPage = (reply: ReturnType<typeof page>): SyncPage => parseWire(syncPageSchema, (reply as { data: unknown }).data, 'page')

describe('page application', () => {
  it('stores rows and the checkpoint together, or nothing when the transaction fails (I10)', async () => {
    const h = createHarness()
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await put(h, todo('mine', 1, { dirty: true, acknowledged: false }))
    const request = await buildRequest(h.ctx, entry)
    expect(request.push).toEqual([])
    const answer = asPage(page(request, { rows: [wireRow('new', stamp(2), stamp(2), { title: 'new', done: false })], checkpoint: 'lw1.7.00000000000000' }))
    // The store refuses the checkpoint write: nothing of the page is kept.
    const store = h.deps.store
    const failing: LocalStore = {
      ...store,
      kind: store.kind,
      transaction: (mode, fn) =>
        store.transaction(mode, (tx) => fn({ ...tx, putScope: () => Promise.reject(new Error('disk full')) } as typeof tx)),
    }
    await expect(applyPage({ ...h.ctx, deps: { ...h.deps, store: failing } }, entry, request, answer)).rejects.toThrow('disk full')
    expect(await get(h, 'new')).toBeUndefined()
    // Applied for real: all of it, with the checkpoint; the local write stays dirty for the pusher.
    await applyPage(h.ctx, entry, request, answer)
    expect(await get(h, 'new')).toMatchObject({ row: { title: 'new' }, dirty: false })
    expect(await get(h, 'mine')).toMatchObject({ dirty: true, acknowledged: false })
    expect(await h.deps.store.transaction('readonly', (tx) => tx.getScope(entry.key))).toMatchObject({ checkpoint: 'lw1.7.00000000000000', fullCursor: null })
  })

  it('reports purges and evictions, stores a resync as no checkpoint, and reads no outcome (nothing was pushed)', async () => {
    const h = createHarness()
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await withCheckpoint(h, entry.key)
    await put(h, todo('mine', 1, { dirty: true }), todo('purged', 1), todo('evicted', 1))
    const request = await buildRequest(h.ctx, entry)
    const answer = asPage(
      page(request, {
        mode: 'resync',
        checkpoint: null,
        outcomes: [{ uid: 'mine', status: 'rejected', error: { code: 'FORBIDDEN', message: 'no' } }],
        purged: ['purged'],
        evict: [['evicted', stamp(1)]],
      }),
    )
    const result = await applyPage(h.ctx, entry, request, answer)
    expect(result).toMatchObject({ purged: ['purged'], evicted: ['evicted'] })
    expect(await get(h, 'mine')).toMatchObject({ dirty: true })
    expect((await get(h, 'mine'))?.rejected).toBeUndefined()
    expect(await get(h, 'purged')).toBeUndefined()
    expect(h.ctx.removals.removedAt('todos', 'evicted')).toBe(stamp(1))
    expect(await h.deps.store.transaction('readonly', (tx) => tx.getScope(entry.key))).toMatchObject({ checkpoint: null, fullCursor: null, syncedAt: null })
  })

  it('a scope reset to reconcile in full while its page was awaited stays reset (P9: an lw:push answer dropped a child)', async () => {
    const h = createHarness()
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await withCheckpoint(h, entry.key)
    const request = await buildRequest(h.ctx, entry)
    expect(request.checkpoint).toBe('lw1.1.00000000000000')
    // Meanwhile (push-apply.ts, P9): every scope of the table set to reconcile in full.
    await h.deps.store.transaction('readwrite', async (tx) => {
      const scope = await tx.getScope(entry.key)
      await tx.putScope({ ...scope!, checkpoint: null, fullCursor: null })
    })
    await applyPage(h.ctx, entry, request, asPage(page(request, { checkpoint: 'lw1.9.00000000000000' })))
    expect(await h.deps.store.transaction('readonly', (tx) => tx.getScope(entry.key))).toMatchObject({ checkpoint: null, fullCursor: null })
    // Not reset: the page's checkpoint is stored.
    await withCheckpoint(h, entry.key)
    const next = await buildRequest(h.ctx, entry)
    await applyPage(h.ctx, entry, next, asPage(page(next, { checkpoint: 'lw1.9.00000000000000' })))
    expect(await h.deps.store.transaction('readonly', (tx) => tx.getScope(entry.key))).toMatchObject({ checkpoint: 'lw1.9.00000000000000' })
  })

  /**
   * A store that counts what a page costs (transactions, record reads) and, when told, fails in the middle
   * of the page's writes: half of them reach the transaction, then the store refuses (a full disk).
   */
  const instrumented = (store: LocalStore, failMidPage: boolean) => {
    const counts = { transactions: 0, getRecord: 0, getRecords: 0, putRecords: 0 }
    const wrapped: LocalStore = {
      ...store,
      kind: store.kind,
      transaction: (mode, fn) =>
        store.transaction(mode, (tx) => {
          counts.transactions++
          const counting: StoreTransaction = {
            ...tx,
            getRecord: (table, uid) => (counts.getRecord++, tx.getRecord(table, uid)),
            getRecords: (table, uids) => (counts.getRecords++, tx.getRecords(table, uids)),
            async putRecords(records) {
              counts.putRecords++
              if (!failMidPage) return tx.putRecords(records)
              await tx.putRecords(records.slice(0, Math.ceil(records.length / 2)))
              throw new Error('disk full')
            },
          }
          return fn(counting)
        }),
    }
    return { store: wrapped, counts }
  }

  for (const [name, make] of [
    ['memory', () => createMemoryStore()],
    ['indexeddb (fake-indexeddb)', () => newIdbStore(`lastword:page-${Math.random()}`)],
  ] as const) {
    it(`applies a page in one store transaction, its records read in one pass and written with the checkpoint; failing mid-page keeps nothing (I10, ${name})`, async () => {
      const h = createHarness()
      const store: LocalStore = make()
      const ctx = { ...h.ctx, deps: { ...h.deps, store } }
      const entry = h.ctx.registry.acquire(query({}), 'q').entry
      await store.transaction('readwrite', (tx) =>
        tx.putRecords([
          todo('old', 1),
          todo('gone', 1),
          todo('moved', 1),
          todo('asked', 1),
          todo('mine', 1, { dirty: true, acknowledged: false }),
        ]),
      )
      const request = await buildRequest(ctx, entry)
      const fresh = Array.from({ length: 20 }, (_, i) => `new${String(i).padStart(2, '0')}`)
      const answer = asPage(
        page(request, {
          rows: [wireRow('old', stamp(1), stamp(2), { title: 'newer', done: true }), ...fresh.map((uid) => wireRow(uid, stamp(3), stamp(3), { title: uid, done: false }))],
          tombstones: [['gone', stamp(1), stamp(1), stamp(4)]],
          evict: [['moved', stamp(1)]],
          push: ['asked'],
          checkpoint: 'lw1.9.00000000000000',
        }),
      )
      const snapshot = () =>
        store.transaction('readonly', async (tx) => ({
          records: (await tx.scanRecords('todos')).map((r: StoredRecord) => `${r.uid}:${r.updated_at.slice(0, 12)}:${r.deleted_at === null ? '' : 'deleted'}:${r.dirty ? 'dirty' : 'clean'}`),
          checkpoint: (await tx.getScope(entry.key))?.checkpoint ?? null,
        }))
      const before = await snapshot()
      const failing = instrumented(store, true)
      await expect(applyPage({ ...ctx, deps: { ...ctx.deps, store: failing.store } }, entry, request, answer)).rejects.toThrow('disk full')
      expect(await snapshot()).toEqual(before)
      expect(before.checkpoint).toBeNull()

      const counted = instrumented(store, false)
      const result = await applyPage({ ...ctx, deps: { ...ctx.deps, store: counted.store } }, entry, request, answer)
      // One transaction; every record named by the page read in one request, none one by one; written together.
      expect(counted.counts).toEqual({ transactions: 1, getRecord: 0, getRecords: 1, putRecords: 1 })
      const after = await snapshot()
      expect(after.checkpoint).toBe('lw1.9.00000000000000')
      expect(after.records).toEqual(
        [
          `asked:${stamp(1).slice(0, 12)}::dirty`,
          `gone:${stamp(1).slice(0, 12)}:deleted:clean`,
          `mine:${stamp(1).slice(0, 12)}::dirty`,
          ...fresh.map((uid) => `${uid}:${stamp(3).slice(0, 12)}::clean`),
          `old:${stamp(2).slice(0, 12)}::clean`,
        ].sort(),
      )
      expect(result).toMatchObject({ evicted: ['moved'] })
      // What live queries patch from: every record the page named, as stored now.
      expect(result.states.get('moved')).toBeUndefined()
      expect(result.states.has('moved')).toBe(true)
      expect(result.states.get('old')).toMatchObject({ row: { title: 'newer', done: true }, dirty: false })
      expect(result.states.get('new07')).toMatchObject({ row: { title: 'new07' } })
      expect([...result.states.keys()].sort()).toEqual(['asked', 'gone', 'moved', ...fresh, 'old'].sort())
      await store.close()
    })
  }
})
