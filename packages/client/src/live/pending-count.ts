/**
 * The count of dirty records (written locally, not yet acknowledged), told to the app when it changes.
 * Recounts are chained and coalesced: one waiting is enough, since it runs after every change made
 * before it starts.
 */
import type { LocalStore } from '../store/types.js'

/** The pending-count watcher of a client. */
export interface PendingCount {
  /** Something may have changed the count: recount (coalesced). */
  refresh(): void
}

/** Creates the watcher; `onChange` gets each new count. */
export function createPendingCount(options: { store: LocalStore; isClosed(): boolean; onChange(count: number): void }): PendingCount {
  let last = -1
  let queued = false
  let chain: Promise<void> = Promise.resolve()
  return {
    refresh() {
      if (queued) return
      queued = true
      chain = chain
        .then(async () => {
          queued = false
          if (options.isClosed()) return
          const count = await options.store.transaction('readonly', (tx) => tx.countDirty())
          if (count !== last) {
            last = count
            options.onChange(count)
          }
        })
        .catch(() => undefined)
    },
  }
}
