/**
 * T26 on PostgreSQL: two pools on one schema, each serving as its own instance (`two-instances.suite.ts`);
 * and the feed's LISTEN connection terminated (`pg_terminate_backend`): it is re-established, and what
 * was committed while it was down is read from the change log — nothing missed, nothing twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { requirePostgres } from '../fixtures/db.js'
import { collectChanges, syncOk } from '../transport/harness.js'
import { WAIT, manualTimers, pgShared, startInstance, type Instance, type ManualTimers, type SharedDb } from './fixture.js'
import { expectInOrder, told, twoInstanceSuite } from './two-instances.suite.js'

const available = await requirePostgres()

describe.skipIf(!available)('the change feed, two instances on one PostgreSQL schema', () => {
  twoInstanceSuite(pgShared)
})

describe.skipIf(!available)("the change feed's LISTEN connection", () => {
  let shared: SharedDb
  let a: Instance | undefined
  let b: Instance | undefined
  let timersA: ManualTimers
  beforeEach(async () => {
    shared = await pgShared()
    timersA = manualTimers()
  })
  afterEach(async () => {
    await a?.close()
    await b?.close()
    a = b = undefined
    await shared.close()
  })

  const listeners = async (): Promise<number[]> =>
    (await shared.raw(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, [shared.appName('a')])).map((r) => Number(r['pid']))

  it('is re-established after pg_terminate_backend, and what was committed meanwhile arrives, once', async () => {
    a = await startInstance(shared, 'a', { feed: { timers: timersA } })
    b = await startInstance(shared, 'b', { feed: { timers: manualTimers() } }, false)
    const reader = await a.socket('reader')
    const events = collectChanges(reader)
    await syncOk(reader, { table: 'todos', subscription: 'all' })
    await expect.poll(() => a?.sync.feedStats().since ?? null, WAIT).not.toBeNull()
    await expect.poll(listeners, WAIT).toHaveLength(1)
    const service = b.sync.service('todos')
    const before = await service.create({ title: 'before', done: false })
    await expect.poll(() => told(events).uids, WAIT).toEqual([before])

    const [pid] = await listeners()
    expect(await shared.raw('SELECT pg_terminate_backend($1) AS ok', [pid])).toEqual([{ ok: true }])
    // The feed noticed: its reconnection waits on the timers (the first backoff step).
    await expect.poll(() => timersA.pending(), WAIT).toContain(100)
    const during = await service.create({ title: 'while A was deaf', done: false })
    const also = await service.create({ title: 'also while deaf', done: true })
    // Deaf, and no backstop: nothing arrives until the connection is back.
    expect(told(events).uids).toEqual([before])

    timersA.advance(100)
    await expect.poll(listeners, WAIT).toHaveLength(1)
    expect((await listeners())[0]).not.toBe(pid)
    // Back: the feed read the version row again and delivered what it missed from the change log.
    await expect.poll(() => told(events).uids, WAIT).toEqual([before, during, also])
    // And it hears the notifications again.
    const after = await service.create({ title: 'after', done: false })
    await expect.poll(() => told(events).uids, WAIT).toEqual([before, during, also, after])
    expectInOrder(told(events).spans)
    expect(timersA.pending()).not.toContain(100)
  })
})
