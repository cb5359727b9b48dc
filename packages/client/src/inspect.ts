/**
 * `client.inspect()`: what the client knows about its own state, as one plain, JSON-serialisable
 * snapshot for devtools and bug reports — its scopes and where their syncs stand, the records waiting to
 * be pushed and why each waits, the records the server refused, its last errors, its clock and its
 * role among tabs. It reads the store and the driver; it changes nothing.
 */
import { keyOf, type LastwordError, type Stamp, type TableDescriptor, type Where, type WireError } from '@lastword/core'
import type { ClientStatus } from './client-api.js'
import type { ClientClock } from './clock.js'
import type { Runtime } from './runtime.js'
import type { LocalStore, StoredRecord } from './store/types.js'
import type { ClockEvent, SyncReport } from './sync/driver.js'
import type { SyncDriver } from './sync/types.js'

/** Why a dirty record has not reached the server yet, as far as this client can tell. */
export type PendingState =
  /** Its push was sent and awaits the server's answer. */
  | 'in-flight'
  /** A sync of its table failed transiently and waits out its backoff before retrying. */
  | 'waiting-for-retry'
  /** The client has no connection (offline, connecting, or disconnected on purpose). */
  | 'waiting-for-connection'
  /** Connected, not in flight: it goes with the next push of its table. */
  | 'queued'
  /** This tab is a follower: the owner tab pushes it, and this tab cannot see that push. */
  | 'owner-tab'

/** One dirty record: written locally, not yet acknowledged by the server. */
export interface PendingRecordInspection {
  table: string
  uid: string
  /** The name the table's rows carry the uid under (`uid`, or the app's primary key, e.g. `id`). */
  key: string
  /** `delete`: a tombstone; `new`: a record the server never acknowledged; `update`: a change to one it did. */
  change: 'new' | 'update' | 'delete'
  state: PendingState
  /** The stamp of the local write. */
  stamp: Stamp
  /** Re-stamped after the server refused this device's clock (pushed again). */
  restamped: boolean
}

/** A record the server refused for a permanent reason: kept locally, no longer pushed, until written again. */
export interface RejectedRecordInspection {
  table: string
  uid: string
  /** The name the table's rows carry the uid under (`uid`, or the app's primary key, e.g. `id`). */
  key: string
  error: WireError
}

/** A scope of this client (stored, or held and not synced yet), with what its sync is doing. */
export interface ScopeInspection {
  key: string
  table: string
  /** The filter, in wire form. */
  where: Where
  /** Whether it has an incremental checkpoint (`false`: its next sync is a full reconciliation). */
  hasCheckpoint: boolean
  /** The checkpoint token (opaque), or `null`. */
  checkpoint: string | null
  /** An interrupted, paged full reconciliation resumes from a cursor. */
  fullReconciliationInProgress: boolean
  /** Stored: it synced at least once (its records are kept until evicted). */
  stored: boolean
  /** When its last sync completed (client clock, ms), or `null`: never. */
  lastSyncAt: number | null
  /** Live queries and other tabs holding it (0: stored only; its records stay until evicted). */
  holders: number
  /** A sync of it is running. */
  running: boolean
  /** The server keeps it live (realtime) on the current connection. */
  live: boolean
  /** Its sync waits to retry: the attempt that failed, its error code, and when it retries (client clock, ms). */
  retry: { attempt: number; code: string; at: number } | null
}

/** An error the client reported (`error` event), with when. */
export interface ErrorInspection {
  code: string
  message: string
  /** Client clock, ms. */
  at: number
}

/** The snapshot `client.inspect()` returns. Plain data: `JSON.stringify` keeps all of it. */
export interface ClientInspection {
  name: string
  clientId: string
  /** When it was taken (the client's corrected clock, ms). */
  at: number
  status: ClientStatus
  /** `owner` syncs for every tab sharing the database; a `follower` asks the owner. */
  tab: { role: 'owner' | 'follower' }
  clock: {
    /** The learned server offset added to the device's clock, ms. */
    offsetMs: number
    /** The last stamp made or received. */
    lastStamp: Stamp | null
    /** How far ahead the server last measured this device's clock when refusing it, ms (`null`: never refused). */
    skewMs: number | null
    /** That refusal in full, or `null`. */
    refused: ClockEvent | null
  }
  scopes: ScopeInspection[]
  pending: {
    /** Every dirty record. */
    count: number
    /** The first {@link INSPECT_LIMITS.pendingRecords}, in `[table, uid]` order. */
    records: PendingRecordInspection[]
  }
  /** Records the server refused since this client started, still refused (newest first). */
  rejected: RejectedRecordInspection[]
  /** The last errors reported, newest first. */
  errors: ErrorInspection[]
  /** The last completed sync of a scope since this client started, or `null`. */
  lastSync: { table: string; scopeKey: string; mode: 'incremental' | 'full'; pushed: number; pulled: number; at: number } | null
}

/** How much a snapshot lists (the counts stay exact). */
export const INSPECT_LIMITS = { pendingRecords: 200, rejected: 50, errors: 20 } as const

/** What the inspector reads. */
export interface InspectorDeps {
  name: string
  clientId: string
  store: LocalStore
  runtime: Runtime
  clock(): Promise<ClientClock>
  driver(): SyncDriver | null
  status(): ClientStatus
  isOwner(): boolean
  clockRefused(): ClockEvent | null
  /** A table's descriptor, when known. */
  descriptor(table: string): TableDescriptor | undefined
}

