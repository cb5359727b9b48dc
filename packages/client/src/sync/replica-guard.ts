/**
 * Keeps a sync run on the replica it began on. A run reads the store (its checkpoint, its entries, its
 * dirty records), asks the server, then stores the answer: if the IndexedDB database was deleted,
 * evicted or replaced in between (the store's replica marker changed, store/replica-marker.ts), that
 * answer describes a replica that no longer exists — an incremental page stored into an empty database
 * would claim a checkpoint over records it does not hold. The run's transactions therefore check the
 * marker they first saw; on another, they fail `TRANSIENT` with nothing written, and the retried run
 * starts from what the new database holds (no checkpoint: a full reconciliation).
 */
import { LastwordError } from '@lastword/core'
import type { LocalStore } from '../store/types.js'
import type { SyncContext } from './context.js'

/** A store that says which replica it has open (the IndexedDB store). */
type MarkedStore = LocalStore & { readonly replica: string | undefined }

const isMarked = (store: LocalStore): store is MarkedStore => 'replica' in store

/** `ctx` with a store whose transactions, for this run, refuse another replica than the first one seen. */
export function guardReplica(ctx: SyncContext): SyncContext {
  const store = ctx.deps.store
  if (!isMarked(store)) return ctx
  let seen: string | undefined | null = null
  const guarded: LocalStore = {
    kind: store.kind,
    clear: () => store.clear(),
    close: () => store.close(),
    transaction: (mode, fn) =>
      store.transaction(mode, (tx) => {
        // Inside the transaction the connection is open, so `replica` is the open database's.
        if (seen === null) seen = store.replica
        else if (store.replica !== seen) throw new LastwordError('TRANSIENT', 'The local database was replaced during the sync; starting over')
        return fn(tx)
      }),
  }
  return { ...ctx, deps: { ...ctx.deps, store: guarded } }
}
