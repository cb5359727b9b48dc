/**
 * T26 (docs/test-matrix.md): two server instances on one database and no cluster adapter — whatever
 * instance B commits (a service write, a client's push) reaches a socket subscribed on instance A by
 * realtime, in rev order, each record once; A's own commits still go out from memory, once. The feed's
 * timers are manual: A learns of B's commits from the database's signal only (SQLite: the data version
 * poll, advanced by hand; PostgreSQL: the version row's NOTIFY), never from a backstop check — and,
 * with the signal off, from the backstop check alone, when its interval has passed.
 */
import type { RealtimeEvent } from '@lastword/core'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { todo } from '../engine/helpers.js'
import { collectChanges, record, syncOk } from '../transport/harness.js'
import { DEFAULT_CHECK_INTERVAL_MS, DEFAULT_POLL_INTERVAL_MS } from '../../src/feed/index.js'
import { WAIT, manualTimers, startInstance, type Instance, type ManualTimers, type SharedDb } from './fixture.js'

/** Every record a socket was told, in order, and the events' rev spans. */
export function told(events: readonly RealtimeEvent[]): { uids: string[]; spans: Array<[number, number]> } {
  return {
    uids: events.flatMap((e) => [...e.rows.map((r) => String(r[0])), ...e.tombstones.map((t) => String(t[0])), ...e.evict.map(([uid]) => uid)]),
    spans: events.map((e) => [e.firstRev, e.rev]),
  }
}

/** Spans strictly increasing and disjoint: in rev order, no rev twice. */
export function expectInOrder(spans: Array<[number, number]>): void {
  for (let i = 0; i < spans.length; i++) {
    const [first, last] = spans[i] as [number, number]
    expect(first).toBeLessThanOrEqual(last)
    if (i > 0) expect(first).toBeGreaterThan((spans[i - 1] as [number, number])[1])
  }
}

export function twoInstanceSuite(open: () => Promise<SharedDb>): void {
  let shared: SharedDb
  let a: Instance | undefined
  let b: Instance | undefined
  let timersA: ManualTimers
  beforeEach(async () => {
    shared = await open()
    timersA = manualTimers()
  })
  afterEach(async () => {
    await a?.close()
    await b?.close()
    a = b = undefined
    await shared.close()
  })

  /** What wakes A up on another connection's commit: SQLite's poll (by hand); PostgreSQL's NOTIFY needs nothing. */
  const signal = (): void => {
    if (shared.dialect === 'sqlite') timersA.advance(DEFAULT_POLL_INTERVAL_MS)
  }

  it('delivers what another instance commits (a service write, a client push) to a socket here, in rev order, once', async () => {
    a = await startInstance(shared, 'a', { feed: { timers: timersA } })
    b = await startInstance(shared, 'b', { feed: { timers: manualTimers() } })
    const reader = await a.socket('reader')
    const events = collectChanges(reader)
    await syncOk(reader, { table: 'todos', subscription: 'all' })
    // A's feed has its baseline (the version row when it started): what comes after is its to deliver.
    await expect.poll(() => a?.sync.feedStats().since ?? null, WAIT).not.toBeNull()

    const service = b.sync.service('todos')
    const first = await service.create({ title: 'from B, a service write', done: false })
    signal()
    await expect.poll(() => told(events).uids, WAIT).toEqual([first])

    const writer = await b.socket('writer')
    const pushed = record(todo({ title: 'from B, a client push' }))
    const also = record(todo({ title: 'in the same push', done: true }))
    await syncOk(writer, { table: 'todos', push: [pushed, also] })
    await service.update(first, { title: 'edited on B' })
    signal()
    await expect.poll(() => told(events).uids, WAIT).toEqual([first, pushed.uid, also.uid, first])

    // A's own commit goes out from memory, and is not read back from the log.
    const before = a.sync.feedStats()
    const local = await a.sync.service('todos').create({ title: 'from A itself', done: false })
    await expect.poll(() => told(events).uids, WAIT).toEqual([first, pushed.uid, also.uid, first, local])
    expect(a.sync.feedStats().local).toBe(before.local + 1)

    // Later signals and passes add nothing: each record once, in rev order.
    signal()
    const marker = await service.create({ title: 'marker', done: false })
    signal()
    await expect.poll(() => told(events).uids, WAIT).toEqual([first, pushed.uid, also.uid, first, local, marker])
    expectInOrder(told(events).spans)
    expect(a.sync.feedStats().log).toBe(5)
    const rows = events.flatMap((e) => e.rows)
    expect(rows.find((r) => r[0] === also.uid)?.slice(3, 5)).toEqual(['A', 'in the same push'])
  })

  it('without the database signal (no LISTEN, no poll), the backstop check delivers what another instance committed', async () => {
    a = await startInstance(shared, 'a', { feed: { timers: timersA, listen: false, pollIntervalMs: 3_600_000 } })
    b = await startInstance(shared, 'b', { feed: { timers: manualTimers() } }, false)
    const reader = await a.socket('reader')
    const events = collectChanges(reader)
    await syncOk(reader, { table: 'todos', subscription: 'all' })
    await expect.poll(() => a?.sync.feedStats().since ?? null, WAIT).not.toBeNull()
    const uid = await b.sync.service('todos').create({ title: 'from B', done: false })
    timersA.advance(DEFAULT_CHECK_INTERVAL_MS - 1)
    await a.sync.engine.currentRev() // a round trip: a pass started by mistake would have read by now
    expect(told(events).uids).toEqual([])
    timersA.advance(1)
    await expect.poll(() => told(events).uids, WAIT).toEqual([uid])
  })
}
