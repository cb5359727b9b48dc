/** What the sync driver is doing now, as plain data for `client.inspect()`: its scopes' runs and the pushes in flight. */
import type { SyncContext } from './context.js'
import type { ScopeEntry } from './scope-registry.js'
import type { DriverInspection } from './types.js'

/** Reads the driver's state; `tables` adds the running push-only scopes of those tables. */
export function inspectDriver(ctx: SyncContext, tables: Iterable<string> = []): DriverInspection {
  const entries = new Map<string, ScopeEntry>()
  for (const entry of ctx.registry.acquired()) entries.set(entry.key, entry)
  for (const table of new Set([...tables, ...[...entries.values()].map((e) => e.table)])) {
    for (const entry of ctx.registry.runningOf(table)) entries.set(entry.key, entry)
  }
  return {
    connected: ctx.state.connected,
    scopes: [...entries.values()].map((e) => ({
      key: e.key,
      table: e.table,
      where: e.where,
      holders: e.holders.size,
      pushOnly: e.pushOnly,
      running: e.running !== null,
      live: e.serverSubscribed,
      retry: e.retry === undefined ? null : { ...e.retry },
    })),
    inFlight: ctx.pushes.list(),
  }
}
