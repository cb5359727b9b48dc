/**
 * The scopes the driver syncs. A *held* scope has holders (live queries, other tabs) and a realtime
 * subscription. A *push-only* scope is a stored scope of a table none of whose scopes is held, synced only
 * so that the table's dirty records leave this client. One entry per scope key, so two runs of one scope
 * never overlap (they could store their checkpoints out of order, I7).
 */
import { nodeIdFromBytes, validateWhere, type Scope } from '@lastword/core'
import type { StoreTransaction, StoredScope } from '../store/types.js'
import type { DriverDeps, ScopeQuery } from './types.js'

/** A scope the driver knows, with its holders and the state of its runs. */
export interface ScopeEntry extends ScopeQuery {
  holders: Set<string>
  /** The client-chosen id of its realtime subscription. */
  subscriptionId: string
  /** Synced only to push dirty records that no held scope covers (no holder asked for it). */
  pushOnly: boolean
  /** The run in progress, if any. */
  running: Promise<void> | null
  /** A sync was requested while a run was in progress: one more run follows it. */
  rerunRequested: boolean
  /** That run pulls (a sync, not only a push of local writes, was asked for meanwhile). */
  rerunPulls: boolean
  /** The server keeps this scope live on the current socket. */
  serverSubscribed: boolean
  /** Its run waits to retry after a transient failure (set by the scheduler during the backoff). */
  retry?: RetryWait
}

/** A run waiting out its backoff: the attempt that failed, why, and when the next one starts (runtime ms). */
export interface RetryWait {
  attempt: number
  code: string
  at: number
}

/** The registry of one driver. */
export interface ScopeRegistry {
  /** Adds a holder (creating the entry, or promoting a push-only one); `first` when it is the only holder now. */
  acquire(query: ScopeQuery, holder: string): { entry: ScopeEntry; first: boolean }
  /**
   * Removes a holder. Returns the entry when its last holder left and no run is in progress (it is
   * forgotten now); a running entry is forgotten by {@link forgetIfUnheld} when its run ends.
   */
  release(key: string, holder: string): ScopeEntry | null
  /** Forgets an entry left without holders (its run ended). */
  forgetIfUnheld(entry: ScopeEntry): void
  /** Acquired entries (held, or released while running). */
  acquired(): ScopeEntry[]
  /** The held scopes of a table, by key. */
  heldOf(table: string): ScopeEntry[]
  /** The entries of a table with a run in progress (held, released while running, or push-only). */
  runningOf(table: string): ScopeEntry[]
  /** The acquired entry with this subscription id. */
  bySubscription(subscriptionId: string): ScopeEntry | undefined
  /** The entry syncing a stored scope: an acquired one, or a push-only one (created on first use). */
  pushOnlyEntry(stored: StoredScope): ScopeEntry
  /** A stored scope's filter, compiled against the table's descriptor (`null`: unknown table or invalid filter). */
  compiledScope(stored: StoredScope): Scope | null
  /** Every scope of a table this client keeps except `key`: held ones and stored ones (for E4). */
  otherScopes(tx: StoreTransaction, table: string, key: string): Promise<Scope[]>
  /** For each table with dirty records (of `tables`, or all) and no held scope: a stored scope that can push them. */
  findPushOnlyScopes(tx: StoreTransaction, tables?: Iterable<string>): Promise<StoredScope[]>
}

const byKey = (a: ScopeEntry, b: ScopeEntry): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

/** Creates an empty registry. */
export function createScopeRegistry(deps: Pick<DriverDeps, 'descriptor' | 'runtime'>): ScopeRegistry {
  const acquired = new Map<string, ScopeEntry>()
  const pushOnly = new Map<string, ScopeEntry>()
  const compiled = new Map<string, Scope | null>()

  function newEntry(query: ScopeQuery, isPushOnly: boolean): ScopeEntry {
    const subscriptionId = `s${nodeIdFromBytes(deps.runtime.randomBytes(8))}`
    return { ...query, holders: new Set(), subscriptionId, pushOnly: isPushOnly, running: null, rerunRequested: false, rerunPulls: false, serverSubscribed: false }
  }

  function heldOf(table: string): ScopeEntry[] {
    return [...acquired.values()].filter((e) => e.table === table && e.holders.size > 0).sort(byKey)
  }

  function compiledScope(stored: StoredScope): Scope | null {
    let scope = compiled.get(stored.key)
    if (scope === undefined) {
      const table = deps.descriptor(stored.table)
      try {
        scope = table === undefined ? null : validateWhere(stored.where, table)
      } catch {
        scope = null
      }
      // Not cached while the table is unknown: its descriptor may arrive with the next lw:hello.
      if (table !== undefined) compiled.set(stored.key, scope)
    }
    return scope ?? null
  }

  return {
    acquire(query, holder) {
      let entry = acquired.get(query.key)
      if (entry === undefined) {
        entry = pushOnly.get(query.key) ?? newEntry(query, false)
        pushOnly.delete(query.key)
        entry.pushOnly = false
        acquired.set(query.key, entry)
      }
      const first = entry.holders.size === 0
      entry.holders.add(holder)
      return { entry, first }
    },
    release(key, holder) {
      const entry = acquired.get(key)
      if (entry === undefined || !entry.holders.delete(holder) || entry.holders.size > 0 || entry.running !== null) return null
      acquired.delete(key)
      return entry
    },
    forgetIfUnheld(entry) {
      if (entry.holders.size > 0) return
      if (acquired.get(entry.key) === entry) acquired.delete(entry.key)
      if (pushOnly.get(entry.key) === entry) pushOnly.delete(entry.key)
    },
    acquired: () => [...acquired.values()],
    heldOf,
    runningOf: (table) => [...acquired.values(), ...pushOnly.values()].filter((e) => e.table === table && e.running !== null),
    bySubscription: (id) => [...acquired.values()].find((e) => e.subscriptionId === id),
    pushOnlyEntry(stored) {
      let entry = pushOnly.get(stored.key) ?? acquired.get(stored.key)
      if (entry === undefined) {
        entry = newEntry({ table: stored.table, key: stored.key, scope: compiledScope(stored) as Scope, where: stored.where }, true)
        pushOnly.set(stored.key, entry)
      }
      return entry
    },
    compiledScope,
    async otherScopes(tx, table, key) {
      const out = heldOf(table)
        .filter((e) => e.key !== key)
        .map((e) => e.scope)
      for (const stored of await tx.listScopes(table)) {
        if (stored.key === key || acquired.get(stored.key)?.holders.size) continue
        const scope = compiledScope(stored)
        if (scope !== null) out.push(scope)
      }
      return out
    },
    async findPushOnlyScopes(tx, tables) {
      const wanted = tables === undefined ? null : new Set(tables)
      const dirtyTables = new Set((await tx.dirtyRecords()).map((r) => r.table))
      const out: StoredScope[] = []
      for (const table of dirtyTables) {
        if ((wanted !== null && !wanted.has(table)) || heldOf(table).length > 0) continue
        const stored = (await tx.listScopes(table)).find((s) => compiledScope(s) !== null)
        if (stored !== undefined) out.push(stored)
      }
      return out
    },
  }
}
