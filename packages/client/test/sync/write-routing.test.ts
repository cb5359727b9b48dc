// Write routing: local writes reach the server at once (or after the debounce, in runtime time), through
// the scopes that cover them, or a push-only scope when no scope of the table is held; they are pushed
// without a pull (`pull: false`) and coalesce while a push is in flight.
import { describe, expect, it } from 'vitest'
import { createSyncDriver } from '../../src/sync/driver.js'
import { createHarness, deferred, drain, get, page, put, query, todo, type Harness } from './fixture.js'

/** A driver holding `{}` on a harness without debounce, its first sync (which stores a checkpoint) done. */
async function synced(h: Harness) {
  const driver = createSyncDriver(h.deps)
  driver.acquire(query({}), 'q')
  driver.setConnected(true)
  await drain()
  expect(h.requests).toHaveLength(1)
  return driver
}

describe('write routing', () => {
  it('waits for the debounce, then syncs once for several writes', async () => {
    const h = createHarness()
    const driver = createSyncDriver(h.deps)
    driver.acquire(query({}), 'q')
    driver.setConnected(true)
    await drain()
    const before = h.requests.length
    await put(h, todo('a', 1, { dirty: true, acknowledged: false }))
    driver.afterWrite(['todos'])
    driver.afterWrite(['todos'])
    await h.runtime.advance(49)
    expect(h.requests.length).toBe(before)
    await h.runtime.advance(1)
    await drain()
    expect(h.requests.length).toBe(before + 1)
    expect(h.requests.at(-1)!.push.map((r) => r.uid)).toEqual(['a'])
    driver.stop()
  })

  it('pushes a record no held scope matches through the first held scope', async () => {
    const h = createHarness()
    const driver = createSyncDriver(h.deps)
    const open = query({ done: false })
    driver.acquire(open, 'q')
    driver.setConnected(true)
    await drain()
    await put(h, { ...todo('moved', 1, { dirty: true, acknowledged: false }), row: { title: 'moved', done: true } })
    driver.afterWrite(['todos'])
    await h.runtime.advance(50)
    await drain()
    expect(h.requests.at(-1)).toMatchObject({ where: { done: false }, push: [{ uid: 'moved' }] })
    driver.stop()
  })

  it('pushes through a stored scope (push-only, no subscription) when no scope of the table is held', async () => {
    const h = createHarness()
    const driver = createSyncDriver(h.deps)
    const q = query({ done: false })
    await h.deps.store.transaction('readwrite', (tx) => tx.putScope({ key: q.key, table: 'todos', where: q.where, checkpoint: 'lw1.1.00000000000000', fullCursor: null, syncedAt: null }))
    driver.setConnected(true)
    await put(h, todo('a', 1, { dirty: true }))
    driver.afterWrite(['todos'])
    await h.runtime.advance(50)
    await drain()
    expect(h.requests).toHaveLength(1)
    expect(h.requests[0]).toMatchObject({ checkpoint: 'lw1.1.00000000000000', push: [{ uid: 'a' }] })
    expect(h.requests[0]!.subscription).toBeUndefined()
    driver.stop()
  })

  it('routes a push lost with one scope\'s request to the scope that carries the record since (I9)', async () => {
    // `moved` matches no held scope when it is written, so `{ done: false }` pushes it; its request is lost
    // while `{ done: true }` is acquired. The first scope's retry leaves `moved` out (another held scope
    // matches it now): unless the lost push is routed again, nothing ever pushes it.
    const lost = deferred()
    const h = createHarness(async (request) => {
      if (request.push.some((r) => r.uid === 'moved') && request.where['done'] === false) {
        await lost.promise
        return { ok: false, error: { code: 'TRANSIENT', message: 'the answer was lost' } }
      }
      return page(request)
    })
    const driver = createSyncDriver(h.deps)
    driver.acquire(query({ done: false }), 'open')
    driver.setConnected(true)
    await drain()
    await put(h, { ...todo('moved', 1, { dirty: true, acknowledged: false }), row: { title: 'moved', done: true } })
    driver.afterWrite(['todos'])
    await h.runtime.advance(50)
    await drain()
    driver.acquire(query({ done: true }), 'done')
    await drain()
    // In flight with the first scope's request: the new scope's run leaves it out.
    expect(h.requests.at(-1)).toMatchObject({ where: { done: true }, push: [] })
    lost.resolve()
    await drain()
    for (let i = 0; i < 10; i++) {
      await h.runtime.advance(1_000)
      await drain()
    }
    expect(h.requests.filter((r) => r.where['done'] === true && r.push.some((p) => p.uid === 'moved'))).toHaveLength(1)
    expect(await get(h, 'moved')).toMatchObject({ dirty: false, acknowledged: true })
    driver.stop()
  })

  it('without a debounce, pushes a local write at once and without a pull (pull: false), keeping the checkpoint', async () => {
    const h = createHarness((request) => page(request, request.pull === false ? { checkpoint: request.checkpoint } : {}), { debounceMs: 0 })
    const driver = await synced(h)
    await put(h, todo('a', 1, { dirty: true, acknowledged: false }))
    driver.afterWrite(['todos'])
    expect(h.runtime.pendingTimers()).toBe(0)
    await drain()
    expect(h.requests).toHaveLength(2)
    expect(h.requests[1]).toMatchObject({ checkpoint: 'lw1.1.00000000000000', pull: false, push: [{ uid: 'a' }] })
    expect(h.requests[1]!.full).toBeUndefined()
    const stored = await h.deps.store.transaction('readonly', (tx) => tx.getScope(query({}).key))
    expect(stored?.checkpoint).toBe('lw1.1.00000000000000')
    expect(await h.deps.store.transaction('readonly', (tx) => tx.dirtyRecords('todos'))).toEqual([])
    driver.stop()
  })

  it('writes made while a push is in flight go together in one more push', async () => {
    const answer = deferred()
    const h = createHarness(async (request, index) => {
      if (index === 1) await answer.promise
      return page(request)
    }, { debounceMs: 0 })
    const driver = await synced(h)
    await put(h, todo('a', 1, { dirty: true, acknowledged: false }))
    driver.afterWrite(['todos'])
    await drain()
    expect(h.requests).toHaveLength(2)
    for (const uid of ['b', 'c']) {
      await put(h, todo(uid, 2, { dirty: true, acknowledged: false }))
      driver.afterWrite(['todos'])
      await drain()
    }
    expect(h.requests).toHaveLength(2)
    answer.resolve()
    await drain()
    await drain()
    expect(h.requests).toHaveLength(3)
    expect(h.requests[2]).toMatchObject({ pull: false })
    expect(h.requests[2]!.push.map((r) => r.uid).sort()).toEqual(['b', 'c'])
    driver.stop()
  })

  it('a sync asked for while a push is in flight pulls after it', async () => {
    const answer = deferred()
    const h = createHarness(async (request, index) => {
      if (index === 1) await answer.promise
      return page(request)
    }, { debounceMs: 0 })
    const driver = await synced(h)
    await put(h, todo('a', 1, { dirty: true, acknowledged: false }))
    driver.afterWrite(['todos'])
    await drain()
    const all = driver.syncAll()
    answer.resolve()
    await all
    expect(h.requests).toHaveLength(3)
    expect(h.requests[1]!.pull).toBe(false)
    expect(h.requests[2]!.pull).toBeUndefined()
    driver.stop()
  })

  it('cancels a pending debounce on stop', async () => {
    const h = createHarness()
    const driver = createSyncDriver(h.deps)
    driver.setConnected(true)
    driver.afterWrite(['todos'])
    expect(h.runtime.pendingTimers()).toBe(1)
    driver.stop()
    expect(h.runtime.pendingTimers()).toBe(0)
  })
})
