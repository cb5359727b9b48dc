/**
 * The engine behaviour suite (suite.ts), pushes: a push is one transaction and a poison record is
 * rejected while the rest apply (S10, I10; R10 for a purged record); a push delivered 1–3 times, in any
 * order, or resent after a lost ack, changes nothing more (T03, T04, I5).
 */
import { versionOf, type WireRecord } from '@lastword/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CommittedChange } from '../../src/types.js'
import { expectCode, fcParams, live, request, stamp, todo, tomb } from './helpers.js'
import { A, type EngineFixture } from './suite-fixture.js'

/** Push atomicity and idempotency. */
export function pushSuite(fx: EngineFixture): void {
  const { runs, makeEngine, metaOf, stateRev, push, todos } = fx

  describe('push atomicity', () => {
    it('R10: an acknowledged record the server no longer knows is refused PURGED, never created; the rest apply', async () => {
      // Acknowledged at a point of this database's history: the evidence R12 asks for.
      const gone = { ...live('gone', stamp(50), todo({ title: 'purged since' })), acknowledged: true, knownAt: await fx.engine.currentPoint() }
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
      expect(fx.changes.flat().map((c) => c.uid)).not.toContain('d33')
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
      const snapshot = await fx.t.snapshot()
      await expectCode(push(A, [live('x1', stamp(2), todo()), live('x2', stamp(3), todo()), tomb('before', stamp(4), stamp(1))]), 'INTERNAL')
      expect(await fx.t.snapshot()).toBe(snapshot)
      expect(fx.changes).toEqual([])
    })

    it('commits in one transaction with revs in push order and tells onCommit listeners', async () => {
      const start = await stateRev()
      await push(A, [live('c2', stamp(1), todo()), live('c1', stamp(1), todo()), live('c2', stamp(5), todo({ title: 'again' }))])
      expect(fx.changes).toHaveLength(1)
      const batch = fx.changes[0] as CommittedChange[]
      expect(batch.map((c) => [c.uid, c.rev])).toEqual([
        ['c2', start + 1],
        ['c1', start + 2],
      ])
      expect(batch[0]).toMatchObject({ table: 'todos', before: null, after: { title: 'again', tenant: 'A' }, lastImage: null })
      await push(A, [tomb('c2', stamp(6), stamp(1), stamp(5))])
      expect(fx.changes[1]?.[0]).toMatchObject({ uid: 'c2', before: { title: 'again' }, after: null, lastImage: { title: 'again' }, rev: start + 3 })
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
            const snap = await fx.t.snapshot()
            await push(A, records)
            expect(await stateRev()).toBe(revBefore)
            expect(await fx.t.snapshot()).toBe(snap)
          },
        ),
        fcParams('T03 duplicate delivery', runs(25)),
      )
    })

    it('T04: a push committed whose ack was lost, sent again, changes nothing', async () => {
      const records = [live('l1', stamp(1), todo()), live('l2', stamp(2), todo({ done: true })), tomb('l3', stamp(3), stamp(1))]
      const first = await fx.engine.sync(A, request('todos', { push: records }))
      expect(first.outcomes.every((o) => o.status === 'applied')).toBe(true)
      const snap = await fx.t.snapshot()
      const notified = fx.changes.length
      // The client never saw `first`: it resends the same request.
      const again = await fx.engine.sync(A, request('todos', { push: records }))
      expect(again.outcomes).toEqual(first.outcomes)
      expect(await fx.t.snapshot()).toBe(snap)
      expect(fx.changes).toHaveLength(notified)
    })
  })
}
