/**
 * Brings live queries up to date after changes. Known uids are read alone and patched into each
 * query's result (a write costs its records, not the table); records whose state the change carries (a
 * sync page's) are patched without a read. A query sees no callback, and nothing is read for it beyond
 * those records, unless its rows changed. Changes of unknown records (sync pages,
 * realtime, another tab's sync) mark queries as needing a full read; such reads run at most once per
 * macrotask, and after one the next waits as long as it took: a paged sync faster than the reads costs
 * a read per pause, not one per page. First results are read at once.
 */
import { LastwordError, toLastwordError } from '@lastword/core'
import { createLiveResult, isSelected } from '../query.js'
import type { CancelTimer, Runtime } from '../runtime.js'
import type { LocalStore, StoredRecord } from '../store/types.js'
import type { LiveQuery } from './live-query.js'

/** Changed uids of one table (to read) beyond which live queries read it in full rather than record by record. */
export const MAX_PATCH_UIDS = 2_000

/** A changed record: its state as stored (`{ record }`), or `null` when it must be read. */
type Change = { record: StoredRecord | undefined } | null

/** Options of {@link createRefreshScheduler}. */
export interface RefreshSchedulerOptions {
  store: LocalStore
  runtime: Runtime
  /** The open live queries. */
  queries(): Iterable<LiveQuery>
  report(error: LastwordError): void
}

/** The refresh of a client's live queries. */
export interface RefreshScheduler {
  /**
   * Local data of `tables` changed: `uids` are the records, when known (else the tables are read in full);
   * `states` (one table) what some of them now are, as stored: those are patched without a read.
   */
  changed(tables: Iterable<string>, uids?: Iterable<string>, states?: ReadonlyMap<string, StoredRecord | undefined>): void
  /** Reads the first result of queries that have none. */
  schedule(): void
  /** Brings every query up to date now, past the throttle: `sync()` resolves once callbacks saw what it pulled. */
  settle(): Promise<void>
  /** Stops: nothing more is read or delivered; pending `settle` calls resolve. */
  close(): void
}

