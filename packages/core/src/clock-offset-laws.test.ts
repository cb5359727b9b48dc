/**
 * Laws of the clock-offset estimator (clock-offset.ts), on virtual time: a client whose clock is
 * `theta` ms behind the server's sends requests over paths of random, asymmetric one-way delays to a
 * server whose handling takes random time (up to 200 ms, the slow answers that used to bias the offset).
 *
 *  O1 one sample — its offset is within `delay / 2` of the truth, and the server's handling time
 *     changes neither its offset nor its delay.
 *  O2 the filter — under an unchanged truth no sample restarts the window; the estimate is the offset
 *     of the window's least-delay sample, so within half that delay of the truth; it moves only when
 *     the new sample is the window's best (or the best aged out).
 *  O3 slow handling, quick network — answers taking 80–200 ms on the server over paths of at most
 *     `j` ms each way leave the estimate within `j` ms of the truth (symmetric paths: exactly the truth).
 *  O4 a clock set — when the truth jumps by more than the paths' delays, the first sample after it
 *     restarts the window and the estimate is within its `delay / 2` of the new truth.
 *
 * A failure prints the seed; replay with FC_SEED=<seed> (see fc-config.test-util.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addClockSample, bestSample, clockSample, EMPTY_ESTIMATE, type ClockFilterOptions, type ClockSample, type OffsetEstimate } from './clock-offset.js'
import { fcParams } from './fc-config.test-util.js'

interface Exchange {
  /** Client → server, ms. */
  up: number
  /** Server handling, ms. */
  handling: number
  /** Server → client, ms. */
  down: number
  /** Client time between this exchange and the previous one, ms. */
  gap: number
}

const exchange = (maxPath: number, handling: fc.Arbitrary<number> = fc.integer({ min: 0, max: 200 })): fc.Arbitrary<Exchange> =>
  fc.record({ up: fc.integer({ min: 0, max: maxPath }), handling, down: fc.integer({ min: 0, max: maxPath }), gap: fc.integer({ min: 0, max: 120_000 }) })

const theta = fc.integer({ min: -86_400_000, max: 86_400_000 })
const options: fc.Arbitrary<ClockFilterOptions> = fc.record({ size: fc.integer({ min: 1, max: 12 }), maxAgeMs: fc.integer({ min: 1_000, max: 600_000 }) })

/** The four timestamps of one exchange sent at client time `t0`, the server's clock at `truth` ahead. */
function timestamps(t0: number, truth: number, e: Exchange): [number, number, number, number] {
  const t1 = t0 + e.up + truth
  const t2 = t1 + e.handling
  return [t0, t1, t2, t0 + e.up + e.handling + e.down]
}

function run(truth: (i: number) => number, exchanges: readonly Exchange[], opts: ClockFilterOptions, check: (before: OffsetEstimate, after: OffsetEstimate, sample: ClockSample, accepted: boolean, i: number) => void): OffsetEstimate {
  let estimate = EMPTY_ESTIMATE
  let t = 1_000_000
  exchanges.forEach((e, i) => {
    t += e.gap
    const [t0, t1, t2, t3] = timestamps(t, truth(i), e)
    t = t3
    const sample = clockSample(t0, t1, t2, t3) as ClockSample
    const next = addClockSample(estimate, sample, opts)
    check(estimate, next.estimate, sample, next.accepted, i)
    estimate = next.estimate
  })
  return estimate
}

