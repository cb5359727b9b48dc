/**
 * The sync driver (ARCHITECTURE.md, "One request per scope"): the facade the client root uses. It wires
 * the modules of `sync/` and turns the client's calls into their operations:
 *
 * - scope-registry.ts — held scopes and their holders, compiled stored filters;
 * - request-builder.ts — one request of a scope (checkpoint or full-reconciliation entries): scopes only pull;
 * - page-apply.ts — one page in one store transaction with its checkpoint (I10);
 * - replica-store.ts — core's replica rules (A1–A4, P1–P7, E1–E6) applied to the store;
 * - sync-run.ts — the pages of one run and its report;
 * - scheduler.ts — one run per scope at a time, one more for requests made during it, retries;
 * - overlap-gate.ts — runs of overlapping scopes take turns (trap 6 on the client, B13);
 * - pusher.ts, push-plan.ts, push-apply.ts — `lw:push`: every dirty record in write order, units (SPEC.md section 12),
 *   with pushes-in-progress.ts so that no record version is pushed by two requests at once;
 * - realtime.ts — `lw:changes` events, decided by core's `decideRealtime` (E5).
 */
import { toLastwordError } from '@lastword/core'
import type { SyncContext } from './context.js'
import { closedError, offlineError } from './context.js'
import { createPushesInProgress } from './pushes-in-progress.js'
import { createPusher } from './pusher.js'
import { createRealtimeReceiver } from './realtime.js'
import { createRemovalMemory } from './replica-store.js'
import { createScheduler } from './scheduler.js'
import { createScopeRegistry, type ScopeEntry } from './scope-registry.js'
import type { DriverDeps, SyncDriver } from './types.js'
import { inspectDriver } from './inspect-driver.js'

export type { ClockEvent, DriverDeps, DriverInspection, DriverSettings, ScopeQuery, SyncDriver, SyncProgress, SyncReport } from './types.js'
export type { RetryOptions } from '../runtime.js'

const quietly = (promise: Promise<unknown>): void => {
  promise.catch(() => undefined)
}

/** Creates the sync driver of one client. */
export function createSyncDriver(deps: DriverDeps): SyncDriver {
  const ctx: SyncContext = {
    deps,
    state: { connected: false, stopped: false, outdated: new Map(), reconcileEpoch: new Map() },
    registry: createScopeRegistry(deps),
    pushes: createPushesInProgress(),
    removals: createRemovalMemory(),
    reroute: () => pusher.schedule(),
    resync: (table) => {
      if (state.stopped || !state.connected) return
      for (const entry of registry.acquired()) if (entry.table === table && entry.holders.size > 0) quietly(scheduler.requestSync(entry))
    },
  }
  const { registry, state } = ctx

  function unsubscribeOnServer(entry: ScopeEntry): void {
    if (!entry.serverSubscribed) return
    entry.serverSubscribed = false
    if (state.connected) {
      deps.transport.request('lw:unsubscribe', { subscription: entry.subscriptionId }, deps.settings.requestTimeoutMs).catch(() => undefined)
    }
  }

  const scheduler = createScheduler(ctx, {
    // Every answer read before a removal has arrived once no sync runs (E6).
    onIdle: () => {
      if (!pusher.busy()) ctx.removals.clear()
    },
    onUnheldRunEnded(entry) {
      registry.forgetIfUnheld(entry)
      unsubscribeOnServer(entry)
    },
  })
  const pusher = createPusher(ctx)
  const realtime = createRealtimeReceiver(ctx, (entry) => quietly(scheduler.requestSync(entry)))

  return {
    acquire(query, holder) {
      const { entry, first } = registry.acquire(query, holder)
      if (first && state.connected && !state.stopped) quietly(scheduler.requestSync(entry))
    },
    release(key, holder) {
      const dropped = registry.release(key, holder)
      if (dropped === null) return
      unsubscribeOnServer(dropped)
    },
    setConnected(value) {
      if (state.stopped) return
      state.connected = value
      if (!value) {
        for (const entry of registry.acquired()) entry.serverSubscribed = false
        scheduler.wakeWaiting()
        pusher.wake()
        return
      }
      pusher.schedule()
      for (const entry of registry.acquired()) if (entry.holders.size > 0) quietly(scheduler.requestSync(entry))
    },
    async syncAll() {
      if (state.stopped) throw closedError()
      if (!state.connected) throw offlineError()
      const runs = registry
        .acquired()
        .filter((e) => e.holders.size > 0)
        .map((e) => scheduler.requestSync(e))
      runs.push(pusher.drain())
      const results = await Promise.allSettled(runs)
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed !== undefined) throw toLastwordError(failed.reason)
    },
    afterWrite() {
      pusher.schedule()
    },
    onRealtime: (raw) => realtime.receive(raw),
    busy: () => scheduler.busy() || pusher.busy(),
    inspect: () => inspectDriver(ctx),
    stop() {
      state.stopped = true
      state.connected = false
      scheduler.wakeWaiting()
      pusher.wake()
    },
  }
}
