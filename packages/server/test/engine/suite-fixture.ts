/**
 * The engine behaviour suite's fixture (suite.ts and its theme files, run on every dialect): a fresh
 * database and engine per test — the `todos` table with its tenant as a server column, `notes` — the
 * suite's authorization, its principals, and the helpers its tests share.
 */
import type { PushOutcome, WireRecord, Where } from '@lastword/core'
import { afterEach, beforeEach } from 'vitest'
import { createEngine, type Engine, type EngineHooks, type EngineOptions } from '../../src/engine/index.js'
import type { Authorize, CommittedChange, Limits, RequestContext } from '../../src/types.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import { createTestClock, principal, request, type TestClock } from './helpers.js'

/** How heavy the randomised tests are on this dialect. */
export interface SuiteOptions {
  /** Multiplies the number of fast-check runs (PostgreSQL round trips cost more than SQLite's). */
  runScale: number
}

/** The suite's authorization: a principal reads its tenant (or `readWhere`) and writes rows of its tenant. */
export const tenantAuthorize: Authorize = (req) => {
  const p = req.principal
  if (p['blocked'] === true) return false
  if (req.op === 'read') return (p['readWhere'] as Where | undefined) ?? { tenant: p['tenant'] as string }
  return [req.before, req.after].every((row) => row === null || row['tenant'] === p['tenant'])
}

export const A = principal('alice', 'A')
export const A2 = principal('anna', 'A')
export const B = principal('bob', 'B')

/** What a test of the suite works with; `t`, `clock`, `engine` and `changes` are the current test's. */
export type EngineFixture = ReturnType<typeof useEngineFixture>

/**
 * Opens a database and an engine before each test of the enclosing `describe` and closes them after.
 * Call it inside that `describe`; tests read the current ones through the returned object.
 */
export function useEngineFixture(harness: DbHarness, options: SuiteOptions) {
  const runs = (n: number): number => Math.max(1, Math.round(n * options.runScale))
  let t: TestDb
  let clock: TestClock
  let engine: Engine
  let changes: CommittedChange[][]

  const makeEngine = async (extra: { hooks?: EngineHooks; limits?: Partial<Limits>; authorize?: Authorize | null } = {}): Promise<Engine> => {
    await engine?.close()
    const opts: EngineOptions = {
      db: t.db,
      tables: {
        todos: { table: t.todos, serverColumns: { tenant: (p) => (p?.['tenant'] as string | undefined) ?? 'system' } },
        notes: t.notes,
      },
      now: clock.now,
      ...(extra.authorize === null ? {} : { authorize: extra.authorize ?? tenantAuthorize }),
      ...(extra.hooks === undefined ? {} : { hooks: extra.hooks }),
      ...(extra.limits === undefined ? {} : { limits: extra.limits }),
    }
    engine = createEngine(opts)
    changes = []
    engine.onCommit((c) => changes.push([...c]))
    await engine.migrate()
    return engine
  }

  beforeEach(async () => {
    t = await harness.open()
    clock = createTestClock()
    await makeEngine()
  })

  afterEach(async () => {
    await engine.close()
    await t.close()
  })

  /** Raw SQL with `?` placeholders on either dialect. */
  const q = (text: string, ...params: unknown[]) => {
    let i = 0
    return t.raw(t.dialect === 'postgres' ? text.replace(/\?/g, () => `$${++i}`) : text, params)
  }
  const metaOf = async (uid: string, table = 'todos') => (await q('SELECT * FROM lastword_meta WHERE tbl = ? AND uid = ?', table, uid))[0]
  const stateRev = async () => Number((await q('SELECT rev FROM lastword_state'))[0]?.['rev'])
  const push = async (ctx: RequestContext, records: WireRecord[], table = 'todos'): Promise<PushOutcome[]> =>
    (await engine.sync(ctx, request(table, { push: records }))).outcomes
  const todos = () => engine.service('todos')

  return {
    harness,
    /** The number of fast-check runs on this dialect for `n` on SQLite. */
    runs,
    get t(): TestDb {
      return t
    },
    get clock(): TestClock {
      return clock
    },
    get engine(): Engine {
      return engine
    },
    /** What the engine's commit listeners got, one batch per commit. */
    get changes(): CommittedChange[][] {
      return changes
    },
    /** Replaces the engine with one of other hooks, limits or authorization on the same database. */
    makeEngine,
    q,
    metaOf,
    stateRev,
    push,
    todos,
  }
}
