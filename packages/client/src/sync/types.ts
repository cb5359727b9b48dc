/**
 * The sync driver's public types: what it reports, what it needs from the client, and its interface.
 * `createSyncDriver` (driver.ts) implements them.
 */
import type { LastwordError, Scope, Stamp, TableDescriptor, Where, WireError } from '@lastword/core'
import type { ClientClock } from '../clock.js'
import type { RetryOptions, Runtime } from '../runtime.js'
import type { LocalStore, StoredRecord } from '../store/types.js'
import type { Transport } from '../transport.js'
import type { EditEvent } from '../edits/edit-events.js'

/** What one completed sync of a scope did: the demo's log is built from it. */
export interface SyncReport {
  table: string
  scopeKey: string
  /** `full` if any page of the sync was a full reconciliation (a resync included). */
  mode: 'incremental' | 'full'
  /** Records pushed and applied (or found already applied) by the server. */
  pushed: number
  /** Rows and tombstones received. */
  pulled: number
  /** Pushed records that lost to a newer state: the winner's version (`null` if unreadable) and the rule. */
  superseded: { uid: string; winnerStamp: Stamp | null; rule: string }[]
  /** Pushed records refused for a permanent reason: kept locally, no longer dirty, `rejected` set. */
  rejected: { uid: string; error: WireError }[]
  /** Records re-stamped after the server refused their stamps for drift; pushed again. */
  restamped: string[]
  /** Records the server could not take under this client's schema version (SCHEMA_OUTDATED, P8): kept dirty, pushed once upgraded. */
  outdated: string[]
  /** Records removed because they left the scope. */
  evicted: string[]
  /** Records removed because the server purged them after retention. */
  purged: string[]
  durationMs: number
}

/**
 * A clock problem, for the app to show (the `clock` event and `SyncClient.clock`). `refused`: the
 * server refused this device's stamps as too far ahead; the client corrected its offset, re-stamped the
 * records concerned (each says `restamped`) and pushes them again.
 */
export type ClockEvent = {
  kind: 'refused'
  /** How far the refused stamp was ahead of the server's clock, ms. */
  skewMs: number
  /** When the server refused it (server clock, ms). */
  at: number
  /** The offset the client corrected its clock to, ms (added to the device's clock). */
  offsetMs: number
}

/** Progress of a paged sync. */
export interface SyncProgress {
  table: string
  scopeKey: string
  /** Records received so far in this sync (rows, tombstones, evictions, purges). */
  received: number
  /**
   * How many records this sync will receive, `null` while unknown. Counted by the server on the first
   * page of a pull (an estimate: exact for a full reconciliation of an empty replica, an upper bound for
   * one that holds records; for an incremental pull, the changed records live in the scope, to which
   * evictions and tombstones add; `null` past 100,000). Never below `received`, and equal to it on a
   * sync's last event.
   */
  total: number | null
}

/** Limits and timings of the driver. */
export interface DriverSettings {
  retry: Required<RetryOptions>
  requestTimeoutMs: number
  pageSize: number | undefined
  /** Dirty records per request; more are pushed by a follow-up run. */
  maxPushPerRequest: number
  /** Metadata entries per full-reconciliation request (ARCHITECTURE.md: paged, ≤ 5,000). */
  maxEntriesPerRequest: number
}

/** What the driver needs from the client. */
export interface DriverDeps {
  store: LocalStore
  clock: ClientClock
  transport: Transport
  descriptor(table: string): TableDescriptor | undefined
  settings: DriverSettings
  /** Timers (backoff) and randomness (jitter, subscription ids). */
  runtime: Runtime
  onReport(report: SyncReport): void
  onProgress(progress: SyncProgress): void
  onError(error: LastwordError): void
  /** The server refused this client's clock (after the page was stored). */
  onClock(event: ClockEvent): void
  /** The server answered pushes of `table` `SCHEMA_OUTDATED`: it is at `current`, this client's descriptors older (P8). */
  onSchemaOutdated?(table: string, current: number | null): void
  /**
   * Local data of these tables changed (refresh live queries, pending count, other tabs): these uids, if
   * known, and of one table, `states`: what some of them now are, as stored (live queries patch from them
   * without reading).
   */
  onChanged(tables: string[], uids?: readonly string[], states?: ReadonlyMap<string, StoredRecord | undefined>): void
  /** A run started or ended (status `syncing`). */
  onActivity(): void
  /** A pushed edit lost to a later write or was refused (edits/edit-events.ts). */
  onEdit?(event: EditEvent): void
}

/** A scope the driver keeps synced. */
export interface ScopeQuery {
  table: string
  key: string
  scope: Scope
  where: Where
}

/** What the sync driver is doing, for `client.inspect()` (inspect-driver.ts). */
export interface DriverInspection {
  /** After `lw:hello`, until the connection is lost. */
  connected: boolean
  /** The scopes it syncs now: held ones, and released ones still running. */
  scopes: {
    key: string
    table: string
    where: Where
    /** Live queries and other tabs holding it. */
    holders: number
    running: boolean
    /** The server keeps it live on the current socket. */
    live: boolean
    retry: { attempt: number; code: string; at: number } | null
  }[]
  /** Records whose push awaits its answer. */
  inFlight: [table: string, uid: string][]
}

/** The sync driver of one client. */
export interface SyncDriver {
  /** Keeps a scope synced on behalf of `holder` (a live query, or another tab). */
  acquire(query: ScopeQuery, holder: string): void
  /** Releases a holder; on the last one the scope's realtime subscription is dropped (`lw:unsubscribe`). */
  release(key: string, holder: string): void
  /** The connection is ready (after `lw:hello`) or lost. Ready: every held scope syncs. */
  setConnected(connected: boolean): void
  /** Syncs every held scope and pushes every dirty record now. */
  syncAll(): Promise<void>
  /** Local writes were made: push them (at once, or after the push in flight). */
  afterWrite(): void
  /** An `lw:changes` event, unvalidated. */
  onRealtime(event: unknown): void
  /** Whether a sync is running. */
  busy(): boolean
  /** What the driver is doing now (for `client.inspect()`). */
  inspect(): DriverInspection
  stop(): void
}
