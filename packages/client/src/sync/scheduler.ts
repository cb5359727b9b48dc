/**
 * When runs happen: one run in progress per scope, and a request made during a run schedules exactly one
 * more after it (never one per request); runs of overlapping scopes take turns (overlap-gate.ts, trap 6);
 * transient failures retried with backoff and jitter from the runtime; a token the server cannot read
 * dropped for a full reconciliation.
 */
import { toLastwordError, type ErrorCode, type LastwordError } from '@lastword/core'
import { backoffDelay } from '../runtime.js'
import { closedError, offlineError, type SyncContext } from './context.js'
import { createOverlapGate } from './overlap-gate.js'
import type { ScopeEntry } from './scope-registry.js'
import { runSync } from './sync-run.js'

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TRANSIENT', 'RATE_LIMITED'])
/** Times a `CHECKPOINT_INVALID` answer drops the token and starts over in one attempt sequence. */
const MAX_CHECKPOINT_RESETS = 3

/** The scheduler of one driver. */
export interface Scheduler {
  /**
   * Runs the scope's sync now, or once more after the run in progress; settles when that run ends.
   * Requests made during a run coalesce into one more run.
   */
  requestSync(entry: ScopeEntry): Promise<void>
  /** Whether any run is in progress. */
  busy(): boolean
  /** Ends every backoff wait now (the connection was lost or the driver stopped: the retry loop then gives up). */
  wakeWaiting(): void
}

/** What the scheduler tells the driver. */
export interface SchedulerEvents {
  /** The last run in progress ended. */
  onIdle(): void
  /** A run of a scope without holders ended (it was released meanwhile). */
  onUnheldRunEnded(entry: ScopeEntry): void
}

/** Creates the scheduler. */
export function createScheduler(ctx: SyncContext, events: SchedulerEvents): Scheduler {
  const { store, runtime, settings } = ctx.deps
  const waiting = new Set<() => void>()
  const gate = createOverlapGate()
  let runs = 0

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        cancel()
        waiting.delete(wake)
        resolve()
      }
      const cancel = runtime.setTimer(wake, ms)
      waiting.add(wake)
    })
  }

  async function runWithRetry(entry: ScopeEntry): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (ctx.state.stopped) throw closedError()
      if (!ctx.state.connected) throw offlineError()
      try {
        // Held for the attempt's pages only, never across a backoff wait.
        const leave = await gate.enter(entry.table, entry.scope)
        try {
          return await runSync(ctx, entry)
        } finally {
          leave()
        }
      } catch (error) {
        const lw = toLastwordError(error)
        if (lw.code === 'CHECKPOINT_INVALID' && attempt < MAX_CHECKPOINT_RESETS) {
          // The server cannot read our token: drop it and reconcile in full.
          await store.transaction('readwrite', async (tx) => {
            const scope = await tx.getScope(entry.key)
            if (scope !== undefined) await tx.putScope({ ...scope, checkpoint: null, fullCursor: null })
          })
          continue
        }
        if (!RETRYABLE.has(lw.code) || !ctx.state.connected || ctx.state.stopped) throw lw
        const delay = backoffDelay(settings.retry, attempt, () => runtime.random())
        entry.retry = { attempt: attempt + 1, code: lw.code, at: runtime.now() + delay }
        try {
          await wait(delay)
        } finally {
          delete entry.retry
        }
      }
    }
  }

  function requestSync(entry: ScopeEntry): Promise<void> {
    if (ctx.state.stopped) return Promise.reject(closedError())
    if (!ctx.state.connected) return Promise.reject(offlineError())
    if (entry.running !== null) {
      entry.rerunRequested = true
      return entry.running
    }
    const run = (async () => {
      runs++
      ctx.deps.onActivity()
      let failure: LastwordError | null = null
      try {
        do {
          entry.rerunRequested = false
          try {
            await runWithRetry(entry)
            failure = null
          } catch (error) {
            failure = toLastwordError(error)
            if (failure.code !== 'TRANSIENT' && failure.code !== 'CLOSED') ctx.deps.onError(failure)
          }
        } while (entry.rerunRequested && ctx.state.connected && !ctx.state.stopped)
      } finally {
        // Synchronously after the last check of `rerunRequested`: a request arriving later starts a new run.
        entry.running = null
        runs--
        if (runs === 0) events.onIdle()
        if (entry.holders.size === 0) events.onUnheldRunEnded(entry)
        ctx.deps.onActivity()
      }
      if (failure !== null) throw failure
    })()
    entry.running = run
    run.catch(() => undefined)
    return run
  }

  return {
    requestSync,
    busy: () => runs > 0,
    wakeWaiting() {
      for (const wake of [...waiting]) wake()
    },
  }
}
