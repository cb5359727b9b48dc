/**
 * `useSyncStatus`: where a client stands — its status, how many records wait to be pushed, when it
 * last synced, clock problems, the last error, its tab role — as refs, read from the client's getters
 * and events, and released when the calling scope is disposed.
 *
 * The fields are built in one place, {@link readSyncStatus}, from the events in {@link STATUS_EVENTS}: a
 * field the client grows (a getter or an event) is one line in each.
 */
import { onScopeDispose, shallowReactive, toRefs, type ToRefs } from 'vue'
import type { ClientStatus, ClockEvent, LastwordError, StorageState, SyncClient, SyncReport } from './client-types.js'
import { useLastword } from './context.js'

/** A client's sync status. */
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

/** The status after `event` (with its `payload`), from the previous status and the client's getters. */
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

/**
 * The sync status of the provided client (or of `client`) as refs.
 *
 * @example
 * const { status, pending, lastSyncAt } = useSyncStatus()
 */
export function useSyncStatus(client?: SyncClient): ToRefs<Readonly<SyncStatus>> {
  const chosen = useLastword(client)
  const state = shallowReactive(readSyncStatus(chosen, null))
  const update = (event?: StatusEvent, payload?: unknown): void => {
    const next = readSyncStatus(chosen, state, event, payload)
    for (const key of Object.keys(next) as (keyof SyncStatus)[]) {
      if (!Object.is(state[key], next[key])) (state as Record<keyof SyncStatus, unknown>)[key] = next[key]
    }
  }
  const offs = STATUS_EVENTS.map((event) => chosen.on(event, (payload) => update(event, payload)))
  let disposed = false
  // The `pending` event tells changes only: count once now.
  chosen.pendingCount().then(
    (count) => {
      if (!disposed && state.pending === null) update('pending-count', count)
    },
    () => undefined,
  )
  onScopeDispose(() => {
    disposed = true
    for (const off of offs) off()
  })
  return toRefs(state)
}
