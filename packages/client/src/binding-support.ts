/**
 * What every framework binding (`@lastword/react`, `@lastword/vue`) reads of a client the same way, kept
 * here once: its sync status from its getters and events, and a query's arguments compared by value.
 */
import type { LastwordError } from '@lastword/core'
import type { ClientStatus, SyncClient } from './client-api.js'
import type { StorageState } from './storage/storage-status.js'
import type { ClockEvent, SyncReport } from './sync/driver.js'

/** A client's sync status, as the bindings' `useSyncStatus` returns it. */
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

export type SyncStatusEvent = (typeof STATUS_EVENTS)[number] | 'pending-count'

/**
 * The status after `event` (with its `payload`), from the previous status and the client's getters.
 * Fields the client keeps itself are read from it; the rest come from the events.
 */
export function readSyncStatus(client: SyncClient, previous: SyncStatus | null, event?: SyncStatusEvent, payload?: unknown, now: () => number = Date.now): SyncStatus {
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
 * A query's arguments as one string, equal for equal values however the objects were built (keys
 * sorted, dates as ISO strings): the hooks re-subscribe when the arguments change by value, not when
 * a render builds a new object literal with the same content.
 */
export function argsKey(value: unknown): string {
  return JSON.stringify(normalise(value))
}

function normalise(value: unknown): unknown {
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? null : value.toISOString() }
  if (Array.isArray(value)) return value.map(normalise)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key]
      if (item !== undefined) out[key] = normalise(item)
    }
    return out
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() }
  return value
}
