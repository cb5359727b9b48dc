/**
 * The scopes the driver syncs. A *held* scope has holders (live queries, other tabs) and a realtime
 * subscription; a released one stays known while its run ends. One entry per scope key, so two runs of
 * one scope never overlap (they could store their checkpoints out of order, I7). Scopes only pull: dirty
 * records go through `lw:push` (pusher.ts).
 */
import { nodeIdFromBytes, validateWhere, type Scope } from '@lastword/core'
import type { StoreTransaction, StoredScope } from '../store/types.js'
import type { DriverDeps, ScopeQuery } from './types.js'

/** A scope the driver knows, with its holders and the state of its runs. */
export interface ScopeEntry extends ScopeQuery {
  holders: Set<string>
  /** The client-chosen id of its realtime subscription. */
  subscriptionId: string
  /** The run in progress, if any. */
  running: Promise<void> | null
  /** A sync was requested while a run was in progress: one more run follows it. */
  rerunRequested: boolean
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
  /** Adds a holder (creating the entry); `first` when it is the only holder now. */
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
  /** The entries of a table with a run in progress (held, or released while running). */
  runningOf(table: string): ScopeEntry[]
  /** The acquired entry with this subscription id. */
  bySubscription(subscriptionId: string): ScopeEntry | undefined
  /** A stored scope's filter, compiled against the table's descriptor (`null`: unknown table or invalid filter). */
  compiledScope(stored: StoredScope): Scope | null
  /** Every scope of a table this client keeps except `key`: held ones and stored ones (for E4). */
  otherScopes(tx: StoreTransaction, table: string, key: string): Promise<Scope[]>
}

const byKey = (a: ScopeEntry, b: ScopeEntry): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

/** Creates an empty registry. */
export function createScopeRegistry(deps: Pick<DriverDeps, 'descriptor' | 'runtime'>): ScopeRegistry {
  const acquired = new Map<string, ScopeEntry>()
  const compiled = new Map<string, Scope | null>()

  function newEntry(query: ScopeQuery): ScopeEntry {
    const subscriptionId = `s${nodeIdFromBytes(deps.runtime.randomBytes(8))}`
    return { ...query, holders: new Set(), subscriptionId, running: null, rerunRequested: false, serverSubscribed: false }
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
        entry = newEntry(query)
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
    },
    acquired: () => [...acquired.values()],
    heldOf,
    runningOf: (table) => [...acquired.values()].filter((e) => e.table === table && e.running !== null),
    bySubscription: (id) => [...acquired.values()].find((e) => e.subscriptionId === id),
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
  }
}
