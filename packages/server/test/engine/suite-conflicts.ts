/**
 * The engine behaviour suite (suite.ts), conflicts: every conflict rule of core's table decides a push
 * exactly as `ruleFor` says (R1–R9, R11), and a winner is shown only to who may read it (V9); no older
 * write resurrects a tombstone (T09, I4); concurrent pushers converge on the greatest stamp (T13, I2, I3)
 * and overlapping scopes are serialised (T14).
 */
import { CONFLICT_TABLE, LastwordError, versionOf, type IncomingKind, type Order, type PushOutcome, type Scope, type StoredKind, type WireRecord } from '@lastword/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NODE_B, deferred, fcParams, live, principal, request, stamp, todo, tomb } from './helpers.js'
import { A, A2, B, type EngineFixture } from './suite-fixture.js'

/** Conflict rules, tombstones and concurrent writers, end to end. */
export function conflictSuite(fx: EngineFixture): void {
  const { runs, makeEngine, metaOf, stateRev, push, todos } = fx

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
                const page = await fx.engine.sync(ctx, request('todos', { where: { priority: p }, push: records }))
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
      const first = fx.engine.sync(A, request('todos', { where: { done: false } }))
      await new Promise((r) => setTimeout(r, 20))
      expect(fx.engine.activeScopes('todos')).toHaveLength(1)
      // { priority: 1, tenant: A } overlaps { done: false, tenant: A }: it waits.
      const overlapping = fx.engine.sync(A, request('todos', { where: { priority: 1 } }))
      // Disjoint: done differs, or the tenant does. Both finish while the first still holds its lock.
      await Promise.all([fx.engine.sync(A, request('todos', { where: { done: true } })), fx.engine.sync(B, request('todos', { where: { done: false } }))])
      const waiting = log.filter((e) => e.type === 'wait')
      expect(waiting).toHaveLength(1)
      expect(has(waiting[0]?.scope ?? [], 'priority', 1)).toBe(true)
      expect(log.filter((e) => e.type === 'acquire')).toHaveLength(3)
      expect(log.filter((e) => e.type === 'release')).toHaveLength(2)
      expect(fx.engine.activeScopes('todos')).toHaveLength(1)
      gate.resolve()
      await Promise.all([first, overlapping])
      const releaseFirst = log.findIndex((e) => e.type === 'release' && e.id === holder)
      const acquireOverlap = log.findIndex((e) => e.type === 'acquire' && e.id === waiting[0]?.id)
      expect(releaseFirst).toBeGreaterThanOrEqual(0)
      expect(acquireOverlap).toBeGreaterThan(releaseFirst)
      expect(fx.engine.activeScopes('todos')).toEqual([])
    })
  })
}
