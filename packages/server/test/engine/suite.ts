/**
 * The engine's behaviour suite, run on every dialect (CONTRIBUTING.md: one suite, every implementation):
 * `engine.test.ts` runs it on better-sqlite3, `engine.pg.test.ts` on PostgreSQL.
 *
 * Laws held here, end to end through `sync` and the services:
 * - every conflict rule of core's table decides a push exactly as `ruleFor` says (R1–R9);
 * - a push is one transaction; a poison record is rejected and the rest apply (S10, I10);
 * - a push delivered 1–3 times, in any order, or resent after a lost ack, changes nothing more (T03, T04, I5);
 * - no older write resurrects a tombstone (T09, I4); concurrent pushers converge on the greatest stamp (T13, I2, I3);
 * - a client learns nothing outside its effective scope, not even uids (I8); move-outs evict; retention resyncs;
 * - SQL filtering agrees with core's `matches`;
 * - every bad input is a typed error and leaves the database unchanged (S02–S05).
 */
import {
  CONFLICT_TABLE,
  LastwordError,
  formatStamp,
  matches,
  validateWhere,
  versionOf,
  type IncomingKind,
  type Order,
  type PushOutcome,
  type Scope,
  type Stamp,
  type StoredKind,
  type SyncPage,
  type WireRecord,
  type Where,
} from '@lastword/core'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine, type EngineHooks, type EngineOptions } from '../../src/engine/index.js'
import type { Authorize, CommittedChange, Limits, RequestContext } from '../../src/types.js'
import type { DbHarness, TestDb } from '../fixtures/db.js'
import {
  NODE_A,
  NODE_B,
  Replica,
  T0,
  createTestClock,
  deferred,
  expectCode,
  fcParams,
  live,
  pageText,
  principal,
  request,
  stamp,
  todo,
  tomb,
  type TestClock,
} from './helpers.js'

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

const A = principal('alice', 'A')
const A2 = principal('anna', 'A')
const B = principal('bob', 'B')

