/**
 * The sync driver (ARCHITECTURE.md, "One request per scope"). One `lw:sync` per scope, coalesced: one
 * run in flight per scope, and a request made during a run schedules exactly one more. Each page is
 * stored with its checkpoint (or full-reconciliation cursor) in ONE store transaction, so an interrupted
 * sync resumes from what it stored (I10). Push outcomes, rows, tombstones, evictions are decided by
 * core's rules (`isNewer`, `versionOf`); a write made during a sync survives it (trap 5).
 */
import {
  LastwordError,
  assertStamp,
  compareStamps,
  decideRealtime,
  decodeCheckpoint,
  fromWireError,
  parseWire,
  realtimeEventSchema,
  syncPageSchema,
  toLastwordError,
  validateWhere,
  versionOf,
  type ErrorCode,
  type RealtimeEvent,
  type RecordState,
  type Scope,
  type Stamp,
  type SyncPage,
  type SyncRequest,
  type TableDescriptor,
  type Where,
  type WireError,
} from '@lastword/core'
import {
  applyIncoming,
  fromWireRecord,
  inScope,
  latestVersion,
  readRecords,
  removeUnlessHeld,
  restamp,
  toWireRecord,
} from './apply.js'
import type { ClientClock } from './clock.js'
import { randomSubscriptionId } from './ids.js'
import type { LocalStore, StoreTransaction, StoredRecord, StoredScope } from './store/types.js'
import type { Transport } from './transport.js'

/** Exponential backoff with jitter for transient failures. */
export interface RetryOptions {
  /** First delay, ms. Default 250. */
  baseMs?: number
  /** Largest delay, ms. Default 30,000. */
  maxMs?: number
  /** Growth per attempt. Default 2. */
  factor?: number
  /** Fraction of each delay that is randomised away (0..1). Default 0.5. */
  jitter?: number
}

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
  /** Records removed because they left the scope. */
  evicted: string[]
  /** Records removed because the server purged them after retention. */
  purged: string[]
  durationMs: number
}

/** Progress of a paged sync. */
export interface SyncProgress {
  table: string
  scopeKey: string
  /** Records received so far in this sync (rows, tombstones, evictions, purges). */
  received: number
  /** The total, when the server knows it. */
  total: number | null
}

/**
 * Hooks for tests. Internal: not part of the supported API, may change without notice.
 */
export interface TestHooks {
  /** Return `true` to drop a realtime event (as if socket.io lost it). */
  dropRealtime?: (event: RealtimeEvent) => boolean
}

/** Limits and timings of the driver. */
export interface DriverSettings {
  debounceMs: number
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
  hooks: TestHooks
  random(): number
  onReport(report: SyncReport): void
  onProgress(progress: SyncProgress): void
  onError(error: LastwordError): void
  /** Local data of these tables changed (refresh live queries, pending count, other tabs): these uids, if known. */
  onChanged(tables: string[], uids?: readonly string[]): void
  /** A run started or ended (status `syncing`). */
  onActivity(): void
}

/** A scope the driver keeps synced. */
export interface ScopeQuery {
  table: string
  key: string
  scope: Scope
  where: Where
}

/** The sync driver of one client. */
export interface SyncDriver {
  /** Keeps a scope synced on behalf of `holder` (a live query, or another tab). */
  acquire(query: ScopeQuery, holder: string): void
  /** Releases a holder; on the last one the scope's realtime subscription is dropped (`lw:unsubscribe`). */
  release(key: string, holder: string): void
  /** The connection is ready (after `lw:hello`) or lost. Ready: every held scope syncs. */
  setConnected(connected: boolean): void
  /** Syncs every held scope (and the dirty records no held scope covers) now. */
  syncAll(): Promise<void>
  /** Local writes to these tables: sync the scopes concerned after the debounce. */
  afterWrite(tables: Iterable<string>): void
  /** An `lw:changes` event, unvalidated. */
  onRealtime(event: unknown): void
  /** Whether a sync is running. */
  busy(): boolean
  stop(): void
}

interface ScopeEntry extends ScopeQuery {
  holders: Set<string>
  subscriptionId: string
  /** A stored scope synced only to carry dirty records that no held scope covers. */
  carrier: boolean
  running: Promise<void> | null
  again: boolean
  /** The server keeps this scope live on the current socket. */
  serverSubscribed: boolean
}

