/**
 * The owner tab's side of tab coordination: it keeps the other tabs' scopes synced (each tab is a
 * holder of its scopes in the sync driver, dropped when the tab stops announcing them) and runs the
 * syncs they ask for, answering with the outcome's error code.
 */
import { toLastwordError, type Where } from '@lastword/core'
import { compileQuery } from '../query.js'
import type { Runtime } from '../runtime.js'
import type { ScopeQuery, SyncDriver } from '../sync/driver.js'
import type { DescriptorRegistry } from '../tables/descriptor-registry.js'
import type { TabCoordinator } from './coordinator.js'
import type { TabScope, TabStatus } from './messages.js'

/** Options of {@link createOwnerSide}. */
export interface OwnerSideOptions {
  coordinator: TabCoordinator
  /** This tab's id. */
  node: string
  runtime: Runtime
  /** How often followers re-announce their scopes; a tab silent for three periods is dropped. */
  heartbeatMs: number
  registry: DescriptorRegistry
  driver(): SyncDriver | null
  /** This tab's status, told to a tab announcing itself. */
  status(): TabStatus
}

/** What the owner does for the other tabs. */
export interface OwnerSide {
  /** A follower announced its scopes: holds the new ones, releases those it dropped. */
  setScopes(tab: string, scopes: readonly TabScope[]): void
  /** Releases the scopes of tabs not heard of for three heartbeats. */
  expire(): void
  /** Releases every other tab's scopes (ownership lost). */
  dropAll(): void
  /** Runs the sync a follower asked for, and answers it. */
  relaySync(id: string): void
}

/** Creates the owner side. */
export function createOwnerSide(options: OwnerSideOptions): OwnerSide {
  const { coordinator, node, runtime, registry } = options
  const tabs = new Map<string, { keys: Map<string, ScopeQuery>; seen: number }>()
  const holderOf = (tab: string): string => `tab:${tab}`

  function drop(tab: string): void {
    const known = tabs.get(tab)
    tabs.delete(tab)
    for (const key of known?.keys.keys() ?? []) options.driver()?.release(key, holderOf(tab))
  }

  return {
    setScopes(tab, scopes) {
      const driver = options.driver()
      if (driver === null) return
      const known = tabs.get(tab)
      const next = new Map<string, ScopeQuery>()
      for (const { table, where } of scopes) {
        const descriptor = registry.get(table)
        if (descriptor === undefined) continue
        try {
          const q = compileQuery(descriptor, where as Where)
          next.set(q.key, { table: q.table, key: q.key, scope: q.scope, where: q.where })
        } catch {
          // Another tab's filter that this one cannot read (descriptors differ): its tab reports it.
        }
      }
      for (const key of known?.keys.keys() ?? []) if (!next.has(key)) driver.release(key, holderOf(tab))
      for (const [key, query] of next) if (known?.keys.has(key) !== true) driver.acquire(query, holderOf(tab))
      tabs.set(tab, { keys: next, seen: runtime.now() })
      if (known === undefined) coordinator.post({ type: 'status', from: node, status: options.status() })
    },
    expire() {
      const before = runtime.now() - options.heartbeatMs * 3
      for (const [tab, info] of tabs) if (info.seen < before) drop(tab)
    },
    dropAll() {
      for (const [tab] of tabs) drop(tab)
    },
    relaySync(id) {
      const driver = options.driver()
      if (driver === null) return
      driver.syncAll().then(
        () => coordinator.post({ type: 'synced', from: node, id, error: null }),
        (error: unknown) => {
          const lw = toLastwordError(error)
          coordinator.post({ type: 'synced', from: node, id, error: { code: lw.code, message: lw.message } })
        },
      )
    },
  }
}
