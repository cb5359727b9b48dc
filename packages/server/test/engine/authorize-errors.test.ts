/**
 * A throwing `authorize` is handled the same on a read and on a write: the request fails, nothing is
 * written; a thrown LastwordError keeps its code, anything else is INTERNAL — logged with its cause,
 * answered with a message that never echoes the request.
 */
import { LastwordError } from '@lastword/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/index.js'
import type { Authorize, Logger } from '../../src/types.js'
import { sqliteHarness, type TestDb } from '../fixtures/db.js'
import { createTestClock, expectCode, live, principal, request, stamp, todo } from './helpers.js'

const SECRET = 'secret-title-from-the-request'

describe('authorize that throws', () => {
  let t: TestDb
  let engine: Engine
  let thrown: unknown
  let failOn: 'read' | 'write'
  const errors: Array<{ obj: object; msg?: string }> = []
  const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (obj, msg) => void errors.push({ obj, msg }) }
  const authorize: Authorize = (req) => {
    if ((req.op === 'read') === (failOn === 'read')) throw thrown
    return true
  }

  beforeEach(async () => {
    errors.length = 0
    t = await sqliteHarness.open()
    engine = createEngine({ db: t.db, tables: { todos: { table: t.todos, serverColumns: { tenant: () => 'A' } } }, authorize, logger, now: createTestClock().now })
    await engine.migrate()
    await engine.service('todos').push([live('seed', stamp(1), todo())])
  })
  afterEach(async () => {
    await engine.close()
    await t.close()
  })

  const A = principal('alice', 'A')
  const push = () => engine.sync(A, request('todos', { push: [live('a', stamp(2), todo({ title: SECRET })), live('b', stamp(2), todo())] }))

  it('an oversized push is refused by the engine (its limits are checked once, there) before authorize is asked', async () => {
    const calls: string[] = []
    const limited = createEngine({
      db: t.db,
      tables: { todos: { table: t.todos, serverColumns: { tenant: () => 'A' } } },
      authorize: (req) => (calls.push(req.op), true),
      limits: { maxPushRecords: 1 },
      now: createTestClock().now,
    })
    const error = await expectCode(limited.sync(A, request('todos', { push: [live('x', stamp(2), todo()), live('y', stamp(2), todo())] })), 'TOO_LARGE')
    expect(error.details).toEqual({ limit: 1, got: 2 })
    expect(calls).toEqual([])
    await limited.close()
  })

  for (const op of ['read', 'write'] as const) {
    it(`on a ${op}: a thrown LastwordError keeps its code; the request fails and writes nothing`, async () => {
      failOn = op
      thrown = new LastwordError('QUOTA_EXCEEDED', 'The tenant is over its quota')
      const before = await t.snapshot()
      const error = await expectCode(push(), 'QUOTA_EXCEEDED')
      expect((error as unknown as Error).message).toBe('The tenant is over its quota')
      expect(await t.snapshot()).toBe(before)
      expect(errors).toEqual([])
    })

    it(`on a ${op}: anything else is INTERNAL, logged with its cause, never echoing the request`, async () => {
      failOn = op
      thrown = new TypeError(`cannot read tenant of ${SECRET}`)
      const before = await t.snapshot()
      const error = await expectCode(push(), 'INTERNAL')
      expect((error as unknown as Error).message).toBe('Authorization failed on the server')
      expect(JSON.stringify((error as unknown as LastwordError).toWire())).not.toContain(SECRET)
      expect(await t.snapshot()).toBe(before)
      expect(errors).toHaveLength(1)
      expect(errors[0]?.msg).toBe('lastword: authorize threw')
      expect((errors[0]?.obj as { err?: unknown }).err).toBe(thrown)
    })
  }
})