/** Creates the scheduler. */
export function createRefreshScheduler(options: RefreshSchedulerOptions): RefreshScheduler {
  const { store, runtime, report } = options
  /**
   * Changes not yet shown, by table: the uids written (with their state when known; a later change of a
   * uid replaces an earlier one), or `null` when unknown (read the table in full).
   */
  const changes = new Map<string, Map<string, Change> | null>()
  /** Per table, how many pending changes must be read. */
  const toRead = new Map<string, number>()
  let closed = false
  let running = false
  let queued = false
  /** Cancels the timer that lets full reads run again after the throttle pause. */
  let cancelPause: CancelTimer | null = null
  /** Whether full reads may run now (the pause after the last one is over, or `settle` asked). */
  let fullReadsAllowed = false
  /** No full read starts before this time (ms): each is followed by a pause as long as it took. */
  let nextFullReadAt = 0
  const settleWaiters: (() => void)[] = []

  const open = (table?: string): LiveQuery[] =>
    [...options.queries()].filter((q) => (table === undefined || q.table === table) && q.compiled !== null && !q.closed)
  const awaitingFirst = (): LiveQuery[] => open().filter((q) => q.result === null && !q.lastRefreshFailed)

  function schedule(): void {
    if (running || queued || closed) return
    queued = true
    queueMicrotask(() => void flush())
  }

  async function flush(): Promise<void> {
    queued = false
    running = true
    try {
      while (!closed) {
        if (changes.size > 0) {
          const [table, uids] = changes.entries().next().value as [string, Map<string, Change> | null]
          changes.delete(table)
          toRead.delete(table)
          await patchTable(table, uids)
          continue
        }
        const first = awaitingFirst()
        const full = fullReadsAllowed ? open().filter((q) => q.needsFullRead) : []
        if (first.length === 0 && full.length === 0) break
        if (full.length > 0) fullReadsAllowed = false
        const started = runtime.now()
        const due = [...first, ...full]
        for (const table of new Set(due.map((q) => q.table))) await readTable(table, due.filter((q) => q.table === table))
        if (full.length > 0) nextFullReadAt = runtime.now() + (runtime.now() - started)
      }
    } catch (error) {
      if (!closed) report(toLastwordError(error))
    } finally {
      running = false
      afterFlush()
    }
  }

  function afterFlush(): void {
    const waiting = open().some((q) => q.needsFullRead)
    if (!waiting) fullReadsAllowed = false
    if (closed) {
      // Nothing more will run.
    } else if (changes.size > 0 || awaitingFirst().length > 0 || fullReadsAllowed) schedule()
    else if (waiting && cancelPause === null) {
      cancelPause = runtime.setTimer(
        () => {
          cancelPause = null
          fullReadsAllowed = true
          schedule()
        },
        Math.max(0, nextFullReadAt - runtime.now()),
      )
    }
    if (!queued) for (const resolve of settleWaiters.splice(0)) resolve()
  }

  /** Folds one table's change into its queries: patches for known uids, else marks them for a full read. */
  async function patchTable(table: string, uids: Map<string, Change> | null): Promise<void> {
    const queries = open(table)
    for (const q of queries) if (uids === null || q.lastRefreshFailed) q.needsFullRead = true
    // A query waiting for a full read (or its first) gets these changes from that read.
    const patchable = queries.filter((q) => q.result !== null && !q.needsFullRead)
    if (uids === null || uids.size === 0 || patchable.length === 0) return
    const wanted: string[] = []
    for (const [uid, change] of uids) if (change === null) wanted.push(uid)
    let records: (StoredRecord | undefined)[] = []
    if (wanted.length > 0) {
      try {
        records = await store.transaction('readonly', (tx) => tx.getRecords(table, wanted))
      } catch (error) {
        failed(patchable, error)
        return
      }
    }
    const read = new Map<string, StoredRecord | undefined>()
    wanted.forEach((uid, i) => read.set(uid, records[i]))
    const changed = [...uids].map(([uid, change]) => ({ uid, record: change === null ? read.get(uid) : change.record }))
    for (const q of patchable) {
      if (q.closed || q.result === null || q.needsFullRead) continue
      const outcome = q.result.patch(changed)
      if (outcome === 'reread') q.needsFullRead = true
      else if (outcome === 'changed') deliver(q)
    }
  }

  /** Reads a table once for the queries that need it in full, and refreshes each. */
  async function readTable(table: string, queries: LiveQuery[]): Promise<void> {
    for (const q of queries) q.needsFullRead = false // changes from now on are folded in after this read
    // Only selected records are copied out of the store (the memory store filters before copying).
    const filter = (record: StoredRecord): boolean => queries.some((q) => q.compiled !== null && isSelected(q.compiled, record))
    let records: StoredRecord[]
    try {
      records = await store.transaction('readonly', (tx) => tx.scanRecords(table, { filter }))
    } catch (error) {
      failed(queries, error)
      return
    }
    for (const q of queries) {
      if (q.closed || q.compiled === null) continue
      const result = q.result ?? createLiveResult(q.compiled)
      result.reset(records)
      q.result = result
      q.lastRefreshFailed = false
      deliver(q)
    }
  }

  /** Calls a query's callback if its rows differ from those it last got. */
  function deliver(q: LiveQuery): void {
    if (q.closed || q.result === null || !q.result.differs()) return
    const rows = q.result.take<never>()
    try {
      q.callback(rows)
    } catch (error) {
      report(new LastwordError('INTERNAL', `A subscribe callback on "${q.table}" threw`, undefined, { cause: error }))
    }
  }

  /** A refresh failed: the rows shown stay until the next change of the table, which re-reads it. */
  function failed(queries: LiveQuery[], error: unknown): void {
    for (const q of queries) {
      q.needsFullRead = false
      q.lastRefreshFailed = true
    }
    if (!closed) report(toLastwordError(error))
  }

  return {
    changed(tables, uids, states) {
      const list = [...tables]
      const known = uids === undefined ? null : [...uids]
      for (const table of list) {
        let pending = changes.get(table)
        if (pending === null) continue
        if (known === null) {
          changes.set(table, null)
          toRead.delete(table)
          continue
        }
        if (pending === undefined) changes.set(table, (pending = new Map()))
        let reads = toRead.get(table) ?? 0
        for (const uid of known) {
          const before = pending.get(uid)
          // A pending read stays one: the state it would be replaced by may be older than what it reads.
          if (before === null) continue
          const change: Change = list.length === 1 && states?.has(uid) === true ? { record: states.get(uid) } : null
          if (change === null) reads++
          pending.set(uid, change)
        }
        toRead.set(table, reads)
        // Too many records to read one by one: the table is read in full.
        if (reads > MAX_PATCH_UIDS) {
          changes.set(table, null)
          toRead.delete(table)
        }
      }
      schedule()
    },
    schedule,
    async settle() {
      if (closed) return
      cancelPause?.()
      cancelPause = null
      fullReadsAllowed = true
      const settled = new Promise<void>((resolve) => settleWaiters.push(resolve))
      schedule()
      await settled
    },
    close() {
      closed = true
      cancelPause?.()
      cancelPause = null
      for (const resolve of settleWaiters.splice(0)) resolve()
    },
  }
}
