/**
 * One behaviour suite for every `LocalStore` (CONTRIBUTING.md, "One behaviour suite, every implementation").
 * Laws: a transaction's writes are all committed or none are; reads see the transaction's own writes;
 * scans are in uid order; the `dirty` view follows the `dirty` flag; values read are copies; `clear`
 * wipes everything; a closed store refuses with `CLOSED`.
 */
import { describe, expect, it } from 'vitest'
import { isLastwordError, type Stamp } from '@lastword/core'
import type { LocalStore, StoredRecord } from '../src/index.js'

/** How a suite gets a fresh store, and (when the implementation can) a second handle on the same data. */
export interface StoreHarness {
  create(): Promise<LocalStore>
  /** Another store over the same data (a second tab, or a restart); absent when there is no persistence. */
  reopen?(store: LocalStore): Promise<LocalStore>
}

const S1 = '000000000001-0000-0000000000000001' as Stamp
const S2 = '000000000002-0000-0000000000000001' as Stamp

export function record(table: string, uid: string, extra: Partial<StoredRecord> = {}): StoredRecord {
  return { table, uid, row: { title: uid }, created_at: S1, updated_at: S1, deleted_at: null, dirty: false, acknowledged: false, ...extra }
}

export function runStoreSuite(name: string, harness: StoreHarness): void {
  describe(`LocalStore: ${name}`, () => {
    it('stores, reads and deletes records by table and uid', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', async (tx) => {
        await tx.putRecord(record('todos', 'b'))
        await tx.putRecord(record('todos', 'a', { rejected: { code: 'FORBIDDEN', message: 'no' } }))
        await tx.putRecord(record('notes', 'a'))
      })
      const a = await store.transaction('readonly', (tx) => tx.getRecord('todos', 'a'))
      expect(a).toEqual(record('todos', 'a', { rejected: { code: 'FORBIDDEN', message: 'no' } }))
      expect(await store.transaction('readonly', (tx) => tx.getRecord('todos', 'zz'))).toBeUndefined()
      await store.transaction('readwrite', (tx) => tx.deleteRecord('todos', 'a'))
      const uids = await store.transaction('readonly', async (tx) => (await tx.scanRecords('todos')).map((r) => r.uid))
      expect(uids).toEqual(['b'])
      expect((await store.transaction('readonly', (tx) => tx.scanRecords('notes'))).length).toBe(1)
      await store.close()
    })

    it('scans in uid order, after a uid, filtered and limited', async () => {
      const store = await harness.create()
      const uids = ['m', 'A', 'z', '0', 'b_', 'b-', 'a']
      await store.transaction('readwrite', async (tx) => {
        for (const uid of uids) await tx.putRecord(record('t', uid, { row: { n: uid.length } }))
        await tx.putRecord(record('t2', 'x'))
      })
      const sorted = [...uids].sort()
      const scan = (options: Parameters<import('../src/index.js').StoreTransaction['scanRecords']>[1]) =>
        store.transaction('readonly', async (tx) => (await tx.scanRecords('t', options)).map((r) => r.uid))
      expect(await scan({})).toEqual(sorted)
      expect(await scan({ after: 'a' })).toEqual(sorted.filter((u) => u > 'a'))
      expect(await scan({ after: 'a', limit: 2 })).toEqual(sorted.filter((u) => u > 'a').slice(0, 2))
      expect(await scan({ filter: (r) => r.uid.startsWith('b'), limit: 1 })).toEqual(['b-'])
      expect(await scan({ after: null, limit: 0 })).toEqual([])
      await store.close()
    })

    it('scans a large table page by page, filtered, across read batches and with its own writes', async () => {
      // Paged scans are how full reconciliation lists a scope (each page must cost its size, not the table's).
      const store = await harness.create()
      const uidOf = (i: number): string => `r${String(i).padStart(5, '0')}`
      const n = 5_000
      await store.transaction('readwrite', async (tx) => {
        for (let i = 0; i < n; i++) await tx.putRecord(record('t', uidOf(i), { row: { n: i } }))
        await tx.putRecord(record('s', 'r99999'))
        await tx.putRecord(record('u', 'r00000'))
      })
      const kept = (r: StoredRecord): boolean => (r.row?.['n'] as number) % 3 !== 0
      const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0).map(uidOf)
      const pages: string[][] = []
      let after: string | null = null
      for (;;) {
        const page: string[] = await store.transaction('readonly', async (tx) => (await tx.scanRecords('t', { after, limit: 1_234, filter: kept })).map((r) => r.uid))
        pages.push(page)
        if (page.length < 1_234) break
        after = page[page.length - 1] as string
      }
      expect(pages.flat()).toEqual(expected)
      expect(pages.slice(0, -1).every((p) => p.length === 1_234)).toBe(true)
      expect((await store.transaction('readonly', (tx) => tx.scanRecords('t', { after: uidOf(4_990) }))).map((r) => r.uid)).toEqual(
        Array.from({ length: 9 }, (_, k) => uidOf(4_991 + k)),
      )
      expect((await store.transaction('readonly', (tx) => tx.scanRecords('t', { after: uidOf(2_000), limit: 3 }))).map((r) => r.uid)).toEqual([
        uidOf(2_001),
        uidOf(2_002),
        uidOf(2_003),
      ])
      // A scan sees its transaction's writes; after commit, later scans see them too.
      const inside = await store.transaction('readwrite', async (tx) => {
        await tx.putRecord(record('t', 'r02000a'))
        await tx.deleteRecord('t', uidOf(2_001))
        return (await tx.scanRecords('t', { after: uidOf(2_000), limit: 2 })).map((r) => r.uid)
      })
      expect(inside).toEqual(['r02000a', uidOf(2_002)])
      expect((await store.transaction('readonly', (tx) => tx.scanRecords('t', { after: uidOf(2_000), limit: 2 }))).map((r) => r.uid)).toEqual(inside)
      expect((await store.transaction('readonly', (tx) => tx.scanRecords('t'))).length).toBe(n)
      await store.close()
    })

    it('reads, writes and deletes several records at once, in the order asked', async () => {
      const store = await harness.create()
      const uid = (i: number) => `u${String(i).padStart(3, '0')}`
      await store.transaction('readwrite', async (tx) => {
        await tx.putRecords(Array.from({ length: 100 }, (_, i) => record('t', uid(i), { row: { n: i }, dirty: i % 10 === 0 })))
        await tx.putRecords([record('t2', uid(5)), record('t2', uid(6))])
        await tx.putRecords([])
      })
      const get = (table: string, uids: string[]) =>
        store.transaction('readonly', async (tx) => (await tx.getRecords(table, uids)).map((r) => (r === undefined ? null : `${r.table}/${r.uid}/${String(r.row?.['n'] ?? '')}`)))
      // A span of a few stored records (read whole), with a missing uid and a repeated one.
      expect(await get('t', [uid(12), 'u012x', uid(11), uid(12)])).toEqual(['t/u012/12', null, 't/u011/11', 't/u012/12'])
      // A span holding far more records than asked for (read one by one), and a span holding none.
      expect(await get('t', [uid(99), uid(0)])).toEqual(['t/u099/99', 't/u000/0'])
      expect(await get('t', ['v1', 'v0', 'v2'])).toEqual([null, null, null])
      expect(await get('t', [])).toEqual([])
      expect(await get('t2', [uid(6), uid(7), uid(5)])).toEqual(['t2/u006/', null, 't2/u005/'])
      expect(await get('t3', [uid(1)])).toEqual([null])
      // The dirty view follows records written several at once.
      expect(await store.transaction('readonly', async (tx) => (await tx.dirtyRecords('t')).map((r) => r.uid))).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map(uid))
      // Its own writes, seen by the same transaction's batched read; deletions of one table only.
      const seen = await store.transaction('readwrite', async (tx) => {
        await tx.deleteRecords('t', [uid(5), uid(6), 'absent'])
        await tx.putRecords([record('t', uid(7), { row: { n: 700 } }), record('t', 'u006b', { row: { n: 6 } })])
        return (await tx.getRecords('t', [uid(5), uid(6), 'u006b', uid(7)])).map((r) => r?.row?.['n'] ?? null)
      })
      expect(seen).toEqual([null, null, 6, 700])
      expect(await get('t', [uid(4), uid(5), uid(6), uid(7)])).toEqual(['t/u004/4', null, null, 't/u007/700'])
      expect(await get('t2', [uid(5), uid(6)])).toEqual(['t2/u005/', 't2/u006/'])
      // Copies: changing what was read changes nothing stored.
      await store.transaction('readonly', async (tx) => {
        const [a] = await tx.getRecords('t', [uid(1)])
        ;(a as StoredRecord).row = { n: -1 }
      })
      expect(await get('t', [uid(1)])).toEqual(['t/u001/1'])
      await store.close()
    })

    it('commits batched writes with the rest of their transaction, or none of them', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', (tx) => tx.putRecords([record('t', 'a'), record('t', 'b')]))
      const failure = store.transaction('readwrite', async (tx) => {
        await tx.putRecords([record('t', 'c'), record('t', 'd', { dirty: true })])
        await tx.deleteRecords('t', ['a', 'b'])
        await tx.putScope({ key: 'k', table: 't', where: {}, checkpoint: 'lw1.1.00000000000000', fullCursor: null, syncedAt: null })
        throw new Error('boom')
      })
      await expect(failure).rejects.toThrow('boom')
      const state = await store.transaction('readonly', async (tx) => ({
        uids: (await tx.scanRecords('t')).map((r) => r.uid),
        dirty: await tx.countDirty(),
        scope: await tx.getScope('k'),
      }))
      expect(state).toEqual({ uids: ['a', 'b'], dirty: 0, scope: undefined })
      await store.close()
    })

    it('keeps a dirty view that follows the flag', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', async (tx) => {
        await tx.putRecord(record('t', 'a', { dirty: true }))
        await tx.putRecord(record('t', 'b'))
        await tx.putRecord(record('u', 'c', { dirty: true }))
      })
      const view = () =>
        store.transaction('readonly', async (tx) => ({
          all: (await tx.dirtyRecords()).map((r) => `${r.table}/${r.uid}`),
          t: (await tx.dirtyRecords('t')).map((r) => r.uid),
          count: await tx.countDirty(),
        }))
      expect(await view()).toEqual({ all: ['t/a', 'u/c'], t: ['a'], count: 2 })
      await store.transaction('readwrite', async (tx) => {
        await tx.putRecord(record('t', 'a', { dirty: false }))
        await tx.putRecord(record('t', 'b', { dirty: true }))
      })
      expect(await view()).toEqual({ all: ['t/b', 'u/c'], t: ['b'], count: 2 })
      const dirty = await store.transaction('readonly', (tx) => tx.dirtyRecords('t'))
      expect(dirty[0]).toEqual(record('t', 'b', { dirty: true }))
      await store.close()
    })

    it('commits every write of a transaction or none', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', (tx) => tx.putRecord(record('t', 'kept')))
      const failure = store.transaction('readwrite', async (tx) => {
        await tx.putRecord(record('t', 'lost'))
        await tx.deleteRecord('t', 'kept')
        await tx.putScope({ key: 'k', table: 't', where: {}, checkpoint: 'lw1.1.00000000000000', fullCursor: null, syncedAt: null })
        await tx.putMeta('offset', 5)
        throw new Error('boom')
      })
      await expect(failure).rejects.toThrow('boom')
      const state = await store.transaction('readonly', async (tx) => ({
        uids: (await tx.scanRecords('t')).map((r) => r.uid),
        scope: await tx.getScope('k'),
        offset: await tx.getMeta('offset'),
      }))
      expect(state).toEqual({ uids: ['kept'], scope: undefined, offset: undefined })
      await store.close()
    })

    it('lets a transaction read its own writes', async () => {
      const store = await harness.create()
      const seen = await store.transaction('readwrite', async (tx) => {
        await tx.putRecord(record('t', 'a', { dirty: true }))
        const a = await tx.getRecord('t', 'a')
        const count = await tx.countDirty()
        await tx.deleteRecord('t', 'a')
        return { a: a?.uid, count, after: await tx.getRecord('t', 'a') }
      })
      expect(seen).toEqual({ a: 'a', count: 1, after: undefined })
      await store.close()
    })

    it('returns copies: mutating a value read changes nothing stored', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', (tx) => tx.putRecord(record('t', 'a')))
      const a = (await store.transaction('readonly', (tx) => tx.getRecord('t', 'a'))) as StoredRecord
      ;(a.row as Record<string, unknown>).title = 'changed'
      const again = await store.transaction('readonly', (tx) => tx.getRecord('t', 'a'))
      expect(again?.row).toEqual({ title: 'a' })
      await store.close()
    })

    it('stores scopes by key and meta by name', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', async (tx) => {
        await tx.putScope({ key: 'b', table: 't', where: { done: false }, checkpoint: null, fullCursor: { startRev: 3, after: 'x' }, syncedAt: null })
        await tx.putScope({ key: 'a', table: 'u', where: {}, checkpoint: 'lw1.4.00000000000000', fullCursor: null, syncedAt: 7 })
        await tx.putMeta('clock', S2)
        await tx.putMeta('tables', [{ name: 't', columns: [] }])
      })
      const state = await store.transaction('readonly', async (tx) => ({
        all: (await tx.listScopes()).map((s) => s.key),
        t: await tx.listScopes('t'),
        clock: await tx.getMeta('clock'),
        tables: await tx.getMeta('tables'),
      }))
      expect(state.all).toEqual(['a', 'b'])
      expect(state.t).toEqual([{ key: 'b', table: 't', where: { done: false }, checkpoint: null, fullCursor: { startRev: 3, after: 'x' }, syncedAt: null }])
      expect(state.clock).toBe(S2)
      expect(state.tables).toEqual([{ name: 't', columns: [] }])
      await store.transaction('readwrite', async (tx) => {
        await tx.deleteScope('b')
        await tx.deleteMeta('clock')
      })
      expect(await store.transaction('readonly', async (tx) => [(await tx.listScopes()).length, await tx.getMeta('clock')])).toEqual([1, undefined])
      await store.close()
    })

    it('wipes everything on clear', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', async (tx) => {
        await tx.putRecord(record('t', 'a', { dirty: true }))
        await tx.putScope({ key: 'k', table: 't', where: {}, checkpoint: null, fullCursor: null, syncedAt: null })
        await tx.putMeta('offset', 1)
      })
      await store.clear()
      const state = await store.transaction('readonly', async (tx) => [await tx.scanRecords('t'), await tx.listScopes(), await tx.getMeta('offset'), await tx.countDirty()])
      expect(state).toEqual([[], [], undefined, 0])
      await store.close()
    })

    it('refuses transactions after close with CLOSED', async () => {
      const store = await harness.create()
      await store.close()
      const error = await store.transaction('readonly', (tx) => tx.countDirty()).catch((e: unknown) => e)
      expect(isLastwordError(error, 'CLOSED')).toBe(true)
    })

    it.runIf(harness.reopen !== undefined)('keeps data for a second handle on the same database', async () => {
      const store = await harness.create()
      await store.transaction('readwrite', (tx) => tx.putRecord(record('t', 'a', { dirty: true })))
      const other = await harness.reopen!(store)
      expect(await other.transaction('readonly', (tx) => tx.countDirty())).toBe(1)
      await store.close()
      expect((await other.transaction('readonly', (tx) => tx.getRecord('t', 'a')))?.dirty).toBe(true)
      await other.close()
    })
  })
}
