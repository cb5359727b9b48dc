/**
 * Times a live query's refresh after a local write (a by-hand check of the live-query cost): N records, one subscriber, 200 updates of
 * a record the query shows; the figure is write call → callback fired, p50 and p95. Not a vitest file
 * (no `.test.ts`): run it by hand from the repository root,
 *
 *   node --conditions=@lastword/source --import tsx packages/client/test/live-query-timing.ts [N] [writes]
 *
 * in memory and in fake-indexeddb (Node's stand-in for IndexedDB: absolute figures differ in a browser,
 * the ratio of before and after is what this shows).
 */
import { performance } from 'node:perf_hooks'
import type { Stamp } from '@lastword/core'
import { createIdbStore, createMemoryStore, createSyncClient, type LocalStore, type QueryOptions, type StoredRecord } from '../src/index.js'
import { IDBKeyRange, newIndexedDB, offlineTransport, stamp, todosTable, type Todo } from './helpers.js'

const N = Number(process.argv[2] ?? 10_000)
const WRITES = Number(process.argv[3] ?? 200)

async function fill(store: LocalStore, n: number): Promise<string[]> {
  const uids: string[] = []
  const t = stamp(Date.UTC(2024, 0, 1)) as Stamp
  const batch = 1_000
  for (let start = 0; start < n; start += batch) {
    await store.transaction('readwrite', async (tx) => {
      for (let i = start; i < Math.min(n, start + batch); i++) {
        const uid = `0190a0b0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`
        uids.push(uid)
        const record: StoredRecord = {
          table: 'todos',
          uid,
          row: { title: `title ${i}`, done: i % 2 === 1, priority: i % 5, due: null, tags: null, tenant: null },
          created_at: t,
          updated_at: t,
          deleted_at: null,
          dirty: false,
          acknowledged: true,
        }
        await tx.putRecord(record)
      }
    })
  }
  return uids
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function measure(kind: 'memory' | 'indexeddb', label: string, options: QueryOptions): Promise<void> {
  const store = kind === 'memory' ? createMemoryStore() : createIdbStore({ name: 'lastword:timing', indexedDB: newIndexedDB(), IDBKeyRange })
  const uids = await fill(store, N)
  const client = createSyncClient({ name: `timing-${kind}`, tables: [todosTable], transport: offlineTransport(), store, tabs: false, syncDebounceMs: 60_000 })
  const todos = client.table<Todo>('todos')
  let waiter: (() => void) | null = null
  let calls = 0
  const stop = todos.subscribe(
    { done: false },
    () => {
      calls++
      const w = waiter
      waiter = null
      w?.()
    },
    options,
  )
  const fired = (): Promise<void> => new Promise((resolve) => (waiter = resolve))
  await fired() // the initial result
  const samples: number[] = []
  for (let i = 0; i < WRITES; i++) {
    // An even record (done: false, in the filter) gets a title that moves it to the front.
    const uid = uids[(i * 2 * 37) % N]!
    const next = fired()
    const start = performance.now()
    await todos.update(uid, { title: `a ${String(WRITES - i).padStart(5, '0')}` })
    await next
    samples.push(performance.now() - start)
  }
  stop()
  await client.close()
  await store.close()
  console.log(
    `${kind.padEnd(9)} ${label.padEnd(30)} N=${N} writes=${WRITES}: p50 ${percentile(samples, 50).toFixed(2)} ms, p95 ${percentile(samples, 95).toFixed(2)} ms (callbacks ${calls})`,
  )
}

for (const kind of ['memory', 'indexeddb'] as const) {
  await measure(kind, "orderBy 'title'", { orderBy: 'title' })
  await measure(kind, "orderBy 'title', limit 50", { orderBy: 'title', limit: 50 })
}
