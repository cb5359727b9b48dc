/**
 * The feed's time: a clock and one-shot timers, in one seam, so tests drive every poll, check, grace,
 * reconnection and retry by hand (`feed.timers` of `createSyncServer`) instead of sleeping. The default
 * is the process's own, with timers that never keep the process alive.
 */

/** A clock and one-shot timers. */
export interface FeedTimers {
  /** Milliseconds, monotonic enough for delays (default `Date.now`). */
  now(): number
  /** Runs `fn` once after `ms`; returns what {@link FeedTimers.clear} takes. */
  set(fn: () => void, ms: number): unknown
  clear(handle: unknown): void
}

/** The process's clock and timers, unreferenced (a pending poll never holds the process open). */
export const systemTimers: FeedTimers = {
  now: () => Date.now(),
  set(fn, ms) {
    const handle = setTimeout(fn, ms)
    handle.unref?.()
    return handle
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The delay before retry `attempt` (1, 2, …): doubling from `baseMs`, capped at `maxMs`. */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)))
}