describe('clock-offset laws', () => {
  it('O1: a sample is within delay/2 of the truth, whatever the server took to answer', () => {
    fc.assert(
      fc.property(theta, exchange(5_000), fc.integer({ min: 0, max: 10_000 }), (truth, e, otherHandling) => {
        const s = clockSample(...timestamps(5_000_000, truth, e)) as ClockSample
        expect(s.delay).toBe(e.up + e.down)
        expect(Math.abs(s.offset - truth)).toBeLessThanOrEqual(s.delay / 2)
        const slower = clockSample(...timestamps(5_000_000, truth, { ...e, handling: otherHandling })) as ClockSample
        expect(slower.offset).toBe(s.offset)
        expect(slower.delay).toBe(s.delay)
      }),
      fcParams(500),
    )
  })

  it('O1: timestamps that cannot be one exchange give no sample', () => {
    expect(clockSample(10, 0, 5, 9)).toBeNull() // answered before sent
    expect(clockSample(0, 10, 9, 20)).toBeNull() // server answered before it received
    expect(clockSample(0, Number.NaN, 1, 2)).toBeNull()
    expect(clockSample(0, 5, 6, 0)?.delay).toBe(0) // rounding below zero counts as 0
  })

  it('O2: under an unchanged truth the estimate is the least-delay sample of the window, within its delay/2, moved only by a better sample', () => {
    fc.assert(
      fc.property(theta, fc.array(exchange(2_000), { minLength: 1, maxLength: 40 }), options, (truth, exchanges, opts) => {
        const end = run(() => truth, exchanges, opts, (before, after, sample, accepted) => {
          // Both intervals contain the truth: never a restart, the window only slides.
          expect(after.samples.length).toBe(Math.min(opts.size, before.samples.filter((s) => sample.at - s.at <= opts.maxAgeMs).length + 1))
          const best = bestSample(after.samples) as ClockSample
          expect(after.offset).toBe(best.offset)
          expect(after.delay).toBe(Math.min(...after.samples.map((s) => s.delay)))
          expect(Math.abs((after.offset as number) - truth)).toBeLessThanOrEqual((after.delay as number) / 2)
          expect(accepted).toBe(best === sample)
          const beforeBest = bestSample(before.samples)
          if (!accepted && beforeBest !== null && after.samples.includes(beforeBest)) expect(after.offset).toBe(before.offset)
        })
        expect(end.samples.length).toBeGreaterThan(0)
      }),
      fcParams(300),
    )
  })

  it('O3: answers taking 80–200 ms on the server over paths of at most j ms leave the estimate within j ms (symmetric: exact)', () => {
    fc.assert(
      fc.property(theta, fc.integer({ min: 0, max: 20 }), fc.array(fc.tuple(fc.integer({ min: 80, max: 200 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 60_000 })), { minLength: 1, maxLength: 30 }), (truth, j, draws) => {
        const asym = draws.map(([handling, u, d, gap]) => ({ up: u % (j + 1), handling, down: d % (j + 1), gap }))
        const end = run(() => truth, asym, CLOCK_FILTER, () => undefined)
        expect(Math.abs((end.offset as number) - truth)).toBeLessThanOrEqual(j)
        const sym = draws.map(([handling, u, , gap]) => ({ up: u % (j + 1), handling, down: u % (j + 1), gap }))
        expect(run(() => truth, sym, CLOCK_FILTER, () => undefined).offset).toBe(truth)
      }),
      fcParams(300),
    )
  })

  it('O4: after the clock is set, the first sample restarts the window at the new truth', () => {
    fc.assert(
      fc.property(theta, fc.integer({ min: 4_001, max: 86_400_000 }), fc.boolean(), fc.array(exchange(1_000), { minLength: 2, maxLength: 20 }), fc.nat(), (truth, jump, back, exchanges, at) => {
        const k = 1 + (at % (exchanges.length - 1))
        const shifted = (i: number): number => (i < k ? truth : truth + (back ? -jump : jump))
        run(shifted, exchanges, CLOCK_FILTER, (_before, after, sample, accepted, i) => {
          if (i !== k) return
          expect(accepted).toBe(true)
          expect(after.samples).toEqual([sample])
          expect(Math.abs((after.offset as number) - shifted(k))).toBeLessThanOrEqual(sample.delay / 2)
        })
      }),
      fcParams(300),
    )
  })
})

const CLOCK_FILTER: ClockFilterOptions = { size: 8, maxAgeMs: 600_000 }
