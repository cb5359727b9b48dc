/**
 * Hybrid logical clock stamps (SPEC.md section 1; attack V4 in docs/guarantees.md).
 *
 * A stamp is `(physical ms, counter, node id)`, serialised fixed-width as
 * `pppppppppppp-cccc-nnnnnnnnnnnnnnnn` (12 hex digits of ms, 4 hex digits of counter, 16 hex digits of
 * node id) so that string order is stamp order and total across writers. Core never reads the wall clock:
 * `now` is always passed in.
 */
import { LastwordError } from './errors.js'

/** A serialised HLC stamp. String comparison is stamp order. */
export type Stamp = string & { readonly __stamp: unique symbol }

/** The parts of a stamp. */
export interface StampParts {
  /** Physical time in milliseconds since the epoch. */
  ms: number
  /** Logical counter within one millisecond, 0..{@link MAX_COUNTER}. */
  counter: number
  /** The writer: one per client instance (each tab is its own writer), 16 lowercase hex digits. */
  node: string
}

/** The largest physical time a stamp can hold (12 hex digits, about the year 10889). */
export const MAX_MS = 0xffff_ffff_ffff
/** The largest counter; past it the physical part advances instead of wrapping. */
export const MAX_COUNTER = 0xffff
/** Length of a serialised stamp. */
export const STAMP_LENGTH = 34

const STAMP_PATTERN = /^[0-9a-f]{12}-[0-9a-f]{4}-[0-9a-f]{16}$/
const NODE_PATTERN = /^[0-9a-f]{16}$/

/** Whether `value` is a well-formed node id (16 lowercase hex digits). */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_PATTERN.test(value)
}

/** Whether `value` is a well-formed serialised stamp. */
export function isStamp(value: unknown): value is Stamp {
  return typeof value === 'string' && STAMP_PATTERN.test(value)
}

/** Builds the string form of a stamp, checking every part. */
export function formatStamp(parts: StampParts): Stamp {
  const { ms, counter, node } = parts
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_MS) {
    throw new LastwordError('INVALID_STAMP', `Stamp time must be an integer in 0..${MAX_MS}, got ${String(ms)}`, { ms })
  }
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw new LastwordError('INVALID_STAMP', `Stamp counter must be an integer in 0..${MAX_COUNTER}, got ${String(counter)}`, { counter })
  }
  if (!isNodeId(node)) {
    throw new LastwordError('INVALID_STAMP', `Node id must be 16 lowercase hex digits, got ${JSON.stringify(node)}`, { node })
  }
  return `${ms.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}-${node}` as Stamp
}

/** Parses a stamp strictly: anything but the exact fixed-width form is an `INVALID_STAMP` error. */
export function parseStamp(value: unknown): StampParts {
  if (!isStamp(value)) {
    throw new LastwordError('INVALID_STAMP', `Malformed stamp ${JSON.stringify(value)}; expected pppppppppppp-cccc-nnnnnnnnnnnnnnnn (hex)`, {
      stamp: typeof value === 'string' ? value.slice(0, 64) : typeof value,
    })
  }
  return { ms: parseInt(value.slice(0, 12), 16), counter: parseInt(value.slice(13, 17), 16), node: value.slice(18) }
}

/** Checks and brands a stamp received from elsewhere. */
export function assertStamp(value: unknown): Stamp {
  parseStamp(value)
  return value as Stamp
}

/** Total order of stamps: negative, zero or positive. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The greater of two stamps; `null` counts as older than every stamp. */
export function maxStamp(a: Stamp | null, b: Stamp | null): Stamp | null {
  if (a === null) return b
  if (b === null) return a
  return a >= b ? a : b
}

/** The physical time of a stamp as a `Date`, for display. */
export function stampToDate(stamp: Stamp): Date {
  return new Date(parseStamp(stamp).ms)
}

/** The physical part of a stamp in ms. */
export function stampMs(stamp: Stamp): number {
  return parseStamp(stamp).ms
}

/**
 * Refuses a stamp more than `maxDriftMs` ahead of `now` with `CLOCK_AHEAD`, whose details carry `now`
 * so the writer can correct its offset.
 */
