/**
 * `useSyncStatus`: where a client stands — its status, how many records wait to be pushed, when it
 * last synced, clock problems, the last error, its tab role — read from the client's getters and events.
 *
 * One store per client (shared by every component that asks), read through `useSyncExternalStore`;
 * its snapshot object changes only when a field does. The fields are built by @lastword/client's
 * `readSyncStatus`, from the events in its `STATUS_EVENTS` (shared with @lastword/vue).
 */
import { readSyncStatus, STATUS_EVENTS, type SyncClient, type SyncStatus, type SyncStatusEvent } from './client-types.js'
import { useSyncExternalStore } from 'react'
import { useLastword } from './context.js'

/** The status of one client with its subscribers: the external store React reads. */
export interface SyncStatusStore {
  subscribe(listener: () => void): () => void
  getSnapshot(): SyncStatus
}

const stores = new WeakMap<SyncClient, SyncStatusStore>()

function sameStatus(a: SyncStatus, b: SyncStatus): boolean {
  for (const key of Object.keys(b) as (keyof SyncStatus)[]) if (!Object.is(a[key], b[key])) return false
  return true
}

/** The status store of `client` (one per client): it listens to the client while anyone listens to it. */
export function syncStatusStore(client: SyncClient): SyncStatusStore {
  let store = stores.get(client)
  if (store !== undefined) return store
  let snapshot = readSyncStatus(client, null)
  const listeners = new Set<() => void>()
  let detach: (() => void)[] = []
  const update = (event?: SyncStatusEvent, payload?: unknown): void => {
    const next = readSyncStatus(client, snapshot, event, payload)
    if (sameStatus(snapshot, next)) return
    snapshot = next
    for (const listener of [...listeners]) listener()
  }
  store = {
    subscribe(listener) {
      listeners.add(listener)
      if (listeners.size === 1) {
        detach = STATUS_EVENTS.map((event) => client.on(event, (payload) => update(event, payload)))
        update()
        // The `pending` event tells changes only: count once now.
        client.pendingCount().then(
          (count) => {
            if (listeners.size > 0 && snapshot.pending === null) update('pending-count', count)
          },
          () => undefined,
        )
      }
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0) {
          for (const off of detach) off()
          detach = []
        }
      }
    },
    getSnapshot() {
      // Unwatched (before the first subscriber, after the last), the client's getters are read afresh.
      if (listeners.size === 0) {
        const next = readSyncStatus(client, snapshot)
        if (!sameStatus(snapshot, next)) snapshot = next
      }
      return snapshot
    },
  }
  stores.set(client, store)
  return store
}

/**
 * The sync status of the provider's client (or of `client`), re-rendering when it changes.
 *
 * @example
 * const { status, pending, lastSyncAt, clock } = useSyncStatus()
 */
export function useSyncStatus(client?: SyncClient): SyncStatus {
  const store = syncStatusStore(useLastword(client))
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}
