/** What the sync driver is doing now, as plain data for `client.inspect()`: its scopes' runs and the pushes in flight. */
import type { SyncContext } from './context.js'
import type { DriverInspection } from './types.js'

/** Reads the driver's state. */
export function inspectDriver(ctx: SyncContext): DriverInspection {
  return {
    connected: ctx.state.connected,
    scopes: ctx.registry.acquired().map((e) => ({
      key: e.key,
      table: e.table,
      where: e.where,
      holders: e.holders.size,
      running: e.running !== null,
      live: e.serverSubscribed,
      retry: e.retry === undefined ? null : { ...e.retry },
    })),
    inFlight: ctx.pushes.list(),
  }
}
