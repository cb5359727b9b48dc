/**
 * `useSyncStatus`: where a client stands — its status, how many records wait to be pushed, when it
 * last synced, clock problems, the last error, its tab role — read from the client's getters and events.
 *
 * One store per client (shared by every component that asks), read through `useSyncExternalStore`;
 * its snapshot object changes only when a field does. The fields are built in one place,
 * {@link readSyncStatus}, from the events in {@link STATUS_EVENTS}: a field the client grows (a getter
 * or an event) is one line in each.
 */
import type { ClientStatus, ClockEvent, LastwordError, StorageState, SyncClient, SyncReport } from './client-types.js'
import { useSyncExternalStore } from 'react'
import { useLastword } from './context.js'

/** A client's sync status, as `useSyncStatus` returns it. */
export interface SyncStatus {
  status: ClientStatus
  /** Connected: `online` or `syncing`. */
  connected: boolean
  /** Records written locally and not yet acknowledged by the server (`null` until first counted). */
  pending: number | null
  /** The last completed sync of a scope, since this client started (`null`: none yet). */
  lastSync: SyncReport | null
  /** When that sync completed (this page's clock, ms), or `null`. */
  lastSyncAt: number | null
  /** The last time the server refused this device's clock, with the skew it measured, or `null`. */
  clock: ClockEvent | null
  /** The last error the client reported, or `null`. */
  error: LastwordError | null
  /** Whether a sync of some scope has completed, in any tab (stored: a reload knows). */
  hasSynced: boolean
  /** When a sync last completed (server-corrected ms), in any tab, or `null`. */
  lastSyncedAt: number | null
  /** Whether the browser keeps the local data under storage pressure (`client.storage.persistence`). */
  persistence: StorageState['persistence']
  /** When the local database was found deleted or evicted under the running client, or `null`. */
  storageLostAt: number | null
  /** Whether this client is the sync owner among the tabs sharing its database. */
  isOwner: boolean
}

/** The client events the status follows (each one re-reads the fields). */
export const STATUS_EVENTS = ['status', 'pending', 'sync', 'synced', 'storage', 'clock', 'error'] as const

type StatusEvent = (typeof STATUS_EVENTS)[number] | 'pending-count'

/**
 * The status after `event` (with its `payload`), from the previous status and the client's getters.
 * Fields the client keeps itself are read from it; the rest come from the events.
 */
export function readSyncStatus(client: SyncClient, previous: SyncStatus | null, event?: StatusEvent, payload?: unknown, now: () => number = Date.now): SyncStatus {
  const status = client.status
  return {
    status,
    connected: status === 'online' || status === 'syncing',
    pending: event === 'pending' || event === 'pending-count' ? (payload as number) : (previous?.pending ?? null),
    lastSync: event === 'sync' ? (payload as SyncReport) : (previous?.lastSync ?? null),
    lastSyncAt: event === 'sync' ? now() : (previous?.lastSyncAt ?? null),
    clock: client.clockRefused,
    error: client.lastError,
    hasSynced: client.hasSynced,
    lastSyncedAt: client.lastSyncedAt,
    persistence: client.storage.persistence,
    storageLostAt: client.storage.lostAt,
    isOwner: client.isOwner,
  }
}

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
  const update = (event?: StatusEvent, payload?: unknown): void => {
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
