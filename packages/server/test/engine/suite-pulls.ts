/**
 * The engine behaviour suite (suite.ts), pulls: incremental pulls evict move-outs and bring move-ins; a
 * client learns nothing outside its effective scope, not even uids (I8); retention resyncs and a purged
 * record leaves the client; full reconciliation answers every list of core's plan, paged, and converges.
 */
import { versionOf, type Stamp, type SyncPage } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import { Replica, live, pageText, principal, request, stamp, todo, tomb } from './helpers.js'
import { A, A2, B, type EngineFixture } from './suite-fixture.js'

/** Incremental and full pulls: scopes, retention, resync, paging. */
export function pullSuite(fx: EngineFixture): void {
  const { metaOf, push, todos } = fx

  describe('pulls', () => {
    it('incremental: a move-out is evicted, a move-in arrives, a deletion goes only where the record was', async () => {
      await push(A, [live('m', stamp(1), todo({ done: false })), live('stay', stamp(1), todo({ done: false }))])
      const open = new Replica(fx.engine, A, 'todos', { done: false })
      const closed = new Replica(fx.engine, A2, 'todos', { done: true })
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
      const a = new Replica(fx.engine, A, 'todos')
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
      const fresh = new Replica(fx.engine, A, 'todos', {}, 1)
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
      const replica = new Replica(fx.engine, A, 'todos')
      await replica.full()
      await todos().delete('x')
      fx.clock.ms += 10 * 86_400_000
      await push(A, [live('z', stamp(10 * 86_400_000), todo())])
      const purged = await fx.engine.purge({ olderThanMs: 86_400_000 })
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
      expect(await fx.engine.purge({ olderThanMs: 86_400_000 })).toMatchObject({ tombstones: 0, changes: 0, horizonRev: purged.horizonRev })
    })

    it('resyncs when the scope changed or the checkpoint is from the future', async () => {
      const replica = new Replica(fx.engine, A, 'todos', { done: false })
      await replica.full()
      const token = replica.checkpoint as string
      const other = await fx.engine.sync(A, request('todos', { where: { done: true }, checkpoint: token }))
      expect(other).toMatchObject({ mode: 'resync', reason: 'scope-changed' })
      // Authorization narrowed: same filter, another effective scope.
      const narrowed = await fx.engine.sync(principal('alice', 'A', { readWhere: { tenant: 'A', priority: 1 } }), request('todos', { where: { done: false }, checkpoint: token }))
      expect(narrowed).toMatchObject({ mode: 'resync', reason: 'scope-changed' })
      const future = token.replace(/^(lw2\.[0-9a-f]{16}\.[0-9a-f]{16})\.\d+\./, '$1.999.')
      expect(await fx.engine.sync(A, request('todos', { where: { done: false }, checkpoint: future }))).toMatchObject({ mode: 'resync', reason: 'checkpoint-ahead' })
      expect(await fx.engine.sync(A, request('todos', { where: { done: false } }))).toMatchObject({ mode: 'resync', reason: 'no-checkpoint' })
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
      const at = await fx.engine.currentPoint()
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
      const page = await fx.engine.sync(A, request('todos', { where: { done: false }, full: { cursor: null, entries, complete: true } }))
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
      const replica = new Replica(fx.engine, A, 'todos', {}, 3)
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
      const replica = new Replica(fx.engine, A, 'todos', {}, 2)
      const first = await fx.engine.sync(A, request('todos', { pageSize: 2, full: { cursor: null, entries: [], complete: true } }))
      replica.apply(first)
      await push(A, [live('w0', stamp(5), todo({ title: 'changed behind' })), live('w9', stamp(5), todo())])
      let cursor = first.cursor
      for (;;) {
        const page = await fx.engine.sync(A, request('todos', { pageSize: 2, full: { cursor, entries: [], complete: true } }))
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
}
