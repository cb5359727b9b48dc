/**
 * Routes local writes to what pushes them: with `pushBy: 'unit'` (the default), the pusher (pusher.ts),
 * at once. With `pushBy: 'scope'`, the scopes: at once (or after `debounceMs`, when set), each held
 * scope whose filter matches a dirty record pushes, the first held scope of the table pushes the records
 * no held scope matches, and a table with no held scope is pushed by a push-only scope (a stored scope of
 * that table). These runs only push (`pull: false`): the server fans the writes out to the other clients
 * and this client learns theirs by realtime. Writes made while a push is in flight coalesce: the
 * scheduler runs one more push after it, carrying everything written meanwhile.
 */
import { toLastwordError } from '@lastword/core'
import type { CancelTimer } from '../runtime.js'
import type { StoredRecord } from '../store/types.js'
import type { SyncContext } from './context.js'
import { inScope } from './records.js'
import type { Pusher } from './pusher.js'
import type { Scheduler } from './scheduler.js'

/** The write router of one driver. */
export interface WriteRouter {
  /** Local writes to this table: route its dirty records now (or after the debounce). */
  scheduleFlush(table: string): void
  /** Syncs, as push-only scopes, a stored scope of each table (of `tables`, or all) with dirty records but no held scope. */
  syncPushOnlyScopes(tables?: Iterable<string>): Promise<Promise<void>[]>
  /** Cancels a pending debounce. */
  stop(): void
}

const quietly = (promise: Promise<void>): void => {
  promise.catch(() => undefined)
}

/** Creates the write router. */
export function createWriteRouter(ctx: SyncContext, scheduler: Scheduler, pusher: Pusher): WriteRouter {
  const { store, runtime, settings } = ctx.deps
  const written = new Set<string>()
  let debounce: CancelTimer | null = null

  async function syncPushOnlyScopes(tables?: Iterable<string>, pull = true): Promise<Promise<void>[]> {
    // Pushed by units (pusher.ts): no scope is synced for its dirty records.
    if (settings.pushBy === 'unit') return []
    const found = await store.transaction('readonly', (tx) => ctx.registry.findPushOnlyScopes(tx, tables))
    return found.map((stored) => scheduler.requestSync(ctx.registry.pushOnlyEntry(stored), pull))
  }

  /** A flush is reading the dirty records; writes made meanwhile flush once more after it. */
  let flushing = false
  let flushAgain = false

  function flush(): void {
    debounce = null
    if (flushing) {
      flushAgain = true
      return
    }
    flushing = true
    flushWrites()
      .catch((error: unknown) => ctx.deps.onError(toLastwordError(error)))
      .finally(() => {
        flushing = false
        if (flushAgain && written.size > 0) {
          flushAgain = false
          flush()
        }
      })
  }

  async function flushWrites(): Promise<void> {
    const tables = [...written]
    written.clear()
    if (!ctx.state.connected || ctx.state.stopped) return
    const dirty = await store.transaction('readonly', async (tx) => {
      const out = new Map<string, StoredRecord[]>()
      for (const table of tables) out.set(table, await tx.dirtyRecords(table))
      return out
    })
    const tablesWithoutHeldScope: string[] = []
    for (const [table, all] of dirty) {
      // Records already being pushed at this version: no new run for them.
      const records = all.filter((r) => !ctx.pushes.has(r))
      const held = ctx.registry.heldOf(table)
      if (held.length === 0) {
        if (records.length > 0) tablesWithoutHeldScope.push(table)
        continue
      }
      for (const entry of held) if (records.some((r) => inScope(r, entry.scope))) quietly(scheduler.requestSync(entry, false))
      const first = held[0]
      if (first !== undefined && records.some((r) => !held.some((e) => inScope(r, e.scope)))) quietly(scheduler.requestSync(first, false))
    }
    if (tablesWithoutHeldScope.length > 0) for (const run of await syncPushOnlyScopes(tablesWithoutHeldScope, false)) quietly(run)
  }

  return {
    scheduleFlush(table) {
      // Pushed by units: at once, every table's dirty records (pusher.ts).
      if (settings.pushBy === 'unit') return pusher.schedule()
      written.add(table)
      if (debounce !== null || ctx.state.stopped) return
      if (settings.debounceMs <= 0) flush()
      else debounce = runtime.setTimer(flush, settings.debounceMs)
    },
    syncPushOnlyScopes,
    stop() {
      debounce?.()
      debounce = null
    },
  }
}