/** The inspector of a client: it remembers errors and reports as they happen, and reads the rest on demand. */
export interface Inspector {
  noteError(error: LastwordError): void
  noteSync(report: SyncReport): void
  inspect(): Promise<ClientInspection>
}

/** Creates the inspector of one client. */
export function createInspector(deps: InspectorDeps): Inspector {
  const errors: ErrorInspection[] = []
  const rejected = new Map<string, { table: string; uid: string }>()
  let lastSync: ClientInspection['lastSync'] = null

  return {
    noteError(error) {
      errors.unshift({ code: error.code, message: error.message, at: deps.runtime.now() })
      errors.length = Math.min(errors.length, INSPECT_LIMITS.errors)
    },
    noteSync(report) {
      lastSync = { table: report.table, scopeKey: report.scopeKey, mode: report.mode, pushed: report.pushed, pulled: report.pulled, at: deps.runtime.now() }
      for (const { uid } of report.rejected) {
        const key = `${report.table}\u0000${uid}`
        rejected.delete(key)
        rejected.set(key, { table: report.table, uid })
      }
      while (rejected.size > INSPECT_LIMITS.rejected) rejected.delete(rejected.keys().next().value as string)
    },
    async inspect() {
      const clock = await deps.clock()
      const candidates = [...rejected.values()]
      const { scopes, dirty, refused } = await deps.store.transaction('readonly', async (tx) => ({
        scopes: await tx.listScopes(),
        dirty: await tx.dirtyRecords(),
        refused: await Promise.all(candidates.map((c) => tx.getRecord(c.table, c.uid))),
      }))
      const driver = deps.driver()?.inspect() ?? null
      const status = deps.status()
      const isOwner = deps.isOwner()
      const running = new Map((driver?.scopes ?? []).map((s) => [s.key, s]))
      const inFlight = new Set((driver?.inFlight ?? []).map(([table, uid]) => `${table}\u0000${uid}`))
      const retryingTables = new Set((driver?.scopes ?? []).filter((s) => s.retry !== null).map((s) => s.table))
      const storedKeys = new Set(scopes.map((s) => s.key))
      // Held scopes not stored yet (no sync of theirs completed).
      const unstored: { key: string; table: string; where: Where; checkpoint?: undefined; fullCursor?: undefined; syncedAt?: undefined }[] = (
        driver?.scopes ?? []
      )
        .filter((s) => !storedKeys.has(s.key))
        .map((s) => ({ key: s.key, table: s.table, where: s.where }))
      const connected = driver?.connected === true && status !== 'offline' && status !== 'connecting'

      const stateOf = (record: StoredRecord): PendingState => {
        if (!isOwner) return 'owner-tab'
        if (inFlight.has(`${record.table}\u0000${record.uid}`)) return 'in-flight'
        if (!connected) return 'waiting-for-connection'
        if (retryingTables.has(record.table)) return 'waiting-for-retry'
        return 'queued'
      }
      const refusedNow = refused.flatMap((record): RejectedRecordInspection[] =>
        record !== undefined && record.rejected !== undefined && !record.dirty
          ? [{ table: record.table, uid: record.uid, key: keyOf(deps.descriptor(record.table) ?? {}), error: { ...record.rejected } }]
          : [],
      )
      const refusal = deps.clockRefused()
      const snapshot: ClientInspection = {
        name: deps.name,
        clientId: deps.clientId,
        at: clock.now(),
        status,
        tab: { role: isOwner ? 'owner' : 'follower' },
        clock: { offsetMs: clock.offset(), lastStamp: clock.last(), skewMs: refusal?.skewMs ?? null, refused: refusal === null ? null : { ...refusal } },
        scopes: [...scopes, ...unstored].map((s) => {
          const live = running.get(s.key)
          return {
            key: s.key,
            table: s.table,
            where: s.where,
            stored: s.syncedAt !== undefined,
            hasCheckpoint: s.checkpoint != null,
            checkpoint: s.checkpoint ?? null,
            fullReconciliationInProgress: s.fullCursor != null,
            lastSyncAt: s.syncedAt ?? null,
            holders: live?.holders ?? 0,
            running: live?.running ?? false,
            live: live?.live ?? false,
            retry: live?.retry ?? null,
          }
        }),
        pending: {
          count: dirty.length,
          records: dirty.slice(0, INSPECT_LIMITS.pendingRecords).map((r) => ({
            table: r.table,
            uid: r.uid,
            key: keyOf(deps.descriptor(r.table) ?? {}),
            change: r.deleted_at !== null ? 'delete' : !r.acknowledged ? 'new' : 'update',
            state: stateOf(r),
            stamp: r.deleted_at ?? r.updated_at,
            restamped: r.restamped === true,
          })),
        },
        rejected: refusedNow.reverse(),
        errors: errors.map((e) => ({ ...e })),
        lastSync: lastSync === null ? null : { ...lastSync },
      }
      // Plain data only: whatever the store hands back (a `where` with dates, a row) goes through JSON.
      return JSON.parse(JSON.stringify(snapshot)) as ClientInspection
    },
  }
}
