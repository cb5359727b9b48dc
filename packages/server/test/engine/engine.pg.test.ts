/**
 * The engine on PostgreSQL (`PG_URL`, default the local server; a fresh schema per test): the
 * behaviour suite, plus what needs real concurrent connections — late commits (T12) and row-lock
 * contention with re-authorization inside the transaction.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine, type EngineHooks } from '../../src/engine/index.js'
import { pgHarness, requirePostgres, type TestDb } from '../fixtures/db.js'
import { Replica, createTestClock, deferred, live, principal, request, stamp, todo } from './helpers.js'
import { runEngineSuite, tenantAuthorize } from './suite.js'

const available = await requirePostgres()

if (available) runEngineSuite('postgres', pgHarness(10), { runScale: 0.5 })

describe.skipIf(!available)('engine on postgres: late commits (T12)', () => {
  let t: TestDb
  let engine: Engine
  const A = principal('alice', 'A')
  const hooks: EngineHooks = {}
  const debug: string[] = []
  const logger = { debug: (_: object, msg?: string) => void debug.push(String(msg)), info: () => undefined, warn: () => undefined, error: () => undefined }

  beforeEach(async () => {
    t = await pgHarness(6).open()
    engine = createEngine({
      db: t.db,
      tables: { todos: { table: t.todos, serverColumns: { tenant: (p) => (p?.['tenant'] as string | undefined) ?? 'system' } } },
      authorize: tenantAuthorize,
      now: createTestClock().now,
      hooks,
      logger,
    })
    await engine.migrate()
  })
  afterEach(async () => {
    delete hooks.beforeVersionRow
    delete hooks.afterVersionRow
    await engine.close()
    await t.close()
  })

  // Through the services: a sync's push would hold the overlap lock of its scope, and the pull below
  // overlaps it (trap 6); the version row is what this test is about.
  const push = (uid: string, ms: number) => engine.service('todos').push([live(uid, stamp(ms), { ...todo({ title: uid }), tenant: 'A' })])
  const waitFor = async (condition: () => boolean) => {
    for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5))
    expect(condition()).toBe(true)
  }

  it('a transaction that took its rev and stalls holds back the others; the next pull sees it', async () => {
    const replica = new Replica(engine, A, 'todos')
    await replica.full()
    for (let i = 0; i < 20; i++) {
      const gate = deferred()
      let stalled = false
      hooks.afterVersionRow = async ({ uids }) => {
        if (uids.includes(`late${i}`)) {
          stalled = true
          await gate.promise
        }
      }
      const a = push(`late${i}`, 1 + i)
      await waitFor(() => stalled)
      let bDone = false
      const b = push(`early${i}`, 1 + i).then(() => {
        bDone = true
      })
      await new Promise((r) => setTimeout(r, 10))
      // B cannot commit before A: the version row orders them.
      expect(bDone).toBe(false)
      const [during] = await replica.pull()
      expect(during?.rows).toEqual([])
      gate.resolve()
      await Promise.all([a, b])
      const after = await replica.pull()
      expect(after.flatMap((p) => p.rows.map((r) => r[0])).sort()).toEqual([`early${i}`, `late${i}`])
    }
  })

  it('a transaction that stalls before taking its rev commits with a later rev than one that overtook it', async () => {
    const replica = new Replica(engine, A, 'todos')
    await replica.full()
    for (let i = 0; i < 20; i++) {
      const gate = deferred()
      let stalled = false
      hooks.beforeVersionRow = async ({ uids }) => {
        if (uids.includes(`late${i}`)) {
          stalled = true
          await gate.promise
        }
      }
      const a = push(`late${i}`, 1 + i)
      await waitFor(() => stalled)
      await push(`early${i}`, 1 + i)
      // The client pulls B and stores its checkpoint while A is still open.
      const during = await replica.pull()
      expect(during.flatMap((p) => p.rows.map((r) => r[0]))).toEqual([`early${i}`])
      gate.resolve()
      await a
      const after = await replica.pull()
      expect(after.flatMap((p) => p.rows.map((r) => r[0]))).toEqual([`late${i}`])
    }
  })

  it('writers on the same uids under contention re-authorize inside the transaction and never lose a write', async () => {
    await push('hot', 1)
    // Disjoint scopes: the overlap lock lets all 30 run at once, so they meet on the row lock.
    const writers = Array.from({ length: 30 }, (_, i) =>
      engine.sync(
        i % 2 === 0 ? A : principal('anna', 'A'),
        request('todos', { where: { priority: i }, push: [live('hot', stamp(10 + i, 0, (i + 1).toString(16).padStart(16, '0')), todo({ title: `w${i}` }))] }),
      ),
    )
    const pages = await Promise.all(writers)
    expect(pages.every((p) => p.outcomes[0]?.status !== 'rejected')).toBe(true)
    expect((await engine.service('todos').findUnique('hot'))?.['title']).toBe('w29')
    expect(debug.filter((m) => m.includes('authorizing again')).length).toBeGreaterThan(0)
  })
})
