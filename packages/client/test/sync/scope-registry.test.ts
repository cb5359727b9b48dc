// The scope registry: held scopes and their holders, push-only scopes, and the other scopes E4 consults.
import { describe, expect, it } from 'vitest'
import { createHarness, query } from './fixture.js'

describe('scope registry', () => {
  it('counts holders: the first acquire is `first`, the last release drops the entry (not while it runs)', () => {
    const { ctx } = createHarness()
    const q = query({ done: false })
    expect(ctx.registry.acquire(q, 'a').first).toBe(true)
    const { entry, first } = ctx.registry.acquire(q, 'b')
    expect(first).toBe(false)
    expect(entry.subscriptionId).toMatch(/^s[0-9a-f]{16}$/)
    expect(ctx.registry.release(q.key, 'a')).toBeNull()
    entry.running = Promise.resolve()
    expect(ctx.registry.release(q.key, 'b')).toBeNull() // running: forgotten when the run ends
    expect(ctx.registry.acquired()).toEqual([entry])
    ctx.registry.forgetIfUnheld(entry)
    expect(ctx.registry.acquired()).toEqual([])
    entry.running = null
    ctx.registry.acquire(q, 'c')
    expect(ctx.registry.release(q.key, 'c')).not.toBeNull()
  })

  it('lists the held scopes of a table by key, and finds them by subscription', () => {
    const { ctx } = createHarness()
    const b = ctx.registry.acquire(query({ done: true }), 'x').entry
    const a = ctx.registry.acquire(query({ done: false }), 'x').entry
    expect(ctx.registry.heldOf('todos').map((e) => e.key)).toEqual([a.key, b.key].sort())
    expect(ctx.registry.heldOf('other')).toEqual([])
    expect(ctx.registry.bySubscription(b.subscriptionId)).toBe(b)
  })

  it('lists the entries of a table with a run in progress, held or released while running', () => {
    const { ctx } = createHarness()
    const held = ctx.registry.acquire(query({ done: true }), 'x').entry
    const idle = ctx.registry.acquire(query({ done: false }), 'x').entry
    const released = ctx.registry.acquire(query({ title: 'p' }), 'x').entry
    held.running = Promise.resolve()
    released.running = Promise.resolve()
    expect(ctx.registry.release(released.key, 'x')).toBeNull() // running: forgotten when its run ends
    expect(ctx.registry.runningOf('todos')).toEqual([held, released])
    expect(ctx.registry.runningOf('todos')).not.toContain(idle)
    expect(ctx.registry.runningOf('other')).toEqual([])
  })

  it('gives the other scopes of a table (held and stored), without the one asked about', async () => {
    const h = createHarness()
    const mine = query({ done: false })
    const held = query({ title: 'x' })
    const stored = query({ done: true })
    h.ctx.registry.acquire(mine, 'q')
    h.ctx.registry.acquire(held, 'q')
    await h.deps.store.transaction('readwrite', async (tx) => {
      for (const q of [mine, held, stored]) await tx.putScope({ key: q.key, table: 'todos', where: q.where, checkpoint: null, fullCursor: null, syncedAt: null })
      await tx.putScope({ key: 'unknown', table: 'gone', where: {}, checkpoint: null, fullCursor: null, syncedAt: null })
    })
    const others = await h.deps.store.transaction('readonly', (tx) => h.ctx.registry.otherScopes(tx, 'todos', mine.key))
    expect(others).toEqual([held.scope, stored.scope])
  })
})
