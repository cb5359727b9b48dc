// Core's replica rules applied to the store: incoming states (A1–A4), removals (E1–E4) and E6.
import { describe, expect, it } from 'vitest'
import { assertStamp, validateWhere, type RecordState } from '@lastword/core'
import { applyIncoming, createRemovalMemory, removeUnlessHeld } from '../../src/sync/replica-store.js'
import { createHarness, get, put, stamp, todo, todosTable } from './fixture.js'

const state = (uid: string, ms: number, title = 'server'): RecordState => {
  const s = assertStamp(stamp(ms))
  return { uid, row: { title, done: false }, created_at: s, updated_at: s, deleted_at: null }
}
const noOtherScopes = async () => []

describe('replica store', () => {
  it('stores a newer state clean, keeps a newer dirty local write (trap 5), acknowledges the same write', async () => {
    const h = createHarness()
    await put(h, todo('old', 1, { dirty: true }), todo('mine', 9, { dirty: true }), todo('same', 5, { dirty: true, acknowledged: false }))
    await h.deps.store.transaction('readwrite', async (tx) => {
      expect(await applyIncoming(tx, 'todos', state('old', 2), h.ctx.removals, null)).toBe('applied')
      expect(await applyIncoming(tx, 'todos', state('mine', 3), h.ctx.removals, null)).toBe('kept')
      expect(await applyIncoming(tx, 'todos', state('same', 5), h.ctx.removals, null)).toBe('same')
    })
    expect(await get(h, 'old')).toMatchObject({ row: { title: 'server' }, dirty: false, acknowledged: true, table: 'todos' })
    expect(await get(h, 'mine')).toMatchObject({ row: { title: 'mine' }, dirty: true })
    expect(await get(h, 'same')).toMatchObject({ dirty: false, acknowledged: true })
  })

  it('removes a stale copy, remembers the version (E6), and keeps older states out until forgotten', async () => {
    const h = createHarness()
    const removals = createRemovalMemory()
    await put(h, todo('a', 1))
    await h.deps.store.transaction('readwrite', async (tx) => {
      expect(await removeUnlessHeld(tx, 'todos', 'a', assertStamp(stamp(5)), noOtherScopes, removals)).toBe(true)
      expect(await applyIncoming(tx, 'todos', state('a', 3), removals, null)).toBe('kept')
    })
    expect(removals.removedAt('todos', 'a')).toBe(stamp(5))
    expect(await get(h, 'a')).toBeUndefined()
    removals.clear()
    await h.deps.store.transaction('readwrite', (tx) => applyIncoming(tx, 'todos', state('a', 3), removals, null))
    expect(await get(h, 'a')).toBeDefined()
  })

  it('keeps a dirty copy, a newer copy, and a same-version copy another scope matches (E1, E3, E4)', async () => {
    const h = createHarness()
    await put(h, todo('dirty', 1, { dirty: true }), todo('newer', 9), todo('shared', 5), todo('alone', 5))
    const v5 = assertStamp(stamp(5))
    const others = async () => [validateWhere({ title: 'shared' }, todosTable)]
    await h.deps.store.transaction('readwrite', async (tx) => {
      expect(await removeUnlessHeld(tx, 'todos', 'dirty', v5, others, h.ctx.removals)).toBe(false)
      expect(await removeUnlessHeld(tx, 'todos', 'newer', v5, others, h.ctx.removals)).toBe(false)
      expect(await removeUnlessHeld(tx, 'todos', 'missing', v5, others, h.ctx.removals)).toBe(false)
      expect(await removeUnlessHeld(tx, 'todos', 'shared', v5, others, h.ctx.removals)).toBe(false)
      expect(await removeUnlessHeld(tx, 'todos', 'alone', v5, others, h.ctx.removals)).toBe(true)
    })
    expect(await get(h, 'dirty')).toBeDefined()
    expect(await get(h, 'newer')).toBeDefined()
    expect(await get(h, 'shared')).toBeDefined()
    expect(await get(h, 'alone')).toBeUndefined()
    // The eviction E1 kept against the dirty copy is remembered: its push's answer, if applied and older,
    // removes the copy (P10, B29); a clean copy kept as newer (E3) leaves nothing to remember.
    expect(h.ctx.removals.removedAt('todos', 'dirty')).toBe(v5)
    expect(h.ctx.removals.removedAt('todos', 'newer')).toBeUndefined()
  })
})