interface BuiltRequest {
  request: SyncRequest
  /** Pushed records by uid, as they were when sent. */
  pushed: Map<string, StoredRecord>
  /** More dirty records were eligible than one request carries (or were held back until a full reconciliation ends). */
  more: boolean
}

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TRANSIENT', 'RATE_LIMITED'])
const flightKey = (table: string, uid: string): string => `${table}\u0000${uid}`

/** Creates the sync driver. */
export function createSyncDriver(deps: DriverDeps): SyncDriver {
  const { store, clock, transport, settings } = deps
  const active = new Map<string, ScopeEntry>()
  const carriers = new Map<string, ScopeEntry>()
  /** Pushed records awaiting their outcome: never pushed twice at once by two scopes. */
  const flight = new Map<string, Stamp>()
  /** Compiled filters of stored scopes, by key. */
  const compiled = new Map<string, Scope | null>()
  const sleepers = new Set<() => void>()
  let connected = false
  let stopped = false
  let runs = 0
  let debounce: ReturnType<typeof setTimeout> | null = null
  const written = new Set<string>()
  let realtime: Promise<void> = Promise.resolve()
  /** By table: the greatest rev of the realtime events applied (decideRealtime). */
  const realtimeRev = new Map<string, number>()

  const offline = (): LastwordError => new LastwordError('TRANSIENT', 'Offline: the sync resumes when the connection is back')
  const closedError = (): LastwordError => new LastwordError('CLOSED', 'The client is closed')

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      sleepers.add(wake)
    })
  }

  function backoff(attempt: number): number {
    const { baseMs, maxMs, factor, jitter } = settings.retry
    const delay = Math.min(maxMs, baseMs * factor ** attempt)
    return delay * (1 - jitter * deps.random())
  }

  function heldOf(table: string): ScopeEntry[] {
    return [...active.values()].filter((e) => e.table === table && e.holders.size > 0).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  function scopeOf(stored: StoredScope): Scope | null {
    let scope = compiled.get(stored.key)
    if (scope === undefined) {
      const table = deps.descriptor(stored.table)
      try {
        scope = table === undefined ? null : validateWhere(stored.where, table)
      } catch {
        scope = null
      }
      if (table !== undefined) compiled.set(stored.key, scope)
    }
    return scope ?? null
  }

  /** Every scope of a table this client keeps, except `key`: held ones and stored ones. */
  async function otherScopes(tx: StoreTransaction, table: string, key: string): Promise<Scope[]> {
    const out = heldOf(table).filter((e) => e.key !== key).map((e) => e.scope)
    for (const stored of await tx.listScopes(table)) {
      if (stored.key === key || active.get(stored.key)?.holders.size) continue
      const scope = scopeOf(stored)
      if (scope !== null) out.push(scope)
    }
    return out
  }

  async function buildRequest(entry: ScopeEntry, first: boolean): Promise<BuiltRequest> {
    const held = heldOf(entry.table)
    // Any held scope (or the carrier of a table with none) pushes the dirty records no held scope matches
    // (moved out of every scope, or a bare tombstone): without it they would never leave this client.
    // Any, not one chosen: a push lost with one scope's request is retried by that scope's next attempt,
    // whichever scopes are held by then (the flight map keeps one version from being pushed twice at once).
    const isCarrier = entry.carrier || entry.holders.size > 0
    const table = deps.descriptor(entry.table)
    /** Flight entries this request took (reset if the store runs the callback again). */
    let taken: StoredRecord[] = []
    const release = (): void => {
      for (const r of taken) if (flight.get(flightKey(r.table, r.uid)) === versionOf(r)) flight.delete(flightKey(r.table, r.uid))
      taken = []
    }
    return store.transaction('readonly', async (tx) => {
      release()
      const stored = await tx.getScope(entry.key)
      const checkpoint = stored?.checkpoint ?? null
      const pushed = new Map<string, StoredRecord>()
      let more = false
      let withheld = false
      if (first) {
        const eligible = (await tx.dirtyRecords(entry.table)).filter((r) => {
          if (flight.get(flightKey(r.table, r.uid)) === versionOf(r)) return false
          if (!(inScope(r, entry.scope) || (isCarrier && !held.some((e) => inScope(r, e.scope))))) return false
          // Without a checkpoint (full reconciliation) the server may have purged a record it once
          // acknowledged: an edit of it would come back as a create. Such a record waits until the
          // reconciliation has said whether it still exists; offline creates go at once.
          if (checkpoint === null && r.acknowledged) {
            withheld = true
            return false
          }
          return true
        })
        more = eligible.length > settings.maxPushPerRequest
        taken = eligible.slice(0, settings.maxPushPerRequest)
        // Taken in the same synchronous step as the check: a concurrent run of an overlapping scope
        // sees them in flight and leaves them out (no record version is pushed twice at once).
        for (const r of taken) {
          pushed.set(r.uid, r)
          flight.set(flightKey(r.table, r.uid), versionOf(r))
        }
      }
      const request: SyncRequest = {
        table: entry.table,
        where: entry.where as Record<string, unknown>,
        checkpoint,
        push: [...pushed.values()].map((r) => toWireRecord(r, table)),
      }
      if (checkpoint === null) {
        const cursor = stored?.fullCursor ?? null
        const max = settings.maxEntriesPerRequest
        const records = await tx.scanRecords(entry.table, { after: cursor?.after ?? null, limit: max + 1, filter: (r) => inScope(r, entry.scope) })
        request.full = {
          cursor,
          entries: records.slice(0, max).map((r) => [r.uid, versionOf(r), r.deleted_at !== null, r.acknowledged] as [string, string, boolean, boolean]),
          complete: records.length <= max,
        }
      }
      if (entry.holders.size > 0) request.subscription = entry.subscriptionId
      if (settings.pageSize !== undefined) request.pageSize = settings.pageSize
      return { request, pushed, more: more || withheld }
    }).catch((error: unknown) => {
      release()
      throw error
    })
  }

  interface PageResult {
    pushed: number
    superseded: SyncReport['superseded']
    rejected: SyncReport['rejected']
    restamped: string[]
    evicted: string[]
    purged: string[]
    /** Pushed records written again while in flight: still dirty, pushed by one more run. */
    changedInFlight: number
  }

  async function applyPage(entry: ScopeEntry, built: BuiltRequest, page: SyncPage, receivedAt: number, rtt: number): Promise<PageResult> {
    const { table } = entry
    // Everything that is not a store request happens before the transaction opens (it would commit).
    const incoming = readRecords(page.columns, page.rows as unknown[][], page.tombstones)
    const winners = new Map<string, RecordState>()
    let clockAhead = false
    for (const outcome of page.outcomes) {
      if (outcome.status === 'superseded' && outcome.winner !== null) winners.set(outcome.uid, fromWireRecord(outcome.winner))
      if (outcome.status === 'rejected' && outcome.error.code === 'CLOCK_AHEAD' && !clockAhead) {
        const now = outcome.error.details?.now
        if (typeof now === 'number' && Number.isFinite(now)) {
          clock.correct(now, receivedAt, rtt)
          clockAhead = true
        }
      }
    }
    const top = latestVersion([...incoming, ...winners.values()])
    if (top !== null) clock.receive(top)
    const finished = !page.hasMore && page.mode !== 'resync'

    return store.transaction('readwrite', async (tx) => {
      // Built afresh on each attempt: the store may run this again on a reopened connection.
      const result: PageResult = { pushed: 0, superseded: [], rejected: [], restamped: [], evicted: [], purged: [], changedInFlight: 0 }
      for (const outcome of page.outcomes) {
        const sent = built.pushed.get(outcome.uid)
        if (sent === undefined) continue
        const local = await tx.getRecord(table, outcome.uid)
        // A write made while the push was in flight changed the version: it stays dirty (trap 5).
        const unchanged = local !== undefined && versionOf(local) === versionOf(sent)
        if (local?.dirty === true && !unchanged) result.changedInFlight++
        if (outcome.status === 'applied') {
          result.pushed++
          if (local !== undefined) await tx.putRecord(unchanged ? { ...withoutRejected(local), dirty: false, acknowledged: true } : { ...local, acknowledged: true })
        } else if (outcome.status === 'superseded') {
          const winner = winners.get(outcome.uid) ?? null
          result.superseded.push({ uid: outcome.uid, winnerStamp: winner === null ? null : versionOf(winner), rule: outcome.rule })
          if (winner !== null) await applyIncoming(tx, table, winner, removedOf(table))
          else if (unchanged) await tx.deleteRecord(table, outcome.uid) // the winner is not ours to read
        } else if (outcome.error.code === 'PURGED') {
          // Deleted and purged on the server after retention (R10): the record goes, and the app is told.
          if (local !== undefined && unchanged) {
            await tx.deleteRecord(table, outcome.uid)
            result.purged.push(outcome.uid)
          }
        } else if (outcome.error.code === 'CLOCK_AHEAD' && clockAhead) {
          if (local?.dirty === true) {
            await tx.putRecord(restamp(local, () => clock.next()))
            result.restamped.push(outcome.uid)
          }
        } else {
          const error = fromWireError(outcome.error).toWire()
          result.rejected.push({ uid: outcome.uid, error })
          if (local !== undefined && unchanged) await tx.putRecord({ ...local, dirty: false, rejected: error })
        }
      }
      const removed = removedOf(table)
      for (const record of incoming) await applyIncoming(tx, table, record, removed)
      const others = lazily(() => otherScopes(tx, table, entry.key))
      for (const [uid, version] of page.evict) {
        if (await remove(tx, table, uid, assertStamp(version), others)) result.evicted.push(uid)
      }
      for (const uid of page.purged) if (await remove(tx, table, uid, null, others)) result.purged.push(uid)
      for (const uid of page.push) {
        const local = await tx.getRecord(table, uid)
        if (local !== undefined && !local.dirty) await tx.putRecord({ ...local, dirty: true })
      }
      const scope: StoredScope = (await tx.getScope(entry.key)) ?? {
        key: entry.key,
        table,
        where: entry.where,
        checkpoint: null,
        fullCursor: null,
        syncedAt: null,
      }
      if (page.mode === 'resync') {
        scope.checkpoint = null
        scope.fullCursor = null
      } else if (page.checkpoint !== null) {
        scope.checkpoint = page.checkpoint
        scope.fullCursor = null
      } else {
        scope.fullCursor = page.cursor
      }
      if (finished) scope.syncedAt = clock.now()
      await tx.putScope(scope)
      await clock.persist(tx)
      return result
    })
  }

  async function runOnce(entry: ScopeEntry): Promise<void> {
    const started = clock.local()
    const report: SyncReport = {
      table: entry.table,
      scopeKey: entry.key,
      mode: 'incremental',
      pushed: 0,
      pulled: 0,
      superseded: [],
      rejected: [],
      restamped: [],
      evicted: [],
      purged: [],
      durationMs: 0,
    }
    let first = true
    let received = 0
    for (;;) {
      if (stopped) throw closedError()
      if (!connected) throw offline()
      const built = await buildRequest(entry, first)
      const sentFull = built.request.full !== undefined
      if (sentFull) report.mode = 'full'
      let page: SyncPage
      let result: PageResult
      try {
        const sentAt = clock.local()
        const reply = await transport.request('lw:sync', built.request, settings.requestTimeoutMs)
        const receivedAt = clock.local()
        if (!reply.ok) throw fromWireError(reply.error)
        if (built.request.subscription !== undefined) entry.serverSubscribed = true
        page = parseWire(syncPageSchema, reply.data, 'sync page')
        clock.learn(page.serverTime, receivedAt, receivedAt - sentAt)
        if (page.mode === 'resync' && sentFull) {
          throw new LastwordError('INTERNAL', 'The server asked for a resync in answer to a full reconciliation')
        }
        result = await applyPage(entry, built, page, receivedAt, receivedAt - sentAt)
      } finally {
        for (const r of built.pushed.values()) {
          if (flight.get(flightKey(r.table, r.uid)) === versionOf(r)) flight.delete(flightKey(r.table, r.uid))
        }
      }
      report.pushed += result.pushed
      report.pulled += page.rows.length + page.tombstones.length
      report.superseded.push(...result.superseded)
      report.rejected.push(...result.rejected)
      report.restamped.push(...result.restamped)
      report.evicted.push(...result.evicted)
      report.purged.push(...result.purged)
      // Records the server asked for, re-stamped ones, any beyond one request's share, and pushed ones the
      // server did not take up (no outcome: it answered `resync` without applying them): one more run.
      const unanswered = page.outcomes.length < built.pushed.size
      if (built.more || unanswered || page.push.length > 0 || result.restamped.length > 0 || result.changedInFlight > 0) entry.again = true
      // Live queries (and other tabs) re-read only when the page touched records: a resync with nothing
      // to do costs no read of the table.
      const touched = [
        ...page.outcomes.map((o) => o.uid),
        ...page.rows.map((r) => String(r[0])),
        ...page.tombstones.map((t) => t[0]),
        ...page.evict.map(([uid]) => uid),
        ...page.purged,
        ...page.push,
      ]
      if (touched.length > 0) deps.onChanged([entry.table], touched)
      // A page's `progress.received` counts that page (the server's reading); the run adds them up.
      received += page.progress.received
      deps.onProgress({ table: entry.table, scopeKey: entry.key, received, total: page.progress.total })
      first = false
      if (page.mode !== 'resync' && !page.hasMore) break
    }
    report.durationMs = Math.max(0, clock.local() - started)
    deps.onReport(report)
  }

  async function runWithRetry(entry: ScopeEntry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (stopped) throw closedError()
      if (!connected) throw offline()
      try {
        return await runOnce(entry)
      } catch (error) {
        const lw = toLastwordError(error)
        if (lw.code === 'CHECKPOINT_INVALID' && attempt < 3) {
          // The server cannot read our token: drop it and reconcile in full.
          await store.transaction('readwrite', async (tx) => {
            const scope = await tx.getScope(entry.key)
            if (scope !== undefined) await tx.putScope({ ...scope, checkpoint: null, fullCursor: null })
          })
          continue
        }
        if (!RETRYABLE.has(lw.code) || !connected || stopped) throw lw
        await sleep(backoff(attempt))
      }
    }
  }

  function unsubscribeOnServer(entry: ScopeEntry): void {
    if (!entry.serverSubscribed) return
    entry.serverSubscribed = false
    if (connected) {
      transport.request('lw:unsubscribe', { subscription: entry.subscriptionId }, settings.requestTimeoutMs).catch(() => undefined)
    }
  }

  function requestSync(entry: ScopeEntry): Promise<void> {
    if (stopped) return Promise.reject(closedError())
    if (!connected) return Promise.reject(offline())
    if (entry.running !== null) {
      entry.again = true
      return entry.running
    }
    const run = (async () => {
      runs++
      deps.onActivity()
      let failure: LastwordError | null = null
      try {
        do {
          entry.again = false
          try {
            await runWithRetry(entry)
            failure = null
          } catch (error) {
            failure = toLastwordError(error)
            if (failure.code !== 'TRANSIENT' && failure.code !== 'CLOSED') deps.onError(failure)
          }
        } while (entry.again && connected && !stopped)
      } finally {
        // Synchronously after the last check of `again`: a request arriving later starts a new run.
        entry.running = null
        runs--
        if (runs === 0) removedVersions.clear()
        if (entry.holders.size === 0) {
          if (active.get(entry.key) === entry) active.delete(entry.key)
          if (carriers.get(entry.key) === entry) carriers.delete(entry.key)
          unsubscribeOnServer(entry)
          // Dirty records only this scope pushed (now released) go with the scopes still held.
          if (!entry.carrier) scheduleFlush(entry.table)
        }
        deps.onActivity()
      }
      if (failure !== null) throw failure
    })()
    entry.running = run
    run.catch(() => undefined)
    return run
  }

  const quietly = (promise: Promise<void>): void => {
    promise.catch(() => undefined)
  }

  /** Syncs, as a carrier, a stored scope of each table that has dirty records but no held scope. */
  async function syncCarriers(tables?: Iterable<string>): Promise<Promise<void>[]> {
    const wanted = tables === undefined ? null : new Set(tables)
    const found = await store.transaction('readonly', async (tx) => {
      const dirtyTables = new Set((await tx.dirtyRecords()).map((r) => r.table))
      const out: StoredScope[] = []
      for (const table of dirtyTables) {
        if ((wanted !== null && !wanted.has(table)) || heldOf(table).length > 0) continue
        const stored = (await tx.listScopes(table)).find((s) => scopeOf(s) !== null)
        if (stored !== undefined) out.push(stored)
      }
      return out
    })
    return found.map((stored) => {
      let entry = carriers.get(stored.key) ?? active.get(stored.key)
      if (entry === undefined) {
        entry = newEntry({ table: stored.table, key: stored.key, scope: scopeOf(stored) as Scope, where: stored.where }, true)
        carriers.set(stored.key, entry)
      }
      return requestSync(entry)
    })
  }

  function newEntry(query: ScopeQuery, carrier: boolean): ScopeEntry {
    return { ...query, holders: new Set(), subscriptionId: randomSubscriptionId(), carrier, running: null, again: false, serverSubscribed: false }
  }

  async function flushWrites(): Promise<void> {
    debounce = null
    const tables = [...written]
    written.clear()
    if (!connected || stopped) return
    const dirty = await store.transaction('readonly', async (tx) => {
      const out = new Map<string, StoredRecord[]>()
      for (const table of tables) out.set(table, await tx.dirtyRecords(table))
      return out
    })
    const orphanTables: string[] = []
    for (const [table, all] of dirty) {
      // Records already in flight at this version are being pushed: no new run for them.
      const records = all.filter((r) => flight.get(flightKey(r.table, r.uid)) !== versionOf(r))
      const held = heldOf(table)
      if (held.length === 0) {
        if (records.length > 0) orphanTables.push(table)
        continue
      }
      for (const entry of held) if (records.some((r) => inScope(r, entry.scope))) quietly(requestSync(entry))
      if (records.some((r) => !held.some((e) => inScope(r, e.scope)))) quietly(requestSync(held[0] as ScopeEntry))
    }
    if (orphanTables.length > 0) for (const run of await syncCarriers(orphanTables)) quietly(run)
  }

  /**
   * Records removed (evicted, purged) while syncs run, by table: uid → the version removed at. A page or
   * event that read the server earlier must not bring back an older state (SPEC.md E6). Forgotten when
   * no sync runs: every answer read before a removal has arrived by then.
   */
  const removedVersions = new Map<string, Map<string, Stamp>>()
  function removedOf(table: string): Map<string, Stamp> {
    let map = removedVersions.get(table)
    if (map === undefined) removedVersions.set(table, (map = new Map()))
    return map
  }

  async function remove(tx: StoreTransaction, table: string, uid: string, version: Stamp | null, others: () => Promise<readonly Scope[]>): Promise<boolean> {
    const gone = await removeUnlessHeld(tx, table, uid, version, others)
    if (gone === null) return false
    const at = version ?? versionOf(gone)
    const map = removedOf(table)
    const before = map.get(uid)
    if (before === undefined || compareStamps(at, before) > 0) map.set(uid, at)
    return true
  }

  /** Routes the table's dirty records to the scopes that push them, after the debounce. */
  function scheduleFlush(table: string): void {
    written.add(table)
    if (debounce !== null || stopped) return
    debounce = setTimeout(() => {
      flushWrites().catch((error: unknown) => deps.onError(toLastwordError(error)))
    }, settings.debounceMs)
  }

  async function applyRealtime(raw: unknown): Promise<void> {
    const parsed = realtimeEventSchema.safeParse(raw)
    if (!parsed.success) {
      deps.onError(new LastwordError('BAD_REQUEST', 'Ignored a malformed realtime event from the server'))
      return
    }
    const event = parsed.data
    if (deps.hooks.dropRealtime?.(event) === true) return
    const entry = [...active.values()].find((e) => e.subscriptionId === event.subscription)
    if (entry === undefined || entry.table !== event.table) return // a subscription we already dropped
    clock.learn(event.serverTime, clock.local())
    const incoming = readRecords(event.columns, event.rows as unknown[][], event.tombstones)
    const top = latestVersion(incoming)
    if (top !== null) clock.receive(top)
    // Realtime never moves a checkpoint: the checkpointed pull stays the truth. What it already covered
    // is not applied again (core's decideRealtime): read in the same transaction as the writes, so a page
    // stored meanwhile is either seen here or stored after (and then wins on versions).
    const decision = await store.transaction('readwrite', async (tx) => {
      const scopes = await tx.listScopes(entry.table)
      let table = realtimeRev.get(entry.table) ?? null
      for (const stored of scopes) table = maxRev(table, coveredRev(stored))
      const decision = decideRealtime(event, { scope: coveredRev(scopes.find((s) => s.key === entry.key)), table })
      if (decision !== 'apply') return decision
      realtimeRev.set(entry.table, maxRev(realtimeRev.get(entry.table) ?? null, event.rev) as number)
      for (const record of incoming) await applyIncoming(tx, entry.table, record, removedOf(entry.table))
      const others = lazily(() => otherScopes(tx, entry.table, entry.key))
      for (const [uid, version] of event.evict) await remove(tx, entry.table, uid, assertStamp(version), others)
      await clock.persist(tx)
      return decision
    })
    if (decision === 'apply') deps.onChanged([entry.table], [...incoming.map((r) => r.uid), ...event.evict.map(([uid]) => uid)])
    else if (decision === 'skip-and-pull' && connected && !stopped && entry.holders.size > 0) quietly(requestSync(entry))
  }

  return {
    acquire(query, holder) {
      let entry = active.get(query.key)
      if (entry === undefined) {
        // A scope synced as a carrier becomes a held one: one entry per scope, so its runs never overlap
        // (two concurrent runs of one scope could store their checkpoints out of order, I7).
        entry = carriers.get(query.key) ?? newEntry(query, false)
        carriers.delete(query.key)
        entry.carrier = false
        active.set(query.key, entry)
      }
      const first = entry.holders.size === 0
      entry.holders.add(holder)
      if (first && connected && !stopped) quietly(requestSync(entry))
    },
    release(key, holder) {
      const entry = active.get(key)
      if (entry === undefined || !entry.holders.delete(holder) || entry.holders.size > 0) return
      if (entry.running === null) {
        active.delete(key)
        unsubscribeOnServer(entry)
        scheduleFlush(entry.table)
      }
    },
    setConnected(value) {
      if (stopped) return
      connected = value
      if (!value) {
        for (const entry of active.values()) entry.serverSubscribed = false
        for (const wake of [...sleepers]) wake()
        return
      }
      for (const entry of active.values()) if (entry.holders.size > 0) quietly(requestSync(entry))
      quietly(syncCarriers().then((runs) => void Promise.allSettled(runs)))
    },
    async syncAll() {
      if (stopped) throw closedError()
      if (!connected) throw offline()
      const runs = [...active.values()].filter((e) => e.holders.size > 0).map(requestSync)
      runs.push(...(await syncCarriers()))
      const results = await Promise.allSettled(runs)
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed !== undefined) throw toLastwordError(failed.reason)
    },
    afterWrite(tables) {
      for (const table of tables) scheduleFlush(table)
    },
    onRealtime(raw) {
      realtime = realtime.then(() => applyRealtime(raw)).catch((error: unknown) => deps.onError(toLastwordError(error)))
    },
    busy: () => runs > 0,
    stop() {
      stopped = true
      connected = false
      if (debounce !== null) clearTimeout(debounce)
      debounce = null
      for (const wake of [...sleepers]) wake()
    },
  }
}

/** The rev a scope's checkpointed pull has covered: its checkpoint's, or a running full reconciliation's start. */
function coveredRev(stored: StoredScope | undefined): number | null {
  if (stored === undefined) return null
  if (stored.checkpoint !== null) {
    try {
      return decodeCheckpoint(stored.checkpoint).rev
    } catch {
      return null // unreadable: the next sync drops it and reconciles in full
    }
  }
  return stored.fullCursor?.startRev ?? null
}

function maxRev(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b)
}

/** A computation run once, on first use (the other scopes of a table are only needed for E4). */
function lazily<T>(compute: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null
  return () => (value ??= compute())
}

function withoutRejected(record: StoredRecord): StoredRecord {
  const { rejected: _ignored, ...rest } = record
  return rest
}

