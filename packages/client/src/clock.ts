/**
 * The client's clock: core's HLC over the app's clock plus the learned server offset. Stamps never go
 * backwards, across restarts too (the last stamp is persisted with every write) — except for the one
 * rewind packages/core/SPEC.md allows, after the server refused a stamp for drift.
 *
 * The offset comes from sync answers only, each one sample of four timestamps fed to core's least-delay
 * filter (SPEC.md, "Clock offset"): a slow server answer no longer moves it. Hello and realtime events
 * carry one server time, not a round trip: the hello seeds the offset only while none is known (a first
 * start), realtime events never touch it.
 */
import { addClockSample, clockSample, compareStamps, createHlc, EMPTY_ESTIMATE, restartEstimate, type ClockSample, type Hlc, type OffsetEstimate, type Stamp } from '@lastword/core'
import type { StoreTransaction } from './store/types.js'

/** A physical clock in ms. */
export interface Clock {
  now(): number
}

/** The client's stamping clock. */
export interface ClientClock {
  /** This client instance's node id. */
  readonly node: string
  /** The app's clock, uncorrected (ms). */
  local(): number
  /** The corrected clock: local + offset (ms). */
  now(): number
  /** The learned server offset (ms). */
  offset(): number
  /** A new stamp, greater than every stamp made or received. */
  next(): Stamp
  /** Advances past a stamp seen from the server. */
  receive(stamp: Stamp): void
  /** The last stamp made or received. */
  last(): Stamp | null
  /**
   * Takes one sync exchange's sample: `t0` sent and `t3` received (this clock's `local()`), `t1` and
   * `t2` the server's receive and answer times. The offset moves only when core's filter accepts the
   * sample. Returns the sample (`null`: the timestamps could not be one).
   */
  sample(t0: number, t1: number, t2: number, t3: number): ClockSample | null
  /** A single server time (the hello): sets the offset only while none is known yet; `true` if it did. */
  seed(serverTime: number, receivedAt: number): boolean
  /**
   * After a drift refusal: the window restarts from this page's sample (the earlier ones measured a
   * clock the server just refused), or, without one, from the refusing side's time; then the HLC
   * rewinds to corrected time.
   */
  correct(sample: ClockSample | null, serverNow: number, receivedAt: number): void
  /** Writes the last stamp and the offset in a store transaction. */
  persist(tx: StoreTransaction): Promise<void>
}

/** Options of {@link createClientClock}. */
export interface ClientClockOptions {
  node: string
  /** The physical clock (the client passes its runtime's `now`). */
  clock: Clock
  /** The last stamp persisted by a previous session (or another tab). */
  last?: Stamp | null | undefined
  offset?: number | undefined
}

/** Creates the client's clock. */
export function createClientClock(options: ClientClockOptions): ClientClock {
  const local = (): number => options.clock.now()
  let offset = options.offset ?? 0
  let offsetDirty = false
  let estimate: OffsetEstimate = EMPTY_ESTIMATE
  /** Whether an offset is known: persisted by an earlier session, or measured in this one. */
  let known = options.offset !== undefined
  /** Set by `correct`: the persisted stamp must be replaced, not only raised. */
  let rewound = false
  const hlc: Hlc = createHlc({ node: options.node, now: () => Math.max(0, local() + offset), last: options.last ?? null })

  const setOffset = (value: number): void => {
    if (!Number.isFinite(value)) return
    known = true
    const rounded = Math.round(value)
    if (rounded !== offset) {
      offset = rounded
      offsetDirty = true
    }
  }

  return {
    node: options.node,
    local,
    now: () => local() + offset,
    offset: () => offset,
    next: () => hlc.next(),
    receive(stamp) {
      hlc.receive(stamp)
    },
    last: () => hlc.last(),
    sample(t0, t1, t2, t3) {
      const sample = clockSample(t0, t1, t2, t3)
      if (sample === null) return null
      const next = addClockSample(estimate, sample)
      estimate = next.estimate
      if (estimate.offset !== null) setOffset(estimate.offset)
      return sample
    },
    seed(serverTime, receivedAt) {
      if (known) return false
      setOffset(serverTime - receivedAt)
      return true
    },
    correct(sample, serverNow, receivedAt) {
      if (sample !== null) {
        estimate = restartEstimate(sample)
        setOffset(sample.offset)
      } else {
        estimate = EMPTY_ESTIMATE
        setOffset(serverNow - receivedAt)
      }
      hlc.rewind(Math.max(0, Math.floor(local() + offset)))
      rewound = true
    },
    async persist(tx) {
      const last = hlc.last()
      if (last !== null) {
        const stored = await tx.getMeta('clock')
        if (rewound || stored === undefined || compareStamps(last, stored) > 0) {
          await tx.putMeta('clock', last)
          rewound = false
        }
      }
      if (offsetDirty) {
        await tx.putMeta('offset', offset)
        offsetDirty = false
      }
    },
  }
}
