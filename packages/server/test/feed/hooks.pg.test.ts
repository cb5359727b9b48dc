/**
 * T27 on PostgreSQL (`hooks.suite.ts`), and a hook declared on two servers of one schema: one delivers
 * it at a time (the hook's advisory lock), and each change is delivered once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/index.js'
import { requirePostgres } from '../fixtures/db.js'
import { WAIT, manualTimers, pgShared, startInstance, type Instance, type SharedDb } from './fixture.js'
import { hookSuite } from './hooks.suite.js'

const available = await requirePostgres()

describe.skipIf(!available)('change hooks on PostgreSQL', () => {
  hookSuite(pgShared)
})

describe.skipIf(!available)('a change hook on two servers of one database', () => {
  let shared: SharedDb
  const running: Instance[] = []
  beforeEach(async () => {
    shared = await pgShared()
  })
  afterEach(async () => {
    for (const instance of running.splice(0)) await instance.close()
    await shared.close()
  })

  it('runs on one server at a time (advisory lock), each change once', async () => {
    const got: Array<{ node: string; changes: ChangeEvent[] }> = []
    let inFlight = 0
    let overlapped = false
    let release: (() => void) | undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const handler = (node: string) => async (changes: readonly ChangeEvent[]) => {
      inFlight++
      if (inFlight > 1) overlapped = true
      got.push({ node, changes: [...changes] })
      await gate
      inFlight--
    }
    const timersA = manualTimers()
    const timersB = manualTimers()
    const a = await startInstance(shared, 'a', { feed: { timers: timersA }, onChange: { audit: handler('a') } }, false)
    running.push(a)
    const b = await startInstance(shared, 'b', { feed: { timers: timersB }, onChange: { audit: handler('b') } }, false)
    running.push(b)
    const uid = await a.sync.service('todos').create({ title: 'one', done: false })
    await expect.poll(() => got.length, WAIT).toBe(1)
    // Both servers were told (NOTIFY, and the backstop on B): the other finds the hook's lock held.
    await b.sync.service('todos').create({ title: 'two', done: false })
    timersB.advance(2_000)
    timersA.advance(2_000)
    const held = () => (a.sync.feedStats().hooks['audit']?.heldElsewhere ?? 0) + (b.sync.feedStats().hooks['audit']?.heldElsewhere ?? 0)
    await expect.poll(held, WAIT).toBeGreaterThan(0)
    expect(got.length).toBe(1)
    release?.()
    await expect.poll(() => got.flatMap((g) => g.changes).length, WAIT).toBe(2)
    expect(overlapped).toBe(false)
    const revs = got.flatMap((g) => g.changes.map((c) => c.rev))
    expect(new Set(revs).size).toBe(revs.length)
    expect(got[0]?.changes[0]?.uid).toBe(uid)
  })
})
