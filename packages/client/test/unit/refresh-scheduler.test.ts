/**
 * The live-query refresh scheduler on a memory store and a manual runtime: known uids are patched
 * (no full read), unknown changes wait for a throttled full read, `settle` skips the throttle, and a
 * failed refresh re-reads the table at its next change.
 */
import { describe, expect, it } from 'vitest'
import type { Stamp } from '@lastword/core'
import type { LiveQuery } from '../../src/live/live-query.js'
import { createRefreshScheduler } from '../../src/live/refresh-scheduler.js'
import { compileQuery } from '../../src/query.js'
import { createMemoryStore } from '../../src/store/memory-store.js'
import type { LocalStore, StoredRecord } from '../../src/store/types.js'
import { createManualRuntime } from '../../src/testing/index.js'
import { stamp, todosTable } from '../helpers.js'

const s = stamp(1_700_000_000_000) as Stamp
const record = (uid: string, title: string, done = false): StoredRecord => ({
  table: 'todos',
  uid,
  row: { title, done, priority: null, due: null, tags: null, tenant: null },
  created_at: s,
  updated_at: stamp(1_700_000_000_000, title.length) as Stamp,
  deleted_at: null,
  dirty: false,
  acknowledged: true,
})

function query(seen: string[][]): LiveQuery {
  return {
    id: 'q1',
    table: 'todos',
    where: { done: false },
    options: { orderBy: 'title' },
    callback: (rows) => seen.push(rows.map((r) => (r as unknown as { title: string }).title)),
    compiled: compileQuery(todosTable, { done: false }, { orderBy: 'title' }),
    result: null,
    needsFullRead: false,
    lastRefreshFailed: false,
    scopeHeld: true,
    closed: false,
  }
}

/** A store that counts full reads (scans) and can be made to fail. */
function countingStore(inner: LocalStore, skew: { ms: number }) {
  const counts = { scans: 0, fail: false, scanMs: 0 }
  const store: LocalStore = {
    kind: 'counting',
    clear: () => inner.clear(),
    close: () => inner.close(),
    transaction: (mode, fn) => {
      if (counts.fail) return Promise.reject(new Error('disk gone'))
      return inner.transaction(mode, (tx) =>
        fn({
          ...tx,
          scanRecords: (table, options) => {
            counts.scans++
            skew.ms += counts.scanMs
            return tx.scanRecords(table, options)
          },
        }),
      )
    },
  }
  return { store, counts }
}

async function setup() {
  const runtime = createManualRuntime()
  const memory = createMemoryStore()
  await memory.transaction('readwrite', async (tx) => {
    await tx.putRecord(record('a', 'apple'))
    await tx.putRecord(record('b', 'bread'))
  })
  // The scheduler's clock: the manual one, plus the time spent in scans.
  const skew = { ms: 0 }
  const { store, counts } = countingStore(memory, skew)
  const seen: string[][] = []
  const q = query(seen)
  const errors: string[] = []
  const clock = { ...runtime, now: () => runtime.now() + skew.ms }
  const scheduler = createRefreshScheduler({ store, runtime: clock, queries: () => [q], report: (e) => errors.push(e.code) })
  const put = (r: StoredRecord) => memory.transaction('readwrite', (tx) => tx.putRecord(r))
  scheduler.schedule()
  await runtime.advance(0)
  return { runtime, scheduler, seen, counts, put, q, errors }
}

describe('refresh scheduler', () => {
  it('reads a first result in full, then patches known uids without reading the table', async () => {
    const { runtime, scheduler, seen, counts, put } = await setup()
    expect(seen).toEqual([['apple', 'bread']])
    expect(counts.scans).toBe(1)
    await put(record('c', 'avocado'))
    scheduler.changed(['todos'], ['c'])
    await runtime.advance(0)
    expect(seen.at(-1)).toEqual(['apple', 'avocado', 'bread'])
    expect(counts.scans).toBe(1)
    // A change that leaves the rows as they were calls nobody.
    await put(record('d', 'done already', true))
    scheduler.changed(['todos'], ['d'])
    await runtime.advance(0)
    expect(seen).toHaveLength(2)
  })

  it('throttles full reads: the next waits as long as the last took, unless settle() asks', async () => {
    const { runtime, scheduler, seen, counts, put } = await setup()
    counts.scanMs = 50 // each full read takes 50 ms of the runtime's time
    await put(record('c', 'cherry'))
    scheduler.changed(['todos']) // uids unknown: a full read, in a later macrotask
    expect(counts.scans).toBe(1)
    await runtime.advance(0)
    expect(counts.scans).toBe(2)
    expect(seen.at(-1)).toEqual(['apple', 'bread', 'cherry'])
    await put(record('d', 'date'))
    scheduler.changed(['todos'])
    await runtime.advance(49)
    expect(counts.scans).toBe(2) // paused as long as the last read took
    await runtime.advance(1)
    expect(counts.scans).toBe(3)
    expect(seen.at(-1)).toEqual(['apple', 'bread', 'cherry', 'date'])
    await put(record('e', 'egg'))
    scheduler.changed(['todos'])
    await scheduler.settle() // sync() does not wait for the pause
    expect(counts.scans).toBe(4)
    expect(seen.at(-1)).toEqual(['apple', 'bread', 'cherry', 'date', 'egg'])
  })

  it('after a failed refresh, the next change re-reads the table in full', async () => {
    const { runtime, scheduler, seen, counts, put, q, errors } = await setup()
    counts.fail = true
    scheduler.changed(['todos'], ['a'])
    await runtime.advance(0)
    expect(errors).toEqual(['INTERNAL'])
    expect(q.lastRefreshFailed).toBe(true)
    counts.fail = false
    await put(record('e', 'egg'))
    scheduler.changed(['todos'], ['e'])
    await scheduler.settle()
    expect(counts.scans).toBe(2)
    expect(q.lastRefreshFailed).toBe(false)
    expect(seen.at(-1)).toEqual(['apple', 'bread', 'egg'])
  })

  it('does nothing after close, and resolves a settle at once', async () => {
    const { runtime, scheduler, seen, put } = await setup()
    scheduler.close()
    await put(record('c', 'cherry'))
    scheduler.changed(['todos'], ['c'])
    await scheduler.settle()
    await runtime.advance(100)
    expect(seen).toHaveLength(1)
    expect(runtime.pendingTimers()).toBe(0)
  })
})
