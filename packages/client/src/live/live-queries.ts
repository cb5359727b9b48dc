/**
 * The live queries of a client: each `subscribe` compiles its filter once the table's descriptor is
 * known, holds its scope in the sync driver (so it stays synced, and live on the server) until
 * unsubscribed, and is refreshed by the scheduler after every change that may affect it.
 */
import { toLastwordError, type LastwordError, type Where } from '@lastword/core'
import { randomSubscriptionId } from '../ids.js'
import { compileQuery, type QueryOptions, type ReadRow } from '../query.js'
import type { Runtime } from '../runtime.js'
import type { LocalStore, StoredRecord } from '../store/types.js'
import type { SyncDriver } from '../sync/driver.js'
import type { DescriptorRegistry } from '../tables/descriptor-registry.js'
import type { TabScope } from '../tabs/messages.js'
import type { LiveQuery } from './live-query.js'
import { createRefreshScheduler } from './refresh-scheduler.js'

/** Options of {@link createLiveQueries}. */
export interface LiveQueriesOptions {
  store: LocalStore
  runtime: Runtime
  registry: DescriptorRegistry
  /** The sync driver, once the client started (queries wait for it to hold their scopes). */
  driver(): SyncDriver | null
  report(error: LastwordError): void
  /** The set of live scopes changed (a follower tab tells the owner). */
  onScopesChanged(): void
}

/** The live queries of one client. */
export interface LiveQueries {
  /** Starts a live query; a bad filter throws now if the descriptor is known, else is reported later. Returns the unsubscribe. */
  subscribe<Row>(table: string, where: Where, callback: (rows: ReadRow<Row>[]) => void, options: QueryOptions): () => void
  /** Activates queries that waited for the driver or for their table's descriptor. */
  activatePending(): void
  /** The scopes of the open queries, in wire form. */
  scopes(): TabScope[]
  /** The tables that have live queries. */
  tables(): string[]
  /** Local data of `tables` changed: `uids`, when known, and (one table) `states`: what some of them now are, as stored. */
  changed(tables: Iterable<string>, uids?: Iterable<string>, states?: ReadonlyMap<string, StoredRecord | undefined>): void
  /** Brings every query up to date now. */
  settle(): Promise<void>
  close(): void
}

/** Creates the live queries of a client. */
export function createLiveQueries(options: LiveQueriesOptions): LiveQueries {
  const { registry, report } = options
  const live = new Set<LiveQuery>()
  const scheduler = createRefreshScheduler({ store: options.store, runtime: options.runtime, queries: () => live, report })

  function activate(q: LiveQuery): void {
    const driver = options.driver()
    if (q.closed || q.scopeHeld || driver === null) return
    if (q.compiled === null) {
      const descriptor = registry.get(q.table)
      if (descriptor === undefined) return // waits for the server's descriptors
      try {
        q.compiled = compileQuery(descriptor, q.where, q.options)
      } catch (error) {
        q.closed = true
        live.delete(q)
        report(toLastwordError(error))
        return
      }
    }
    const { compiled } = q
    q.scopeHeld = true
    driver.acquire({ table: compiled.table, key: compiled.key, scope: compiled.scope, where: compiled.where }, q.id)
    scheduler.schedule() // its first result: a full read
    options.onScopesChanged()
  }

  return {
    subscribe(table, where, callback, queryOptions) {
      const q: LiveQuery = {
        id: `q:${randomSubscriptionId(options.runtime)}`,
        table,
        where,
        options: queryOptions,
        callback: callback as (rows: ReadRow<never>[]) => void,
        compiled: null,
        result: null,
        needsFullRead: false,
        lastRefreshFailed: false,
        scopeHeld: false,
        closed: false,
      }
      const descriptor = registry.get(table)
      // With descriptors at hand a bad filter throws here; otherwise it is reported when they arrive.
      if (descriptor !== undefined) q.compiled = compileQuery(descriptor, where, queryOptions)
      live.add(q)
      activate(q)
      return () => {
        if (q.closed) return
        q.closed = true
        live.delete(q)
        if (q.scopeHeld && q.compiled !== null) options.driver()?.release(q.compiled.key, q.id)
        options.onScopesChanged()
      }
    },
    activatePending() {
      for (const q of [...live]) activate(q)
    },
    scopes: () => [...live].flatMap((q) => (q.compiled === null || q.closed ? [] : [{ table: q.table, where: q.compiled.where as Record<string, unknown> }])),
    tables: () => [...new Set([...live].map((q) => q.table))],
    changed: (tables, uids, states) => scheduler.changed(tables, uids, states),
    settle: () => scheduler.settle(),
    close() {
      scheduler.close()
      for (const q of live) q.closed = true
      live.clear()
    },
  }
}
