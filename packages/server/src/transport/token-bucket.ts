/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`; each request takes one.
 * Time comes from a monotonic clock passed in (never the app's `now`, which tests may freeze).
 */

export interface TokenBucket {
  /** Takes a token if one is left; `false` means the caller is over its rate. */
  tryTake(): boolean
}

export function createTokenBucket(options: { ratePerSecond: number; burst: number; clock: () => number }): TokenBucket {
  const { ratePerSecond, burst, clock } = options
  let tokens = burst
  let last = clock()
  return {
    tryTake() {
      const t = clock()
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * ratePerSecond)
      last = t
      if (tokens < 1) return false
      tokens -= 1
      return true
    },
  }
}
