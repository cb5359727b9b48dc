/**
 * The engine behaviour suite (suite.ts), bad input: every request refused as a whole, every bad column
 * name, server column, forged stamp or polluting key is a typed error and leaves the database unchanged
 * (S02–S05).
 */
import { formatStamp, type Stamp } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import { NODE_A, Replica, expectCode, live, principal, request, stamp, todo, tomb } from './helpers.js'
import { A, type EngineFixture } from './suite-fixture.js'

/** Bad input: typed errors, nothing written. */
export function badInputSuite(fx: EngineFixture): void {
  const { makeEngine, metaOf, push, todos } = fx

  describe('bad input: typed errors, nothing written', () => {
    const assertUnchanged = async (run: () => Promise<unknown>, code: string) => {
      const before = await fx.t.snapshot()
      await expectCode(run(), code)
      expect(await fx.t.snapshot()).toBe(before)
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    }
    const dirty = [live('dirty', stamp(1), todo())]

    it('requests refused as a whole write nothing', async () => {
      await push(A, [live('seed', stamp(1), todo())])
      await assertUnchanged(() => fx.engine.sync(A, request('nope', { push: dirty })), 'UNKNOWN_TABLE')
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { where: { title: { like: '%' } }, push: dirty })), 'INVALID_WHERE')
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { where: { done: 'yes' }, push: dirty })), 'INVALID_VALUE')
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { checkpoint: 'lw1.x.y', push: dirty })), 'CHECKPOINT_INVALID')
      await assertUnchanged(() => fx.engine.sync(principal('eve', 'A', { blocked: true }), request('todos', { push: dirty })), 'FORBIDDEN')
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { push: dirty, full: { cursor: null, entries: [['b', stamp(1), false, true, null], ['a', stamp(1), false, true, null]], complete: true } })),
        'BAD_REQUEST',
      )
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { push: dirty, full: { cursor: null, entries: [], complete: false } })), 'BAD_REQUEST')
      await makeEngine({ limits: { maxPushRecords: 2, maxMetaEntries: 1, maxFilterConditions: 1 } })
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { push: [...dirty, ...dirty, ...dirty] })), 'TOO_LARGE')
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { push: dirty, full: { cursor: null, entries: [['a', stamp(1), false, true, null], ['b', stamp(1), false, true, null]], complete: true } })),
        'TOO_LARGE',
      )
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { where: { done: false, priority: 1 }, push: dirty })), 'TOO_LARGE')
    })

    it('S02: column names with quotes, ;--, unicode or 10 KB are refused before any SQL', async () => {
      await push(A, [live('seed', stamp(1), todo())])
      const names = ['title"; DROP TABLE todos;--', "title' OR '1'='1", 'tïtle', '😀', 'x'.repeat(10_240), 'title COLLATE "C"', 'lastword_meta', 'todos.title']
      for (const name of names) {
        await assertUnchanged(() => fx.engine.sync(A, request('todos', { where: { [name]: 'x' } })), 'UNKNOWN_COLUMN')
        await assertUnchanged(() => todos().findMany({ [name]: 1 }), 'UNKNOWN_COLUMN')
        const before = await fx.t.snapshot()
        const [outcome] = await push(A, [live('inj', stamp(2), { ...todo(), [name]: 'x' })])
        expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_COLUMN' } })
        expect(JSON.stringify(outcome).length).toBeLessThan(2_000)
        expect(await fx.t.snapshot()).toBe(before)
      }
      await assertUnchanged(() => fx.engine.sync(A, request('todos', { where: { title: { 'eq) OR 1=1 --': 'x' } } })), 'INVALID_WHERE')
      await assertUnchanged(() => fx.engine.sync(A, request('todos; DROP TABLE todos', {})), 'UNKNOWN_TABLE')
      expect(await todos().findMany({})).toHaveLength(1)
    })

    it('S03: server columns are refused (READ_ONLY_COLUMN) or filled, foreign uids and moves into another tenant refused', async () => {
      const [planted, alongside] = await push(A, [live('mass', stamp(1), todo({ tenant: 'B' })), live('fine', stamp(1), todo())])
      expect(planted).toMatchObject({ uid: 'mass', status: 'rejected', error: { code: 'READ_ONLY_COLUMN', details: { column: 'tenant' } } })
      expect(alongside).toEqual({ uid: 'fine', status: 'applied' })
      expect(await todos().findUnique('mass')).toBeNull()
      expect(await push(A, [live('mass', stamp(1), todo())])).toEqual([{ uid: 'mass', status: 'applied' }])
      expect((await todos().findUnique('mass'))?.['tenant']).toBe('A')
      const held = await fx.t.snapshot()
      const [retenanted] = await push(A, [live('mass', stamp(2), todo({ tenant: 'B', title: 'moved' }))])
      expect(retenanted).toMatchObject({ status: 'rejected', error: { code: 'READ_ONLY_COLUMN' } })
      // Even naming the value it already has: a client never sends the column at all.
      const [same] = await push(A, [live('mass', stamp(2), todo({ tenant: 'A', title: 'same' }))])
      expect(same).toMatchObject({ status: 'rejected', error: { code: 'READ_ONLY_COLUMN' } })
      expect(await fx.t.snapshot()).toBe(held)
      await push(A, [live('mass', stamp(2), todo({ title: 'still A' }))])
      expect(await todos().findUnique('mass')).toMatchObject({ tenant: 'A', title: 'still A' })
      // The app itself (no principal) may set them.
      await todos().push([live('app', stamp(1), { ...todo(), tenant: 'B' })])
      expect((await todos().findUnique('app'))?.['tenant']).toBe('B')
      const before = await fx.t.snapshot()
      for (const key of ['rev', 'created_at', 'deleted_at']) {
        const [refused] = await push(A, [live('mass', stamp(3), { ...todo(), [key]: 999 })])
        expect(refused).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_COLUMN' } })
      }
      expect(await fx.t.snapshot()).toBe(before)
      await push(A, [live('other', stamp(3), { ...todo(), uid: 'smuggled' })])
      expect(await metaOf('smuggled')).toBeUndefined()
      expect((await todos().findUnique('other'))?.['tenant']).toBe('A')
      // notes.tenant is the client's: authorize sees the row after the write.
      expect(await push(A, [live('n1', stamp(1), { tenant: 'A', body: 'mine' })], 'notes')).toEqual([{ uid: 'n1', status: 'applied' }])
      const snap = await fx.t.snapshot()
      const [moved] = await push(A, [live('n1', stamp(2), { tenant: 'B', body: 'moved' })], 'notes')
      expect(moved).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } })
      const [foreign] = await push(A, [live('n2', stamp(2), { tenant: 'B', body: 'planted' })], 'notes')
      expect(foreign).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } })
      expect(await fx.t.snapshot()).toBe(snap)
    })

    it('S04: forged stamps are refused and do not move the server clock', async () => {
      await push(A, [live('seed', stamp(1), todo())])
      const last = fx.engine.clock.last()
      const snap = await fx.t.snapshot()
      const y9999 = formatStamp({ ms: Date.UTC(9999, 11, 31), counter: 0, node: NODE_A })
      const [ahead] = await push(A, [live('f1', y9999, todo(), stamp(1))])
      expect(ahead).toMatchObject({ status: 'rejected', error: { code: 'CLOCK_AHEAD', details: { now: fx.clock.ms } } })
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
      expect(fx.engine.clock.last()).toBe(last)
      expect(await fx.t.snapshot()).toBe(snap)
      // The bound itself is allowed; one ms past it is not.
      const edge = formatStamp({ ms: fx.clock.ms + fx.engine.limits.maxDriftMs, counter: 0, node: NODE_A })
      const past = formatStamp({ ms: fx.clock.ms + fx.engine.limits.maxDriftMs + 1, counter: 0, node: NODE_A })
      expect((await push(A, [live('f6', past, todo())]))[0]).toMatchObject({ error: { code: 'CLOCK_AHEAD' } })
      expect(await push(A, [live('f6', edge, todo())])).toEqual([{ uid: 'f6', status: 'applied' }])
    })

    it('S05: __proto__ and constructor keys in rows and filters are FORBIDDEN_KEY; such uids are plain uids', async () => {
      const snap = await fx.t.snapshot()
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
        await assertUnchanged(() => fx.engine.sync(A, request('todos', { where: JSON.parse(text) as Record<string, unknown>, push: dirty })), 'FORBIDDEN_KEY')
      }
      expect(await fx.t.snapshot()).toBe(snap)
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
      // uids are not keys of anything: `__proto__` and `constructor` sync like any other uid.
      expect(await push(A, [live('__proto__', stamp(1), todo({ title: 'p' })), live('constructor', stamp(1), todo({ title: 'c' }))])).toEqual([
        { uid: '__proto__', status: 'applied' },
        { uid: 'constructor', status: 'applied' },
      ])
      const replica = new Replica(fx.engine, A, 'todos')
      await replica.full()
      expect([...replica.rows().keys()]).toEqual(['__proto__', 'constructor'])
      await push(A, [tomb('__proto__', stamp(2), stamp(1))])
      const [page] = await replica.pull()
      expect(page?.tombstones.map((x) => x[0])).toEqual(['__proto__'])
      const again = await fx.engine.sync(A, request('todos', { full: { cursor: null, entries: [['__proto__', stamp(1), false, true, null], ['constructor', stamp(1), false, true, null]], complete: true } }))
      expect(again.tombstones.map((x) => x[0])).toEqual(['__proto__'])
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    })
  })
}