export function assertWithinDrift(stamp: Stamp, now: number, maxDriftMs: number): void {
  const { ms } = parseStamp(stamp)
  if (ms > now + maxDriftMs) {
    throw new LastwordError(
      'CLOCK_AHEAD',
      `Stamp is ${ms - now} ms ahead of this clock (allowed: ${maxDriftMs} ms); correct the clock offset and re-stamp`,
      { now, stampMs: ms, maxDriftMs },
    )
  }
}

/** A hybrid logical clock: strictly monotonic `next` and `receive`, and an explicit `rewind`. */
export interface Hlc {
  /** This writer's node id. */
  readonly node: string
  /** A new stamp, greater than every stamp this clock has made or received. */
  next(): Stamp
  /** Advances past a stamp seen from elsewhere; returns the stamp the clock now stands at. */
  receive(remote: Stamp): Stamp
  /**
   * Moves the clock back to `ms` (counter 0). The one allowed way back (SPEC.md, `rewind`): after a drift
   * refusal the refused stamps were never accepted anywhere, so the writer rewinds to corrected time.
   */
  rewind(ms: number): void
  /** The last stamp made or received, or `null` before the first. */
  last(): Stamp | null
}

/** Options of {@link createHlc}. */
export interface HlcOptions {
  /** Node id, 16 lowercase hex digits; one per client instance. */
  node: string
  /** The physical clock in ms; injected so that core never reads the wall clock. */
  now: () => number
  /** Restores a clock from its last stamp, so stamps never go backwards across restarts. */
  last?: Stamp | null
}

/**
 * Creates a hybrid logical clock.
 *
 * @example
 * const clock = createHlc({ node: '0123456789abcdef', now: () => Date.now() })
 * const a = clock.next(); const b = clock.next() // a < b
 */
export function createHlc(options: HlcOptions): Hlc {
  const { node, now } = options
  if (!isNodeId(node)) {
    throw new LastwordError('INVALID_STAMP', `Node id must be 16 lowercase hex digits, got ${JSON.stringify(node)}`, { node })
  }
  let ms = 0
  let counter = -1 // so that the first stamp in the first millisecond has counter 0
  let last: Stamp | null = null
  if (options.last != null) {
    const parts = parseStamp(options.last)
    ms = parts.ms
    counter = parts.counter
    last = options.last
  }

  const readNow = (): number => {
    const value = now()
    if (!Number.isFinite(value) || value < 0) {
      throw new LastwordError('INVALID_STAMP', `The physical clock returned ${String(value)}`, { now: String(value) })
    }
    return Math.min(Math.floor(value), MAX_MS)
  }

  /** Sets (ms, counter), carrying an overflowing counter into the physical part: nothing wraps. */
  const settle = (nextMs: number, nextCounter: number): Stamp => {
    if (nextCounter > MAX_COUNTER) {
      nextMs += 1
      nextCounter = 0
    }
    if (nextMs > MAX_MS) throw new LastwordError('INVALID_STAMP', 'The clock has reached the largest representable time')
    ms = nextMs
    counter = nextCounter
    last = formatStamp({ ms, counter, node })
    return last
  }

  return {
    node,
    next() {
      const wall = readNow()
      return wall > ms ? settle(wall, 0) : settle(ms, counter + 1)
    },
    receive(remote) {
      const r = parseStamp(remote)
      const wall = readNow()
      const top = Math.max(wall, ms, r.ms)
      if (top === ms && top === r.ms) return settle(top, Math.max(counter, r.counter) + 1)
      if (top === ms) return settle(top, counter + 1)
      if (top === r.ms) return settle(top, r.counter + 1)
      return settle(top, 0)
    },
    rewind(to) {
      if (!Number.isSafeInteger(to) || to < 0 || to > MAX_MS) {
        throw new LastwordError('INVALID_STAMP', `Cannot rewind to ${String(to)}`, { to: String(to) })
      }
      ms = to
      counter = -1
      last = null
    },
    last: () => last,
  }
}

/** 16 lowercase hex digits from 8 random bytes supplied by the caller (core has no randomness). */
export function nodeIdFromBytes(bytes: ArrayLike<number>): string {
  if (bytes.length < 8) throw new LastwordError('INVALID_STAMP', 'A node id needs 8 random bytes')
  let out = ''
  for (let i = 0; i < 8; i++) out += ((bytes[i] ?? 0) & 0xff).toString(16).padStart(2, '0')
  return out
}