/** Runs the engine behaviour suite against one database harness. */
export function runEngineSuite(name: string, harness: DbHarness, options: SuiteOptions = { runScale: 1 }): void {
  const runs = (n: number): number => Math.max(1, Math.round(n * options.runScale))

  describe(`engine on ${name}`, () => {
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

    describe('setup', () => {
      it('migrate() is idempotent and starts at rev 0', async () => {
        await engine.migrate()
        await engine.migrate()
        const state = await q('SELECT rev, horizon_rev FROM lastword_state')
        expect(state.map((r) => [Number(r['rev']), Number(r['horizon_rev'])])).toEqual([[0, 0]])
        expect(engine.dialect).toBe(harness.dialect)
      })

      it('derives descriptors from the Drizzle tables, server columns read-only, with their widths (S17)', () => {
        expect(engine.tables).toEqual([
          {
            name: 'todos',
            columns: [
              { name: 'tenant', type: 'text', nullable: false, writable: false },
              { name: 'title', type: 'text', nullable: false, writable: true },
              { name: 'done', type: 'boolean', nullable: false, writable: true },
              // PostgreSQL's integer is int4; SQLite's INTEGER holds any safe integer.
              { name: 'priority', type: 'integer', nullable: true, writable: true, ...(t.dialect === 'postgres' ? { bits: 32 } : {}) },
              { name: 'score', type: 'real', nullable: true, writable: true },
              { name: 'due', type: 'timestamp', nullable: true, writable: true },
              { name: 'tags', type: 'json', nullable: true, writable: true },
            ],
            schemaVersion: 1,
          },
          {
            name: 'notes',
            columns: [
              { name: 'tenant', type: 'text', nullable: false, writable: true },
              { name: 'body', type: 'text', nullable: false, writable: true },
            ],
            schemaVersion: 1,
          },
        ])
      })

      it('round-trips every column kind through a push and a pull', async () => {
        const row = todo({ title: 'é😀\tx', done: true, priority: -7, score: 0.1, due: '2024-02-29T23:59:59.999Z', tags: { a: [1, 'b', null], n: { x: true } } })
        expect(await push(A, [live('all', stamp(1), row)])).toEqual([{ uid: 'all', status: 'applied' }])
        const replica = new Replica(engine, A, 'todos')
        await replica.full()
        expect(replica.rows().get('all')).toEqual({ ...row, tenant: 'A' })
        expect(await todos().findUnique('all')).toEqual({ uid: 'all', ...row, tenant: 'A' })
      })
    })

    describe('conflict rules end to end (core CONFLICT_TABLE)', () => {
      const cases: Array<[StoredKind, IncomingKind, Order]> = []
      for (const s of ['absent', 'live', 'tombstone'] as const) {
        for (const i of ['live', 'tombstone'] as const) {
          for (const o of ['newer', 'equal', 'older'] as const) if (s !== 'absent' || o === 'newer') cases.push([s, i, o])
        }
      }
      it.each(cases)('stored %s, incoming %s, %s', async (stored, incoming, order) => {
        const uid = `${stored}-${incoming}-${order}`
        if (stored !== 'absent') await push(A, [live(uid, stamp(100), todo({ title: 'stored' }), stamp(50))])
        if (stored === 'tombstone') await push(A, [tomb(uid, stamp(150), stamp(50), stamp(100))])
        const storedVersion = stored === 'live' ? 100 : 150
        const v = order === 'newer' ? 300 : order === 'equal' ? storedVersion : 75
        const record = incoming === 'live' ? live(uid, stamp(v), todo({ title: 'incoming' }), stamp(10)) : tomb(uid, stamp(v), stamp(10), stamp(20))
        const before = await metaOf(uid)
        const revBefore = await stateRev()
        const rule = CONFLICT_TABLE[stored][incoming][order]
        const [outcome] = await push(A, [record])
        // R11: an equal version with other content (another row, or another kind) is no duplicate.
        const reused = rule.decision === 'noop' && !(stored === 'tombstone' && incoming === 'tombstone')
        if (reused) {
          expect(outcome).toMatchObject({ uid, status: 'rejected', error: { code: 'INVALID_STAMP' } })
        } else if (rule.decision === 'supersede') {
          expect(outcome).toMatchObject({ uid, status: 'superseded', rule: rule.id })
          const winner = (outcome as Extract<PushOutcome, { status: 'superseded' }>).winner
          expect(winner?.deleted_at ?? winner?.updated_at).toBe(stamp(storedVersion))
          expect(winner?.row).toEqual(stored === 'live' ? { ...todo({ title: 'stored' }), tenant: 'A' } : null)
        } else {
          expect(outcome).toEqual({ uid, status: 'applied' })
        }
        const after = await metaOf(uid)
        if (rule.decision === 'apply') {
          expect(await stateRev()).toBe(revBefore + 1)
          expect(after?.[incoming === 'live' ? 'updated_at' : 'deleted_at']).toBe(stamp(v))
          expect((await todos().findUnique(uid))?.['title'] ?? null).toBe(incoming === 'live' ? 'incoming' : null)
        } else {
          expect(await stateRev()).toBe(revBefore)
          expect(after).toEqual(before)
        }
      })

      it('R11: the same write at the stored version is applied again; other content at it is INVALID_STAMP', async () => {
        const same = live('r11', stamp(100), todo({ title: 'one' }), stamp(50))
        await push(A, [same])
        const before = await metaOf('r11')
        expect(await push(A, [same])).toEqual([{ uid: 'r11', status: 'applied' }])
        const [other] = await push(A, [live('r11', stamp(100), todo({ title: 'two' }), stamp(50))])
        expect(other).toMatchObject({ uid: 'r11', status: 'rejected', error: { code: 'INVALID_STAMP' } })
        expect(await metaOf('r11')).toEqual(before)
        expect((await todos().findUnique('r11'))?.['title']).toBe('one')
      })

      it('a tombstone keeps the last image of its row; a tombstone for an unknown uid has none', async () => {
        await push(A, [live('k', stamp(1), todo({ title: 'kept' }))])
        await push(A, [tomb('k', stamp(2), stamp(1))])
        expect(JSON.parse(String((await metaOf('k'))?.['image']))).toMatchObject({ title: 'kept', tenant: 'A' })
        expect(await todos().findUnique('k')).toBeNull()
        await push(A, [tomb('never', stamp(2), stamp(1))])
        expect((await metaOf('never'))?.['image']).toBeNull()
      })

      it('returns the winner only to a caller who may read it (V9)', async () => {
        await push(A, [live('w', stamp(100), todo({ title: 'secret', done: true }))])
        const narrow = principal('nina', 'A', { readWhere: { tenant: 'A', done: false } })
        const [hidden] = await push(narrow, [live('w', stamp(50), todo({ title: 'stale' }))])
        expect(hidden).toEqual({ uid: 'w', status: 'superseded', rule: CONFLICT_TABLE.live.live.older.id, winner: null })
        const [shown] = await push(A2, [live('w', stamp(50), todo({ title: 'stale' }))])
        expect((shown as Extract<PushOutcome, { status: 'superseded' }>).winner?.row).toMatchObject({ title: 'secret' })
      })
    })

    describe('push atomicity', () => {
      it('R10: an acknowledged record the server no longer knows is refused PURGED, never created; the rest apply', async () => {
        // Acknowledged at a point of this database's history: the evidence R12 asks for.
        const gone = { ...live('gone', stamp(50), todo({ title: 'purged since' })), acknowledged: true, knownAt: await engine.currentPoint() }
        const fresh = { ...live('fresh', stamp(50), todo({ title: 'offline create' })), acknowledged: false }
        const outcomes = await push(A, [gone, fresh])
        expect(outcomes[0]).toMatchObject({ uid: 'gone', status: 'rejected', error: { code: 'PURGED' } })
        expect(outcomes[1]).toEqual({ uid: 'fresh', status: 'applied' })
        expect(await metaOf('gone')).toBeUndefined()
        // Known to the server: the flag changes nothing.
        expect(await push(A, [{ ...live('fresh', stamp(60), todo({ title: 'edited' })), acknowledged: true }])).toEqual([{ uid: 'fresh', status: 'applied' }])
      })

      it('S10: one always-invalid record among 50 is rejected, the other 49 apply', async () => {
        const records = Array.from({ length: 50 }, (_, i) => live(`p${String(i).padStart(2, '0')}`, stamp(1 + i), todo({ title: `t${i}` })))
        ;(records[17] as WireRecord).row = todo({ title: 42 })
        const outcomes = await push(A, records)
        expect(outcomes.filter((o) => o.status === 'applied')).toHaveLength(49)
        expect(outcomes[17]).toMatchObject({ uid: 'p17', status: 'rejected', error: { code: 'INVALID_VALUE' } })
        expect((await todos().findMany({})).map((r) => r.uid)).toHaveLength(49)
        expect(await metaOf('p17')).toBeUndefined()
        // The queue drains: the corrected record is accepted next time.
        expect(await push(A, [live('p17', stamp(100), todo({ title: 'fixed' }))])).toEqual([{ uid: 'p17', status: 'applied' }])
      })

      it('S10: a row the database refuses (a CHECK constraint) is rejected alone', async () => {
        const records = Array.from({ length: 50 }, (_, i) => live(`d${String(i).padStart(2, '0')}`, stamp(1 + i), todo({ title: i === 33 ? 'x'.repeat(300) : `t${i}` })))
        const outcomes = await push(A, records)
        expect(outcomes.filter((o) => o.status === 'applied')).toHaveLength(49)
        expect(outcomes[33]).toMatchObject({ uid: 'd33', status: 'rejected', error: { code: 'INVALID_VALUE' } })
        expect(JSON.stringify(outcomes[33])).not.toContain('xxxx')
        expect(await todos().findMany({})).toHaveLength(49)
        expect(await metaOf('d33')).toBeUndefined()
        expect(changes.flat().map((c) => c.uid)).not.toContain('d33')
      })

      it('a transaction that fails writes nothing at all', async () => {
        await push(A, [live('before', stamp(1), todo())])
        await makeEngine({
          hooks: {
            beforeVersionRow: () => {
              throw new Error('boom')
            },
          },
        })
        const snapshot = await t.snapshot()
        await expectCode(push(A, [live('x1', stamp(2), todo()), live('x2', stamp(3), todo()), tomb('before', stamp(4), stamp(1))]), 'INTERNAL')
        expect(await t.snapshot()).toBe(snapshot)
        expect(changes).toEqual([])
      })

      it('commits in one transaction with revs in push order and tells onCommit listeners', async () => {
        const start = await stateRev()
        await push(A, [live('c2', stamp(1), todo()), live('c1', stamp(1), todo()), live('c2', stamp(5), todo({ title: 'again' }))])
        expect(changes).toHaveLength(1)
        const batch = changes[0] as CommittedChange[]
        expect(batch.map((c) => [c.uid, c.rev])).toEqual([
          ['c2', start + 1],
          ['c1', start + 2],
        ])
        expect(batch[0]).toMatchObject({ table: 'todos', before: null, after: { title: 'again', tenant: 'A' }, lastImage: null })
        await push(A, [tomb('c2', stamp(6), stamp(1), stamp(5))])
        expect(changes[1]?.[0]).toMatchObject({ uid: 'c2', before: { title: 'again' }, after: null, lastImage: { title: 'again' }, rev: start + 3 })
      })
    })

    describe('idempotency', () => {
      it('T03: a push delivered 1–3 times, interleaved, leaves the state of a single delivery', async () => {
        let run = 0
        const write = fc.record({ u: fc.integer({ min: 0, max: 3 }), ms: fc.integer({ min: 1, max: 40 }), dead: fc.boolean(), title: fc.string({ maxLength: 5 }) })
        await fc.assert(
          fc.asyncProperty(
            fc.array(write, { minLength: 1, maxLength: 10 }),
            fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 10, maxLength: 10 }),
            fc.array(fc.integer(), { minLength: 30, maxLength: 30 }),
            fc.integer({ min: 1, max: 4 }),
            async (writes, copies, order, batch) => {
              run++
              // Unique stamps per write (the counter): equal versions would be one write by definition.
              const records = writes.map((w, i) =>
                w.dead ? tomb(`r${run}u${w.u}`, stamp(w.ms, i + 1), stamp(0), stamp(0)) : live(`r${run}u${w.u}`, stamp(w.ms, i + 1), todo({ title: w.title }), stamp(0)),
              )
              const deliveries = records.flatMap((r, i) => Array.from({ length: copies[i] ?? 1 }, () => r))
              const keyed = deliveries.map((r, i) => ({ r, k: order[i % order.length] ?? 0, i })).sort((x, y) => x.k - y.k || x.i - y.i)
              for (let i = 0; i < keyed.length; i += batch) {
                const outcomes = await push(A, keyed.slice(i, i + batch).map((x) => x.r))
                expect(outcomes.every((o) => o.status !== 'rejected')).toBe(true)
              }
              // The model: the greatest version per uid.
              const model = new Map<string, WireRecord>()
              for (const r of records) {
                const m = model.get(r.uid)
                if (m === undefined || versionOf(r as never) > versionOf(m as never)) model.set(r.uid, r)
              }
              for (const [uid, r] of model) {
                const meta = await metaOf(uid)
                expect(meta?.['deleted_at'] ?? meta?.['updated_at']).toBe(versionOf(r as never))
                expect((await todos().findUnique(uid))?.['title'] ?? null).toBe(r.row === null ? null : (r.row['title'] as string))
              }
              // Once more, everything: nothing changes, no rev is taken.
              const revBefore = await stateRev()
              const snap = await t.snapshot()
              await push(A, records)
              expect(await stateRev()).toBe(revBefore)
              expect(await t.snapshot()).toBe(snap)
            },
          ),
          fcParams('T03 duplicate delivery', runs(25)),
        )
      })

      it('T04: a push committed whose ack was lost, sent again, changes nothing', async () => {
        const records = [live('l1', stamp(1), todo()), live('l2', stamp(2), todo({ done: true })), tomb('l3', stamp(3), stamp(1))]
        const first = await engine.sync(A, request('todos', { push: records }))
        expect(first.outcomes.every((o) => o.status === 'applied')).toBe(true)
        const snap = await t.snapshot()
        const notified = changes.length
        // The client never saw `first`: it resends the same request.
        const again = await engine.sync(A, request('todos', { push: records }))
        expect(again.outcomes).toEqual(first.outcomes)
        expect(await t.snapshot()).toBe(snap)
        expect(changes).toHaveLength(notified)
      })
    })

    describe('tombstones', () => {
      it('T09: stale edits, stale re-creates and later updates never resurrect a newer tombstone', async () => {
        let run = 0
        const op = fc.record({ ms: fc.integer({ min: 1, max: 30 }), kind: fc.constantFrom('create', 'update', 'delete') })
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 8 }), fc.array(fc.nat(), { minLength: 16, maxLength: 16 }), async (ops, order) => {
            run++
            const uid = `t9r${run}`
            const writes = ops.map((o, i) => {
              const at = stamp(o.ms, i + 1, NODE_B)
              if (o.kind === 'delete') return tomb(uid, at, stamp(0), stamp(0))
              // A stale re-create carries a fresh created_at; an update keeps the original one.
              return live(uid, at, todo({ title: `${o.kind}${i}` }), o.kind === 'create' ? at : stamp(0))
            })
            const deliveries = [...writes, ...writes.filter((_, i) => (order[i] ?? 0) % 2 === 0)]
              .map((w, i) => ({ w, k: order[i % order.length] ?? 0, i }))
              .sort((x, y) => x.k - y.k || x.i - y.i)
            let newestTomb: string | null = null
            for (const { w } of deliveries) {
              await todos().push([w])
              if (w.deleted_at !== null && (newestTomb === null || w.deleted_at > newestTomb)) {
                const meta = await metaOf(uid)
                if (meta?.['deleted_at'] === w.deleted_at) newestTomb = w.deleted_at
              }
              // I4: once a tombstone stamped T is accepted, nothing live with a stamp < T shows.
              const row = await todos().findUnique(uid)
              const meta = await metaOf(uid)
              if (newestTomb !== null && row !== null) expect(String(meta?.['updated_at']) > newestTomb).toBe(true)
            }
            const max = writes.reduce((m, w) => (versionOf(w as never) > versionOf(m as never) ? w : m))
            const meta = await metaOf(uid)
            expect(meta?.['deleted_at'] ?? meta?.['updated_at']).toBe(versionOf(max as never))
            expect((await todos().findUnique(uid)) === null).toBe(max.deleted_at !== null)
          }),
          fcParams('T09 tombstones vs stale edits', runs(40)),
        )
      })
    })

    describe('concurrency', () => {
      it('T13: 20 pushers on the same 10 uids converge on the greatest stamp; no acknowledged write is lost', async () => {
        for (let round = 0; round < 3; round++) {
          const uids = Array.from({ length: 10 }, (_, i) => `c${round}u${i}`)
          const pushers = Array.from({ length: 20 }, (_, p) => {
            const node = (p + 1).toString(16).padStart(16, '0')
            return uids.map((uid) => {
              const ms = 1 + Math.floor(Math.random() * 1000)
              return Math.random() < 0.2 ? tomb(uid, stamp(ms, 1, node), stamp(0, 0, node)) : live(uid, stamp(ms, 0, node), todo({ title: `p${p}` }), stamp(0, 0, node))
            })
          })
          const acknowledged: WireRecord[] = []
          let retries = 0
          await Promise.all(
            pushers.map(async (records, p) => {
              const ctx = p % 2 === 0 ? A : A2
              for (;;) {
                try {
                  // Disjoint scopes (a priority each), so the overlap lock lets the pushes run at once
                  // and they meet on the rows themselves.
                  const page = await engine.sync(ctx, request('todos', { where: { priority: p }, push: records }))
                  expect(page.outcomes.every((o) => o.status !== 'rejected')).toBe(true)
                  acknowledged.push(...records)
                  return
                } catch (error) {
                  // A transient failure is unacknowledged: the client sends it again.
                  if (!(error instanceof LastwordError) || error.code !== 'TRANSIENT') throw error
                  retries++
                }
              }
            }),
          )
          expect(retries).toBeLessThan(20)
          for (const uid of uids) {
            const writes = acknowledged.filter((r) => r.uid === uid)
            const max = writes.reduce((m, w) => (versionOf(w as never) > versionOf(m as never) ? w : m))
            const meta = await metaOf(uid)
            const version = String(meta?.['deleted_at'] ?? meta?.['updated_at'])
            expect(version).toBe(versionOf(max as never))
            for (const w of writes) expect(version >= versionOf(w as never)).toBe(true)
            const row = await todos().findUnique(uid)
            expect(row?.['title'] ?? null).toBe(max.row === null ? null : max.row['title'])
          }
        }
      })

      it('T14: overlapping scopes are serialised, disjoint ones run in parallel', async () => {
        const gate = deferred()
        const log: Array<{ type: string; id: number; scope: Scope }> = []
        const has = (scope: Scope, column: string, value: unknown) => scope.some((c) => c.column === column && 'value' in c && c.value === value)
        let holder: number | null = null
        await makeEngine({
          hooks: {
            onScopeLock: async (e) => {
              log.push({ type: e.type, id: e.id, scope: e.scope })
              if (e.type === 'acquire' && holder === null && has(e.scope, 'done', false) && has(e.scope, 'tenant', 'A')) {
                holder = e.id
                await gate.promise
              }
            },
          },
        })
        const first = engine.sync(A, request('todos', { where: { done: false } }))
        await new Promise((r) => setTimeout(r, 20))
        expect(engine.activeScopes('todos')).toHaveLength(1)
        // { priority: 1, tenant: A } overlaps { done: false, tenant: A }: it waits.
        const overlapping = engine.sync(A, request('todos', { where: { priority: 1 } }))
        // Disjoint: done differs, or the tenant does. Both finish while the first still holds its lock.
        await Promise.all([engine.sync(A, request('todos', { where: { done: true } })), engine.sync(B, request('todos', { where: { done: false } }))])
        const waiting = log.filter((e) => e.type === 'wait')
        expect(waiting).toHaveLength(1)
        expect(has(waiting[0]?.scope ?? [], 'priority', 1)).toBe(true)
        expect(log.filter((e) => e.type === 'acquire')).toHaveLength(3)
        expect(log.filter((e) => e.type === 'release')).toHaveLength(2)
        expect(engine.activeScopes('todos')).toHaveLength(1)
        gate.resolve()
        await Promise.all([first, overlapping])
        const releaseFirst = log.findIndex((e) => e.type === 'release' && e.id === holder)
        const acquireOverlap = log.findIndex((e) => e.type === 'acquire' && e.id === waiting[0]?.id)
        expect(releaseFirst).toBeGreaterThanOrEqual(0)
        expect(acquireOverlap).toBeGreaterThan(releaseFirst)
        expect(engine.activeScopes('todos')).toEqual([])
      })
    })

    describe('pulls', () => {
      it('incremental: a move-out is evicted, a move-in arrives, a deletion goes only where the record was', async () => {
        await push(A, [live('m', stamp(1), todo({ done: false })), live('stay', stamp(1), todo({ done: false }))])
        const open = new Replica(engine, A, 'todos', { done: false })
        const closed = new Replica(engine, A2, 'todos', { done: true })
        await open.full()
        await closed.full()
        expect([...open.rows().keys()]).toEqual(['m', 'stay'])
        await todos().update('m', { done: true })
        const [out] = await open.pull()
        // The eviction carries the version found outside the scope: the client compares it with its own (E1–E4).
        const moved = await metaOf('m')
        expect(out).toMatchObject({ mode: 'incremental', evict: [['m', moved?.['deleted_at'] ?? moved?.['updated_at']]], rows: [], tombstones: [] })
        const [into] = await closed.pull()
        expect(into?.rows.map((r) => r[0])).toEqual(['m'])
        await todos().delete('m')
        const [gone] = await closed.pull()
        expect(gone?.tombstones.map((r) => r[0])).toEqual(['m'])
        const [nothing] = await open.pull()
        expect(pageText([nothing as SyncPage])).not.toContain('"m"')
        expect([...open.rows().keys()]).toEqual(['stay'])
        expect([...closed.rows().keys()]).toEqual([])
      })

      it('a client learns nothing about records outside its scope, not even uids (I8)', async () => {
        const a = new Replica(engine, A, 'todos')
        await a.full()
        const secret = (i: number) => `bsecret${i}`
        await push(B, [live(secret(1), stamp(1), todo({ title: 'B-private' })), live(secret(2), stamp(1), todo({ title: 'B-private' }))])
        await push(B, [live(secret(1), stamp(2), todo({ title: 'B-private', done: true })), tomb(secret(2), stamp(3), stamp(1))])
        await push(B, [tomb(secret(3), stamp(3), stamp(1))])
        // A record of A moved to B by the app: A evicts it, and then hears nothing more about it.
        await push(A, [live('moved', stamp(1), todo({ title: 'was A' }))])
        await a.pull()
        await todos().update('moved', { tenant: 'B', title: 'B-private' })
        const [evicted] = await a.pull()
        expect(evicted?.evict.map(([uid]) => uid)).toEqual(['moved'])
        await todos().delete('moved')
        const later = await a.pull()
        // A full sync paged one row at a time: B's uids sort between A's, yet no cursor names them.
        await push(A, [live('a0', stamp(1), todo()), live('c0', stamp(1), todo()), live('zz', stamp(1), todo())])
        await todos().push([tomb('bsecret4', stamp(9), stamp(1))])
        const fresh = new Replica(engine, A, 'todos', {}, 1)
        const full = await fresh.full()
        expect(full.length).toBeGreaterThanOrEqual(3)
        expect([...fresh.rows().keys()]).toEqual(['a0', 'c0', 'zz'])
        for (const leak of ['bsecret', 'B-private']) expect(pageText([...a.pages, ...full])).not.toContain(leak)
        // After its eviction the moved record is never mentioned again, nor to a newcomer.
        expect(pageText([...later, ...full])).not.toContain('moved')
        expect(pageText(later)).not.toContain('"received":1')
        // A's push to B's uid is refused, and B's row is not echoed.
        const [refused] = await push(A, [live(secret(1), stamp(50), todo({ title: 'takeover' }))])
        expect(refused).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } })
        expect(JSON.stringify(refused)).not.toContain('B-private')
        const [stale] = await push(A, [live(secret(1), stamp(1, 5), todo({ title: 'x' }))])
        expect(JSON.stringify(stale)).not.toContain('B-private')
      })

      it('retention: a checkpoint below the horizon resyncs, and the purged record leaves the client', async () => {
        await push(A, [live('x', stamp(1), todo()), live('y', stamp(1), todo())])
        const replica = new Replica(engine, A, 'todos')
        await replica.full()
        await todos().delete('x')
        clock.ms += 10 * 86_400_000
        await push(A, [live('z', stamp(10 * 86_400_000), todo())])
        const purged = await engine.purge({ olderThanMs: 86_400_000 })
        expect(purged.tombstones).toBe(1)
        expect(purged.changes).toBeGreaterThanOrEqual(3)
        expect(await metaOf('x')).toBeUndefined()
        const [resync] = await replica.pull()
        expect(resync).toMatchObject({ mode: 'resync', reason: 'retention', checkpoint: null })
        // An offline create the server never acknowledged is pushed, not dropped.
        replica.records.set('offline', { created_at: stamp(5), updated_at: stamp(5), deleted_at: null, row: todo(), acknowledged: false, knownAt: null })
        const [full] = await replica.full()
        expect(full).toMatchObject({ mode: 'full', purged: ['x'], push: ['offline'] })
        expect([...replica.rows().keys()]).toEqual(['offline', 'y', 'z'])
        const [next] = await replica.pull()
        expect(next?.mode).toBe('incremental')
        // Purging again with nothing older does nothing.
        expect(await engine.purge({ olderThanMs: 86_400_000 })).toMatchObject({ tombstones: 0, changes: 0, horizonRev: purged.horizonRev })
      })

      it('resyncs when the scope changed or the checkpoint is from the future', async () => {
        const replica = new Replica(engine, A, 'todos', { done: false })
        await replica.full()
        const token = replica.checkpoint as string
        const other = await engine.sync(A, request('todos', { where: { done: true }, checkpoint: token }))
        expect(other).toMatchObject({ mode: 'resync', reason: 'scope-changed' })
        // Authorization narrowed: same filter, another effective scope.
        const narrowed = await engine.sync(principal('alice', 'A', { readWhere: { tenant: 'A', priority: 1 } }), request('todos', { where: { done: false }, checkpoint: token }))
        expect(narrowed).toMatchObject({ mode: 'resync', reason: 'scope-changed' })
        const future = token.replace(/^(lw2\.[0-9a-f]{16}\.[0-9a-f]{16})\.\d+\./, '$1.999.')
        expect(await engine.sync(A, request('todos', { where: { done: false }, checkpoint: future }))).toMatchObject({ mode: 'resync', reason: 'checkpoint-ahead' })
        expect(await engine.sync(A, request('todos', { where: { done: false } }))).toMatchObject({ mode: 'resync', reason: 'no-checkpoint' })
      })

      it('full reconciliation: every list of the plan', async () => {
        const rows = {
          add: todo(),
          upd: todo({ title: 'new' }),
          out: todo({ done: true }),
          cnewer: todo(),
          cdel: todo(),
          same: todo(),
        }
        await push(A, [
          live('add', stamp(10), rows.add),
          live('upd', stamp(20), rows.upd),
          live('del', stamp(10), todo()),
          live('out', stamp(20), rows.out),
          live('cnewer', stamp(10), rows.cnewer),
          live('cdel', stamp(10), rows.cdel),
          live('same', stamp(10), rows.same),
        ])
        await push(A, [tomb('del', stamp(30), stamp(10))])
        await push(B, [tomb('btomb', stamp(30), stamp(10))])
        // Acknowledged at a point of this database's history: an unknown uid was purged (R12).
        const at = await engine.currentPoint()
        const entries: Array<[string, Stamp, boolean, boolean, string | null]> = [
          ['btomb', stamp(5), false, true, at],
          ['cdel', stamp(40), true, true, at],
          ['cnewer', stamp(40), false, true, at],
          ['del', stamp(10), false, true, at],
          ['gone', stamp(10), false, true, at],
          ['offline', stamp(10), false, false, null],
          ['out', stamp(10), false, true, at],
          ['same', stamp(10), false, true, at],
          ['upd', stamp(10), false, true, at],
        ]
        const page = await engine.sync(A, request('todos', { where: { done: false }, full: { cursor: null, entries, complete: true } }))
        expect(page.mode).toBe('full')
        expect(page.rows.map((r) => r[0])).toEqual(['add', 'upd'])
        expect(page.rows[1]).toEqual(['upd', stamp(20), stamp(20), 'A', 'new', false, null, null, null, null])
        expect(page.tombstones).toEqual([['del', stamp(10), stamp(10), stamp(30)]])
        // btomb is B's: A's entry for it answers as for a uid never seen (purged, I13): neither B's record
        // nor its deletion nor its version is disclosed. `out` left A's filter but stays readable: evicted.
        expect(page.evict.map(([uid]) => uid)).toEqual(['out'])
        // …each with the server's version, which the client compares with its own.
        for (const [uid, version] of page.evict) expect(version).toBe(versionOf((await metaOf(uid)) as never))
        expect(page.push).toEqual(['cdel', 'cnewer', 'offline'])
        expect(page.purged).toEqual(['btomb', 'gone'])
        expect(page.hasMore).toBe(false)
        expect(page.checkpoint).toMatch(/^lw2\.[0-9a-f]{16}\.[0-9a-f]{16}\.\d+\.[0-9a-f]{14}$/)
      })

      it('pages both modes with hasMore and cursors, and converges', async () => {
        await push(A, Array.from({ length: 10 }, (_, i) => live(`pg${i}`, stamp(1), todo({ title: `v1-${i}` }))))
        const replica = new Replica(engine, A, 'todos', {}, 3)
        const pages = await replica.full(4)
        expect(pages.length).toBeGreaterThanOrEqual(4)
        expect(pages.slice(0, -1).every((p) => p.hasMore && p.cursor !== null && p.checkpoint === null)).toBe(true)
        expect(pages.at(-1)).toMatchObject({ hasMore: false, cursor: null })
        expect(replica.rows().size).toBe(10)
        // Again, with the client holding everything and sending its entries in pages of 4.
        const again = await replica.full(4)
        expect(again.every((p) => p.rows.length === 0 && p.evict.length === 0)).toBe(true)
        await push(A, Array.from({ length: 7 }, (_, i) => live(`pg${i}`, stamp(2), todo({ title: `v2-${i}` }))))
        const incremental = await replica.pull()
        expect(incremental.map((p) => p.rows.length)).toEqual([3, 3, 1])
        const revs = incremental.map((p) => Number(String(p.checkpoint).split('.')[1]))
        expect([...revs].sort((x, y) => x - y)).toEqual(revs)
        expect([...replica.rows().values()].map((r) => r['title'])).toEqual([...Array.from({ length: 7 }, (_, i) => `v2-${i}`), 'v1-7', 'v1-8', 'v1-9'])
      })

      it('writes during a full sync are picked up by the next incremental pull', async () => {
        await push(A, Array.from({ length: 6 }, (_, i) => live(`w${i}`, stamp(1), todo())))
        const replica = new Replica(engine, A, 'todos', {}, 2)
        const first = await engine.sync(A, request('todos', { pageSize: 2, full: { cursor: null, entries: [], complete: true } }))
        replica.apply(first)
        await push(A, [live('w0', stamp(5), todo({ title: 'changed behind' })), live('w9', stamp(5), todo())])
        let cursor = first.cursor
        for (;;) {
          const page = await engine.sync(A, request('todos', { pageSize: 2, full: { cursor, entries: [], complete: true } }))
          replica.apply(page)
          if (!page.hasMore) {
            replica.checkpoint = page.checkpoint
            break
          }
          cursor = page.cursor
        }
        await replica.pull()
        expect(replica.rows().get('w0')?.['title']).toBe('changed behind')
        expect(replica.rows().has('w9')).toBe(true)
      })
    })

    describe('the server clock', () => {
      it('accepted stamps advance it; services stamp after them', async () => {
        const ahead = formatStamp({ ms: clock.ms + 30_000, counter: 7, node: NODE_A })
        await push(A, [live('hlc', ahead, todo())])
        expect(String(engine.clock.last()) > ahead).toBe(true)
        await todos().update('hlc', { title: 'by the app' })
        const meta = await metaOf('hlc')
        expect(String(meta?.['updated_at']) > ahead).toBe(true)
      })
    })

    describe('services', () => {
      it('create, find, update and delete as system, tombstone-aware', async () => {
        const uid = await todos().create({ title: 'svc' })
        expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(await todos().findUnique(uid)).toMatchObject({ uid, title: 'svc', done: false, tenant: 'system' })
        const mine = await todos().create({ uid: 'mine', title: 'tenant given', tenant: 'A' })
        expect(await todos().findUnique(mine)).toMatchObject({ tenant: 'A' })
        await todos().update(uid, { done: true })
        expect(await todos().findMany({ done: true })).toMatchObject([{ uid, done: true }])
        await todos().delete(uid)
        await todos().delete(uid)
        expect(await todos().findUnique(uid)).toBeNull()
        expect((await metaOf(uid))?.['deleted_at']).not.toBeNull()
        await expectCode(todos().update(uid, { title: 'x' }), 'NOT_FOUND')
        await expectCode(todos().delete('nope'), 'NOT_FOUND')
        await expectCode(todos().create({ title: 7 }), 'INVALID_VALUE')
        await expectCode(todos().update(mine, JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown>), 'FORBIDDEN_KEY')
        expect(changes.flat().map((c) => c.uid)).toEqual([uid, mine, uid, uid])
        expect(() => engine.service('nope')).toThrow(LastwordError)
      })
    })

    describe('bad input: typed errors, nothing written', () => {
      const assertUnchanged = async (run: () => Promise<unknown>, code: string) => {
        const before = await t.snapshot()
        await expectCode(run(), code)
        expect(await t.snapshot()).toBe(before)
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
      }
      const dirty = [live('dirty', stamp(1), todo())]

      it('requests refused as a whole write nothing', async () => {
        await push(A, [live('seed', stamp(1), todo())])
        await assertUnchanged(() => engine.sync(A, request('nope', { push: dirty })), 'UNKNOWN_TABLE')
        await assertUnchanged(() => engine.sync(A, request('todos', { where: { title: { like: '%' } }, push: dirty })), 'INVALID_WHERE')
        await assertUnchanged(() => engine.sync(A, request('todos', { where: { done: 'yes' }, push: dirty })), 'INVALID_VALUE')
        await assertUnchanged(() => engine.sync(A, request('todos', { checkpoint: 'lw1.x.y', push: dirty })), 'CHECKPOINT_INVALID')
        await assertUnchanged(() => engine.sync(principal('eve', 'A', { blocked: true }), request('todos', { push: dirty })), 'FORBIDDEN')
        await assertUnchanged(() => engine.sync(A, request('todos', { push: dirty, full: { cursor: null, entries: [['b', stamp(1), false, true, null], ['a', stamp(1), false, true, null]], complete: true } })),
          'BAD_REQUEST',
        )
        await assertUnchanged(() => engine.sync(A, request('todos', { push: dirty, full: { cursor: null, entries: [], complete: false } })), 'BAD_REQUEST')
        await makeEngine({ limits: { maxPushRecords: 2, maxMetaEntries: 1, maxFilterConditions: 1 } })
        await assertUnchanged(() => engine.sync(A, request('todos', { push: [...dirty, ...dirty, ...dirty] })), 'TOO_LARGE')
        await assertUnchanged(() => engine.sync(A, request('todos', { push: dirty, full: { cursor: null, entries: [['a', stamp(1), false, true, null], ['b', stamp(1), false, true, null]], complete: true } })),
          'TOO_LARGE',
        )
        await assertUnchanged(() => engine.sync(A, request('todos', { where: { done: false, priority: 1 }, push: dirty })), 'TOO_LARGE')
      })

      it('S02: column names with quotes, ;--, unicode or 10 KB are refused before any SQL', async () => {
        await push(A, [live('seed', stamp(1), todo())])
        const names = ['title"; DROP TABLE todos;--', "title' OR '1'='1", 'tïtle', '😀', 'x'.repeat(10_240), 'title COLLATE "C"', 'lastword_meta', 'todos.title']
        for (const name of names) {
          await assertUnchanged(() => engine.sync(A, request('todos', { where: { [name]: 'x' } })), 'UNKNOWN_COLUMN')
          await assertUnchanged(() => todos().findMany({ [name]: 1 }), 'UNKNOWN_COLUMN')
          const before = await t.snapshot()
          const [outcome] = await push(A, [live('inj', stamp(2), { ...todo(), [name]: 'x' })])
          expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_COLUMN' } })
          expect(JSON.stringify(outcome).length).toBeLessThan(2_000)
          expect(await t.snapshot()).toBe(before)
        }
        await assertUnchanged(() => engine.sync(A, request('todos', { where: { title: { 'eq) OR 1=1 --': 'x' } } })), 'INVALID_WHERE')
        await assertUnchanged(() => engine.sync(A, request('todos; DROP TABLE todos', {})), 'UNKNOWN_TABLE')
        expect(await todos().findMany({})).toHaveLength(1)
      })

      it('S03: server columns are refused (READ_ONLY_COLUMN) or filled, foreign uids and moves into another tenant refused', async () => {
        const [planted, alongside] = await push(A, [live('mass', stamp(1), todo({ tenant: 'B' })), live('fine', stamp(1), todo())])
        expect(planted).toMatchObject({ uid: 'mass', status: 'rejected', error: { code: 'READ_ONLY_COLUMN', details: { column: 'tenant' } } })
        expect(alongside).toEqual({ uid: 'fine', status: 'applied' })
        expect(await todos().findUnique('mass')).toBeNull()
        expect(await push(A, [live('mass', stamp(1), todo())])).toEqual([{ uid: 'mass', status: 'applied' }])
        expect((await todos().findUnique('mass'))?.['tenant']).toBe('A')
        const held = await t.snapshot()
        const [retenanted] = await push(A, [live('mass', stamp(2), todo({ tenant: 'B', title: 'moved' }))])
        expect(retenanted).toMatchObject({ status: 'rejected', error: { code: 'READ_ONLY_COLUMN' } })
        // Even naming the value it already has: a client never sends the column at all.
        const [same] = await push(A, [live('mass', stamp(2), todo({ tenant: 'A', title: 'same' }))])
        expect(same).toMatchObject({ status: 'rejected', error: { code: 'READ_ONLY_COLUMN' } })
        expect(await t.snapshot()).toBe(held)
        await push(A, [live('mass', stamp(2), todo({ title: 'still A' }))])
        expect(await todos().findUnique('mass')).toMatchObject({ tenant: 'A', title: 'still A' })
        // The app itself (no principal) may set them.
        await todos().push([live('app', stamp(1), { ...todo(), tenant: 'B' })])
        expect((await todos().findUnique('app'))?.['tenant']).toBe('B')
        const before = await t.snapshot()
        for (const key of ['rev', 'created_at', 'deleted_at']) {
          const [refused] = await push(A, [live('mass', stamp(3), { ...todo(), [key]: 999 })])
          expect(refused).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_COLUMN' } })
        }
        expect(await t.snapshot()).toBe(before)
        await push(A, [live('other', stamp(3), { ...todo(), uid: 'smuggled' })])
        expect(await metaOf('smuggled')).toBeUndefined()
        expect((await todos().findUnique('other'))?.['tenant']).toBe('A')
        // notes.tenant is the client's: authorize sees the row after the write.
        expect(await push(A, [live('n1', stamp(1), { tenant: 'A', body: 'mine' })], 'notes')).toEqual([{ uid: 'n1', status: 'applied' }])
        const snap = await t.snapshot()
        const [moved] = await push(A, [live('n1', stamp(2), { tenant: 'B', body: 'moved' })], 'notes')
        expect(moved).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } })
        const [foreign] = await push(A, [live('n2', stamp(2), { tenant: 'B', body: 'planted' })], 'notes')
        expect(foreign).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } })
        expect(await t.snapshot()).toBe(snap)
      })

      it('S04: forged stamps are refused and do not move the server clock', async () => {
        await push(A, [live('seed', stamp(1), todo())])
        const last = engine.clock.last()
        const snap = await t.snapshot()
        const y9999 = formatStamp({ ms: Date.UTC(9999, 11, 31), counter: 0, node: NODE_A })
        const [ahead] = await push(A, [live('f1', y9999, todo(), stamp(1))])
        expect(ahead).toMatchObject({ status: 'rejected', error: { code: 'CLOCK_AHEAD', details: { now: clock.ms } } })
        const max = 'ffffffffffff-ffff-aaaaaaaaaaaaaaaa'
        expect((await push(A, [live('f2', max as Stamp, todo(), stamp(1))]))[0]).toMatchObject({ error: { code: 'CLOCK_AHEAD' } })
        const malformed = ['NaN', '-00000000001-0000-aaaaaaaaaaaaaaaa', '', '018cc251f400-10000-aaaaaaaaaaaaaaaa', '018cc251f400-0000-AAAAAAAAAAAAAAAA', '018cc251f400-0000-xyz', '18cc251f400-0000-aaaaaaaaaaaaaaaa']
        for (const bad of malformed) {
          const [o] = await push(A, [live('f3', bad as Stamp, todo(), stamp(1))])
          expect(o).toMatchObject({ status: 'rejected', error: { code: 'INVALID_STAMP' } })
        }
        const [order] = await push(A, [live('f4', stamp(1), todo(), stamp(2))])
        expect(order).toMatchObject({ error: { code: 'INVALID_STAMP' } })
        const [sameDelete] = await push(A, [tomb('f5', stamp(2), stamp(1), stamp(2))])
        expect(sameDelete).toMatchObject({ error: { code: 'INVALID_STAMP' } })
        expect(engine.clock.last()).toBe(last)
        expect(await t.snapshot()).toBe(snap)
        // The bound itself is allowed; one ms past it is not.
        const edge = formatStamp({ ms: clock.ms + engine.limits.maxDriftMs, counter: 0, node: NODE_A })
        const past = formatStamp({ ms: clock.ms + engine.limits.maxDriftMs + 1, counter: 0, node: NODE_A })
        expect((await push(A, [live('f6', past, todo())]))[0]).toMatchObject({ error: { code: 'CLOCK_AHEAD' } })
        expect(await push(A, [live('f6', edge, todo())])).toEqual([{ uid: 'f6', status: 'applied' }])
      })

      it('S05: __proto__ and constructor keys in rows and filters are FORBIDDEN_KEY; such uids are plain uids', async () => {
        const snap = await t.snapshot()
        const rows = [
          '{"title":"x","done":false,"__proto__":{"polluted":"yes"}}',
          '{"title":"x","done":false,"constructor":{"prototype":{"polluted":"yes"}}}',
          '{"title":"x","done":false,"tags":{"a":{"__proto__":{"polluted":"yes"}}}}',
          '{"title":"x","done":false,"tags":[{"constructor":{"prototype":{"polluted":"yes"}}}]}',
        ]
        for (const text of rows) {
          const [o] = await push(A, [live('pp', stamp(1), JSON.parse(text) as Record<string, unknown>)])
          expect(o).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN_KEY' } })
        }
        for (const text of ['{"__proto__":{"polluted":"yes"}}', '{"constructor":"x"}', '{"title":{"__proto__":{"eq":"x"}}}', '{"prototype":1}']) {
          await assertUnchanged(() => engine.sync(A, request('todos', { where: JSON.parse(text) as Record<string, unknown>, push: dirty })), 'FORBIDDEN_KEY')
        }
        expect(await t.snapshot()).toBe(snap)
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
        // uids are not keys of anything: `__proto__` and `constructor` sync like any other uid.
        expect(await push(A, [live('__proto__', stamp(1), todo({ title: 'p' })), live('constructor', stamp(1), todo({ title: 'c' }))])).toEqual([
          { uid: '__proto__', status: 'applied' },
          { uid: 'constructor', status: 'applied' },
        ])
        const replica = new Replica(engine, A, 'todos')
        await replica.full()
        expect([...replica.rows().keys()]).toEqual(['__proto__', 'constructor'])
        await push(A, [tomb('__proto__', stamp(2), stamp(1))])
        const [page] = await replica.pull()
        expect(page?.tombstones.map((x) => x[0])).toEqual(['__proto__'])
        const again = await engine.sync(A, request('todos', { full: { cursor: null, entries: [['__proto__', stamp(1), false, true, null], ['constructor', stamp(1), false, true, null]], complete: true } }))
        expect(again.tombstones.map((x) => x[0])).toEqual(['__proto__'])
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
      })
    })

    describe('statement counts', () => {
      it('a sync of 10,000 records uses as many statements as one of 1,000 (full and incremental)', async () => {
        const measure = async (tenant: string, n: number) => {
          const ctx = principal(`u-${tenant}`, tenant)
          const records = Array.from({ length: n }, (_, i) =>
            live(`${tenant}-${String(i).padStart(6, '0')}`, stamp(1), { ...todo({ title: `t${i}`, priority: i }), tenant }),
          )
          await engine.service('todos').push(records)
          const replica = new Replica(engine, ctx, 'todos', {}, 10_000)
          let before = t.statements()
          await replica.full()
          const full = t.statements() - before
          expect(replica.rows().size).toBe(n)
          // Full again with the client's n entries: looked up in one statement.
          before = t.statements()
          const again = await replica.full()
          const fullWithEntries = t.statements() - before
          expect(again[0]?.rows).toEqual([])
          await engine.service('todos').push(records.map((r) => ({ ...r, updated_at: stamp(2), row: { ...r.row, title: 'v2' } })))
          before = t.statements()
          const pages = await replica.pull()
          const incremental = t.statements() - before
          expect(pages).toHaveLength(1)
          expect(pages[0]?.rows).toHaveLength(n)
          // Incremental with evictions: every record leaves the scope, before-images are read at once.
          const narrowed = new Replica(engine, ctx, 'todos', { done: false }, 10_000)
          await narrowed.full()
          await engine.service('todos').push(records.map((r) => ({ ...r, updated_at: stamp(3), row: { ...r.row, done: true } })))
          before = t.statements()
          const evictions = await narrowed.pull()
          const incrementalEvict = t.statements() - before
          expect(evictions[0]?.evict).toHaveLength(n)
          return { full, fullWithEntries, incremental, incrementalEvict }
        }
        const small = await measure('small', 1_000)
        const large = await measure('large', 10_000)
        expect(large).toEqual(small)
        // Two of them read the lineage: the open segment and the segments the request names (SPEC.md R12);
        // one counts the scope for the first page's progress.total (engine/progress-total.ts).
        expect(small.full).toBeLessThanOrEqual(9)
      }, 120_000)

      it('a push grows by a constant number of multi-row statements, not by record', async () => {
        const count = async (n: number, offset: number) => {
          const records = Array.from({ length: n }, (_, i) => live(`s${offset + i}`, stamp(1), todo()))
          const before = t.statements()
          await push(A, records)
          return t.statements() - before
        }
        const ten = await count(10, 0)
        const fourHundred = await count(400, 100)
        expect(fourHundred).toBe(ten)
      })
    })

    describe('SQL filtering agrees with core matches', () => {
      const titles = ['', 'a', 'A', 'b', 'B', 'é', 'e', 'z', 'Z', '😀', '\uffff', '\ud7ff', 'a b', 'ab', 'aB', 'Ab', '0', '10', '9']
      const rowArb = fc.record({
        title: fc.constantFrom(...titles),
        done: fc.boolean(),
        priority: fc.option(fc.integer({ min: -3, max: 3 }), { nil: null }),
        score: fc.option(fc.constantFrom(-1.5, -0.5, 0, 0.1, 0.5, 1, 2.25, 1e-9), { nil: null }),
        due: fc.option(fc.constantFrom('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2024-06-30T12:00:00.500Z', '1970-01-01T00:00:00.000Z', '2099-12-31T23:59:59.999Z'), { nil: null }),
      })
      const valueFor: Record<string, fc.Arbitrary<unknown>> = {
        title: fc.constantFrom(...titles, 'a\t', 'A\uffff'),
        done: fc.boolean(),
        priority: fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constantFrom(1.5, -0.5, 3e9, -3e9)),
        score: fc.constantFrom(-1.5, -0.5, 0, 0.1, 0.5, 1, 2.25, 1e-9, 0.30000000000000004, 3e9),
        due: fc.constantFrom('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.001Z', '2024-03-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '2099-12-31T23:59:59.999Z'),
      }
      const conditionArb = fc.constantFrom('title', 'done', 'priority', 'score', 'due').chain((column) =>
        fc
          .oneof(
            fc.constant(null),
            valueFor[column] as fc.Arbitrary<unknown>,
            fc.record({ eq: valueFor[column] as fc.Arbitrary<unknown> }),
            fc.record({ in: fc.array(valueFor[column] as fc.Arbitrary<unknown>, { maxLength: 3 }) }),
            fc.record({ gt: valueFor[column] as fc.Arbitrary<unknown> }, { requiredKeys: [] }).chain((lower) =>
              fc.record({ lt: valueFor[column] as fc.Arbitrary<unknown>, lte: valueFor[column] as fc.Arbitrary<unknown>, gte: valueFor[column] as fc.Arbitrary<unknown> }, { requiredKeys: [] }).map((upper) => ({ ...lower, ...upper })),
            ),
          )
          .filter((spec) => !(typeof spec === 'object' && spec !== null && Object.keys(spec).length === 0))
          .map((spec) => [column, spec] as const),
      )
      const filterArb = fc.array(conditionArb, { maxLength: 3 }).map((pairs) => Object.fromEntries(pairs) as Where)

      it('on generated rows and a few hundred filters (findMany and full pulls)', async () => {
        const generated = fc.sample(rowArb, { numRuns: 80, seed: 4242 })
        await todos().push(generated.map((r, i) => live(`g${String(i).padStart(3, '0')}`, stamp(1), { ...todo(r), tenant: 'A' })))
        const stored = await todos().findMany({})
        expect(stored).toHaveLength(80)
        const descriptor = engine.tables[0] as (typeof engine.tables)[number]
        let checked = 0
        await fc.assert(
          fc.asyncProperty(filterArb, async (where) => {
            const scope = validateWhere(where, descriptor)
            const expected = stored.filter((row) => matches(row, scope)).map((r) => r.uid)
            const actual = (await todos().findMany(where)).map((r) => r.uid)
            expect(actual).toEqual(expected)
            if (checked++ % 10 === 0) {
              const replica = new Replica(engine, A, 'todos', where)
              await replica.full()
              expect([...replica.rows().keys()]).toEqual(expected)
            }
          }),
          fcParams('SQL vs matches', 300),
        )
      })
    })

    it('is closed by close()', async () => {
      await engine.close()
      await expectCode(engine.sync(A, request('todos')), 'CLOSED')
      expect(T0).toBeLessThan(clock.ms)
    })
  })
}
