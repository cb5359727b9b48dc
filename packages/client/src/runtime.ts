/**
 * The runtime seam: everything the client takes from its environment that makes behaviour depend on when
 * or by chance — the time, timers, randomness. Client code reads them only through a `Runtime`, so a test
 * drives time by hand (`createManualRuntime` in `@lastword/client/testing`) instead of sleeping, and a
 * "nothing happened" check cannot pass merely because the machine was slow.
 */

/** Cancels a timer; calling it twice, or after the timer fired, does nothing. */
export type CancelTimer = () => void

/** What the client reads from its environment. */
export interface Runtime {
  /** Wall-clock time, ms since the epoch (uncorrected: the client adds its learned server offset). */
  now(): number
  /** Runs `fn` once after `ms` (never keeps a Node process alive on its own). */
  setTimer(fn: () => void, ms: number): CancelTimer
  /** Runs `fn` every `ms` until cancelled (never keeps a Node process alive on its own). */
  setRepeating(fn: () => void, ms: number): CancelTimer
  /** A uniformly random number in [0, 1): backoff jitter. */
  random(): number
  /** `length` cryptographically random bytes: ids. */
  randomBytes(length: number): Uint8Array
}

type NodeTimer = { unref?: () => void }

/** The environment's own clock, timers and randomness. */
export function createDefaultRuntime(now: () => number = () => Date.now()): Runtime {
  return {
    now,
    setTimer(fn, ms) {
      const timer = setTimeout(fn, Math.max(0, ms))
      ;(timer as NodeTimer).unref?.()
      return () => clearTimeout(timer)
    },
    setRepeating(fn, ms) {
      const timer = setInterval(fn, Math.max(1, ms))
      ;(timer as NodeTimer).unref?.()
      return () => clearInterval(timer)
    },
    random: () => Math.random(),
    randomBytes(length) {
      const bytes = new Uint8Array(length)
      globalThis.crypto.getRandomValues(bytes)
      return bytes
    },
  }
}

/** Exponential backoff with jitter for transient failures and reconnections. */
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

export const DEFAULT_RETRY: Readonly<Required<RetryOptions>> = { baseMs: 250, maxMs: 30_000, factor: 2, jitter: 0.5 }

/**
 * The delay before retry number `attempt` (0 for the first): `baseMs · factor^attempt`, capped at `maxMs`,
 * of which up to `jitter` is taken away at random so that clients failing together do not retry together.
 */
export function backoffDelay(retry: Required<RetryOptions>, attempt: number, random: () => number): number {
  return Math.min(retry.maxMs, retry.baseMs * retry.factor ** attempt) * (1 - retry.jitter * random())
}
