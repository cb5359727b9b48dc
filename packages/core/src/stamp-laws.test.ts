/**
 * Laws of HLC stamps, checked with fast-check:
 *
 *  S1 monotonic clock — under any sequence of wall-clock jumps (forward, back, huge, none), `next()`
 *     calls, receives of arbitrary valid remote stamps and restarts restored from `last()`, every stamp
 *     the clock returns is strictly greater than every stamp it made or received before; `receive`
 *     returns a stamp greater than the remote one.
 *  S2 round trip — parseStamp(formatStamp(p)) = p for every valid p, and formatStamp(parseStamp(s)) = s.
 *  S3 order — comparing the strings orders like comparing (ms, counter, node) lexicographically.
 *  S4 strict parsing — any string that is not a formatted stamp is refused with INVALID_STAMP.
 *
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LastwordError } from './errors.js'
import { fcParams } from './fc-config.test-util.js'
import { createHlc, formatStamp, isStamp, MAX_COUNTER, MAX_MS, parseStamp, type Hlc, type Stamp, type StampParts } from './stamp.js'

const hex16 = fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: 16, maxLength: 16 }).map((cs) => cs.join(''))

const partsArb: fc.Arbitrary<StampParts> = fc.record({
  ms: fc.oneof(fc.integer({ min: 0, max: MAX_MS }), fc.constantFrom(0, 1, MAX_MS)),
  counter: fc.oneof(fc.integer({ min: 0, max: MAX_COUNTER }), fc.constantFrom(0, MAX_COUNTER)),
  node: fc.oneof(hex16, fc.constantFrom('0000000000000000', 'ffffffffffffffff')),
})

/** Ms values kept well below MAX_MS so the clock never hits the end of representable time. */
const HORIZON = 2 ** 44

const op = fc.oneof(
  fc.record({ kind: fc.constant('next' as const) }),
  fc.record({
    kind: fc.constant('jump' as const),
    delta: fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 5 }), fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.constantFrom(-(2 ** 40), 2 ** 40)),
  }),
  fc.record({
    kind: fc.constant('receive' as const),
    // remote stamps near the local clock (same ms, full counters) and anywhere at all
    near: fc.boolean(),
    offset: fc.integer({ min: -3, max: 3 }),
    ms: fc.integer({ min: 0, max: HORIZON }),
    counter: fc.oneof(fc.integer({ min: 0, max: MAX_COUNTER }), fc.constant(MAX_COUNTER)),
    node: hex16,
  }),
  fc.record({ kind: fc.constant('restore' as const) }),
)

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0
}

function compareParts(a: StampParts, b: StampParts): number {
  return a.ms - b.ms || a.counter - b.counter || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)
}

describe('stamp laws', () => {
  it('S1: stamps strictly increase under clock jumps, receives and restores', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: HORIZON }), fc.array(op, { maxLength: 60 }), hex16, (start, ops, node) => {
        let wall = start
        const now = () => wall
        let clock: Hlc = createHlc({ node, now })
        let high: Stamp | null = null // the greatest stamp made or received so far
        const check = (stamp: Stamp, what: string) => {
          if (high !== null && !(stamp > high)) throw new Error(`${what} returned ${stamp}, not after ${high}`)
          high = stamp
          expect(clock.last()).toBe(stamp)
        }
        for (const o of ops) {
          switch (o.kind) {
            case 'next':
              check(clock.next(), 'next')
              break
            case 'jump':
              wall = Math.min(HORIZON, Math.max(0, wall + o.delta))
              break
            case 'receive': {
              const base = high === null ? 0 : parseStamp(high).ms
              const ms = o.near ? Math.min(HORIZON, Math.max(0, base + o.offset)) : o.ms
              const remote = formatStamp({ ms, counter: o.counter, node: o.node })
              const at = clock.receive(remote)
              expect(at > remote).toBe(true)
              if (high === null || remote > high) high = remote
              check(at, 'receive')
              break
            }
            case 'restore':
              clock = createHlc({ node, now, last: clock.last() })
              break
          }
        }
      }),
      fcParams(1000),
    )
  })

  it('S2: stamps round-trip through their string form', () => {
    fc.assert(
      fc.property(partsArb, (parts) => {
        const stamp = formatStamp(parts)
        expect(isStamp(stamp)).toBe(true)
        expect(parseStamp(stamp)).toEqual(parts)
        expect(formatStamp(parseStamp(stamp))).toBe(stamp)
      }),
      fcParams(1000),
    )
  })

  it('S3: string order is (ms, counter, node) order', () => {
    // pairs that often share ms or counter, so every tie-break is exercised
    const close = partsArb.chain((a) =>
      fc.tuple(
        fc.constant(a),
        fc.record({
          ms: fc.oneof(fc.constant(a.ms), fc.integer({ min: 0, max: MAX_MS })),
          counter: fc.oneof(fc.constant(a.counter), fc.integer({ min: 0, max: MAX_COUNTER })),
          node: fc.oneof(fc.constant(a.node), hex16),
        }),
      ),
    )
    fc.assert(
      fc.property(close, ([a, b]) => {
        const sa = formatStamp(a)
        const sb = formatStamp(b)
        const byString = sa < sb ? -1 : sa > sb ? 1 : 0
        expect(byString).toBe(sign(compareParts(a, b)))
      }),
      fcParams(1000),
    )
  })

  it('S4: anything else is refused with INVALID_STAMP', () => {
    const mangled = partsArb.chain((parts) => {
      const stamp = formatStamp(parts)
      return fc.oneof(
        fc.string(),
        fc.tuple(fc.nat({ max: stamp.length - 1 }), fc.string({ minLength: 1, maxLength: 1 })).map(([i, c]) => stamp.slice(0, i) + c + stamp.slice(i + 1)),
        fc.nat({ max: stamp.length - 1 }).map((i) => stamp.slice(0, i) + stamp.slice(i + 1)),
        fc.string({ minLength: 1, maxLength: 3 }).map((extra) => stamp + extra),
        fc.constant(stamp.toUpperCase()),
      )
    })
    fc.assert(
      fc.property(mangled, (value) => {
        let valid = true
        try {
          formatStamp(parseStamp(value))
        } catch (error) {
          valid = false
          expect(error).toBeInstanceOf(LastwordError)
          expect((error as LastwordError).code).toBe('INVALID_STAMP')
        }
        // Only a string that is exactly the fixed-width form may be accepted.
        expect(valid).toBe(/^[0-9a-f]{12}-[0-9a-f]{4}-[0-9a-f]{16}$/.test(value))
      }),
      fcParams(1000),
    )
  })
})
