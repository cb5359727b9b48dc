/**
 * The client's clock: core's HLC over the app's clock plus the learned server offset. Stamps never go
 * backwards, across restarts too (the last stamp is persisted with every write) — except for the one
 * rewind packages/core/SPEC.md allows, after the server refused a stamp for drift.
 */
import { compareStamps, createHlc, type Hlc, type Stamp } from '@lastword/core'
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
   * Learns the offset from a server time: `offset = serverTime − (receivedAt − rtt / 2)`, where
   * `receivedAt` is the local time the answer arrived and `rtt` the round trip (0 when unknown).
   */
  learn(serverTime: number, receivedAt: number, rtt?: number): void
  /** After a drift refusal: learns the offset from the refusing side's time, then rewinds the HLC to it. */
  correct(serverNow: number, receivedAt: number, rtt?: number): void
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
  /** Set by `correct`: the persisted stamp must be replaced, not only raised. */
  let rewound = false
  const hlc: Hlc = createHlc({ node: options.node, now: () => Math.max(0, local() + offset), last: options.last ?? null })

  const setOffset = (value: number): void => {
    if (!Number.isFinite(value)) return
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
    learn(serverTime, receivedAt, rtt = 0) {
      setOffset(serverTime - (receivedAt - rtt / 2))
    },
    correct(serverNow, receivedAt, rtt = 0) {
      setOffset(serverNow - (receivedAt - rtt / 2))
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
