/**
 * The engine on better-sqlite3: the behaviour suite, plus what only SQLite shows — writers serialise
 * on the one write lock (T12's SQLite form), WAL with synchronous=FULL.
 */
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/index.js'
import { sqliteHarness, type TestDb } from '../fixtures/db.js'
import { Replica, createTestClock, expectCode, live, principal, request, stamp, todo } from './helpers.js'
import { runEngineSuite, tenantAuthorize } from './suite.js'

runEngineSuite('better-sqlite3', sqliteHarness, { runScale: 1 })

describe('engine on better-sqlite3: writers', () => {
  let t: TestDb
  let engine: Engine
  const A = principal('alice', 'A')
  const open = async (extra: Partial<EngineOptions> = {}) => {
    engine = createEngine({
      db: t.db,
      tables: { todos: { table: t.todos, serverColumns: { tenant: (p) => (p?.['tenant'] as string | undefined) ?? 'system' } } },
      authorize: tenantAuthorize,
      now: createTestClock().now,
      ...extra,
    })
    await engine.migrate()
  }

  beforeEach(async () => {
    t = await sqliteHarness.open()
  })
  afterEach(async () => {
    await engine.close()
    await t.close()
  })

  it('runs in WAL with synchronous=FULL, as the app set them, and changes no setting of its connection', async () => {
    const client = (t.db as unknown as { $client: Database.Database }).$client
    client.pragma('busy_timeout = 1234')
    await open()
    await engine.sync(A, request('todos', { push: [live('a', stamp(1), todo())] }))
    expect(client.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(client.pragma('synchronous', { simple: true })).toBe(2)
    expect(client.pragma('busy_timeout', { simple: true })).toBe(1234)
  })

  it('migrate() refuses a database without WAL or synchronous=FULL, saying how to fix it, and changes nothing', async () => {
    const client = (t.db as unknown as { $client: Database.Database }).$client
    for (const [pragma, value] of [['synchronous', 'NORMAL'], ['journal_mode', 'DELETE']] as const) {
      client.pragma(`${pragma} = ${value}`)
      const error = await expectCode(open(), 'BAD_REQUEST')
      expect((error as unknown as Error).message).toContain("db.pragma('journal_mode = WAL')")
      expect((error as unknown as Error).message).toContain("db.pragma('synchronous = FULL')")
      expect(client.pragma(pragma, { simple: true })).not.toBe(pragma === 'synchronous' ? 2 : 'wal')
      expect(client.prepare(`SELECT name FROM sqlite_master WHERE name = 'lastword_meta'`).get()).toBeUndefined()
      client.pragma('journal_mode = WAL')
      client.pragma('synchronous = FULL')
    }
    await open()
    expect(client.prepare(`SELECT name FROM sqlite_master WHERE name = 'lastword_meta'`).get()).toEqual({ name: 'lastword_meta' })
  })

  it('T12 (SQLite): concurrent pushes serialise; revs follow commit order', async () => {
    const log: string[] = []
    await open({
      hooks: {
        beforeVersionRow: ({ uids }) => void log.push(`take ${uids.join()}`),
        afterVersionRow: ({ uids, lastRev }) => void log.push(`took ${uids.join()} ${lastRev}`),
      },
    })
    await Promise.all(Array.from({ length: 10 }, (_, i) => engine.sync(A, request('todos', { push: [live(`w${i}`, stamp(1), todo())] }))))
    // Never two transactions between taking and committing at once.
    for (let i = 0; i < log.length; i += 2) {
      expect(log[i]?.startsWith('take')).toBe(true)
      expect(log[i + 1]?.startsWith(`took ${log[i]?.slice(5)}`)).toBe(true)
    }
    expect(log.filter((l) => l.startsWith('took')).map((l) => Number(l.split(' ')[2]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  it('a write that lands while a push awaits authorize makes that push start over, and both apply', async () => {
    const debug: string[] = []
    await open({
      // An authorize that awaits (a membership lookup, say) lets another push commit in between.
      authorize: async (req) => {
        await new Promise((r) => setTimeout(r, 5))
        return tenantAuthorize(req)
      },
      logger: { debug: (_: object, msg?: string) => void debug.push(String(msg)), info: () => undefined, warn: () => undefined, error: () => undefined },
    })
    await engine.sync(A, request('todos', { push: [live('hot', stamp(1), todo())] }))
    const pages = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        engine.sync(A, request('todos', { where: { priority: i }, push: [live('hot', stamp(10 + i), todo({ title: `w${i}` }))] })),
      ),
    )
    expect(pages.every((p) => p.outcomes[0]?.status !== 'rejected')).toBe(true)
    expect(debug.some((m) => m.includes('authorizing again'))).toBe(true)
    expect((await engine.service('todos').findUnique('hot'))?.['title']).toBe('w4')
  })

  it('a writer of another process holding the write lock makes a push TRANSIENT (unacknowledged), never half-applied', async () => {
    // How long a writer waits for another process's write lock is the app's setting of its connection.
    ;(t.db as unknown as { $client: Database.Database }).$client.pragma('busy_timeout = 20')
    await open()
    await engine.sync(A, request('todos', { push: [live('a', stamp(1), todo())] }))
    const replica = new Replica(engine, A, 'todos')
    await replica.full()
    const other = new Database((t.db as unknown as { $client: Database.Database }).$client.name)
    other.exec('BEGIN IMMEDIATE')
    const before = await t.snapshot()
    await expectCode(engine.sync(A, request('todos', { push: [live('b', stamp(2), todo())] })), 'TRANSIENT')
    // Readers are not blocked by the writer (WAL).
    expect((await replica.pull())[0]?.mode).toBe('incremental')
    other.exec('COMMIT')
    other.close()
    expect(await t.snapshot()).toBe(before)
    const page = await engine.sync(A, request('todos', { push: [live('b', stamp(2), todo())] }))
    expect(page.outcomes).toEqual([{ uid: 'b', status: 'applied' }])
  })
})
