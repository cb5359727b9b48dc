// Scheduling: one run per scope at a time, a request during a run schedules exactly one more, runs of
// overlapping scopes take turns (B13), and transient failures wait for the runtime's backoff (time moves
// only with runtime.advance).
import { describe, expect, it } from 'vitest'
import { createScheduler } from '../../src/sync/scheduler.js'
import { createHarness, deferred, drain, page, query } from './fixture.js'

const noEvents = { onIdle: () => undefined, onUnheldRunEnded: () => undefined }

describe('scheduler', () => {
  it('coalesces: requests during a run share it and schedule exactly one more', async () => {
    const gate = deferred()
    const h = createHarness(async (request, i) => {
      if (i === 0) await gate.promise
      return page(request)
    })
    const scheduler = createScheduler(h.ctx, noEvents)
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    const first = scheduler.requestSync(entry)
    await drain()
    const during = [scheduler.requestSync(entry), scheduler.requestSync(entry), scheduler.requestSync(entry)]
    expect(during.every((p) => p === first)).toBe(true)
    expect(scheduler.busy()).toBe(true)
    gate.resolve()
    await Promise.all([first, ...during])
    expect(h.requests.length).toBe(2)
    expect(scheduler.busy()).toBe(false)
  })

  it('retries a transient failure only after the backoff delay', async () => {
    const h = createHarness((request, i) => (i === 0 ? { ok: false, error: { code: 'TRANSIENT', message: 'busy' } } : page(request)))
    const scheduler = createScheduler(h.ctx, noEvents)
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    const run = scheduler.requestSync(entry)
    await drain()
    expect(h.requests.length).toBe(1)
    await h.runtime.advance(99) // baseMs 100, no jitter
    expect(h.requests.length).toBe(1)
    await h.runtime.advance(1)
    await run
    expect(h.requests.length).toBe(2)
    expect(h.reports.length).toBe(1)
  })

  it('gives up waiting when the connection is lost, and reports a permanent error once without retrying', async () => {
    const h = createHarness(() => ({ ok: false, error: { code: 'TRANSIENT', message: 'busy' } }))
    const scheduler = createScheduler(h.ctx, noEvents)
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    const run = scheduler.requestSync(entry)
    await drain()
    h.ctx.state.connected = false
    scheduler.wakeWaiting()
    await expect(run).rejects.toMatchObject({ code: 'TRANSIENT' })
    expect(h.runtime.pendingTimers()).toBe(0)
    expect(h.errors).toEqual([]) // offline is not an error to report

    h.ctx.state.connected = true
    h.handler = () => ({ ok: false, error: { code: 'FORBIDDEN', message: 'no' } })
    await expect(scheduler.requestSync(entry)).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(h.errors).toEqual(['FORBIDDEN'])
    expect(h.runtime.pendingTimers()).toBe(0)
  })

  it('drops a checkpoint the server cannot read and reconciles in full', async () => {
    const h = createHarness((request, i) => (i === 0 ? { ok: false, error: { code: 'CHECKPOINT_INVALID', message: 'bad' } } : page(request)))
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    await h.deps.store.transaction('readwrite', (tx) =>
      tx.putScope({ key: entry.key, table: 'todos', where: {}, checkpoint: 'lw1.1.00000000000000', fullCursor: null, syncedAt: null }),
    )
    await createScheduler(h.ctx, noEvents).requestSync(entry)
    expect(h.requests.map((r) => [r.checkpoint, r.full !== undefined])).toEqual([
      ['lw1.1.00000000000000', false],
      [null, true],
    ])
  })

  it('tells the driver when the last run ends and when a run of an unheld scope ends', async () => {
    const h = createHarness()
    const seen: string[] = []
    const scheduler = createScheduler(h.ctx, { onIdle: () => seen.push('idle'), onUnheldRunEnded: (e) => seen.push(`unheld:${e.key}`) })
    const entry = h.ctx.registry.acquire(query({}), 'q').entry
    const run = scheduler.requestSync(entry)
    entry.holders.clear()
    await run
    expect(seen).toEqual(['idle', `unheld:${entry.key}`])
  })

  it('runs overlapping scopes one at a time, a disjoint one meanwhile, and lets go of the turn during a backoff (B13)', async () => {
    const held = deferred()
    const h = createHarness(async (request) => {
      if (request.where['priority'] === 1) {
        await held.promise
        return { ok: false, error: { code: 'TRANSIENT', message: 'busy' } }
      }
      return page(request)
    })
    const scheduler = createScheduler(h.ctx, noEvents)
    const one = h.ctx.registry.acquire(query({ priority: 1 }), 'a').entry
    const both = h.ctx.registry.acquire(query({ priority: { in: [1, 2] } }), 'b').entry
    const two = h.ctx.registry.acquire(query({ priority: 2 }), 'c').entry
    const three = h.ctx.registry.acquire(query({ priority: 3 }), 'd').entry
    const runs = [one, both, two, three].map((entry) => scheduler.requestSync(entry))
    await drain()
    // `both` overlaps `one`, whose request is in flight; `two` overlaps only `both`, which came first;
    // `three` overlaps nothing.
    expect(h.requests.map((r) => r.where)).toEqual([{ priority: 1 }, { priority: 3 }])
    held.resolve()
    await drain()
    // `one` waits for its backoff without its turn: the others go, in order.
    expect(h.requests.map((r) => r.where)).toEqual([{ priority: 1 }, { priority: 3 }, { priority: { in: [1, 2] } }, { priority: 2 }])
    h.handler = (request) => page(request)
    await h.runtime.advance(100)
    await Promise.all(runs)
    expect(h.requests).toHaveLength(5)
  })
})
