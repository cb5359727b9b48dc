/**
 * A sync page's two server times — `receivedAt` taken before any work, `answeredAt` when the page is
 * built — bracket the whole handling, a slow `authorize` included, so the client's four-timestamp offset
 * (core's `clockSample`) leaves the handling out (T22).
 */
import { clockSample } from '@lastword/core'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import type { Authorize } from '../../src/types.js'
import { sqliteHarness, type TestDb } from '../fixtures/db.js'
import { createTestClock, live, principal, request, stamp, todo, type TestClock } from './helpers.js'

let t: TestDb
let engine: Engine
let clock: TestClock
// Each call to authorize "takes" 150 ms of the server's clock.
const authorize: Authorize = () => {
  clock.ms += 150
  return true
}

beforeEach(async () => {
  t = await sqliteHarness.open()
  clock = createTestClock()
  engine = createEngine({ db: t.db, tables: { todos: { table: t.todos, serverColumns: { tenant: () => 'A' } } }, authorize, now: () => clock.now() })
  await engine.migrate()
})
afterEach(async () => {
  await engine.close()
  await t.close()
})

it('receivedAt is taken before authorize and answeredAt after: the handling drops out of the sample', async () => {
  const A = principal('alice', 'A')
  for (const req of [request('todos'), request('todos', { push: [live('a', stamp(2), todo())] }), request('todos', { checkpoint: 'lw1.0.00000000000000' })]) {
    const start = clock.ms
    const page = await engine.sync(A, req)
    expect(page.receivedAt).toBe(start)
    expect(page.answeredAt).toBe(clock.ms)
    expect(page.answeredAt - page.receivedAt).toBeGreaterThanOrEqual(150)
    // A client 1,000 ms behind, 5 ms each way: the sample is exact whatever the handling took.
    const t0 = start - 1_000 - 5
    const t3 = page.answeredAt - 1_000 + 5
    expect(clockSample(t0, page.receivedAt, page.answeredAt, t3)).toEqual({ offset: 1_000, delay: 10, at: t3 })
  }
})
