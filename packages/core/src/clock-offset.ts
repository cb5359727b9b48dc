/**
 * The clock-offset estimator (SPEC.md, "Clock offset"): NTP's on-wire calculation and a least-delay
 * clock filter, as pure functions over the four timestamps of a request and its answer.
 *
 *   t0  the client sent the request (client clock)
 *   t1  the server received it (server clock)
 *   t2  the server answered (server clock)
 *   t3  the client received the answer (client clock)
 *
 * offset = ((t1 − t0) + (t2 − t3)) / 2 and delay = (t3 − t0) − (t2 − t1). The server's handling time
 * (t2 − t1) drops out of both: a slow answer costs nothing but its network time. Whatever the split of
 * `delay` between the two directions, the true offset lies within `delay / 2` of a sample's offset —
 * so the sample of least delay is the best one, and two samples of one unchanged offset always have
 * overlapping intervals.
 */

/** One measurement: the offset (ms to add to the client's clock) and the round trip it was measured over. */
export interface ClockSample {
  /** The offset this sample measured, ms (server clock − client clock). */
  offset: number
  /** The round trip without the server's handling, ms (≥ 0): the error bound is `delay / 2`. */
  delay: number
  /** When the answer arrived (t3, client clock): samples age out of the window by it. */
  at: number
}

/** How many samples the filter keeps and for how long. */
export interface ClockFilterOptions {
  /** Samples kept (the most recent). Default 8. */
  size: number
  /** Samples older than this (client clock, ms) are dropped. Default 10 minutes. */
  maxAgeMs: number
}

/** The filter's defaults. */
export const CLOCK_FILTER_DEFAULTS: ClockFilterOptions = { size: 8, maxAgeMs: 10 * 60_000 }

/** The estimator's state: the samples in the window and the offset they decided (`null`: none yet). */
export interface OffsetEstimate {
  readonly samples: readonly ClockSample[]
  readonly offset: number | null
  /** The delay of the sample the offset comes from (its error bound is half of it), or `null`. */
  readonly delay: number | null
}

/** An estimator that has seen no sample. */
export const EMPTY_ESTIMATE: OffsetEstimate = { samples: [], offset: null, delay: null }

/**
 * The sample of one exchange, or `null` when the timestamps cannot be one (not finite, the answer
 * before the request on either clock). A delay a few ms below zero (two clocks rounding to whole ms)
 * counts as 0.
 */
export function clockSample(t0: number, t1: number, t2: number, t3: number): ClockSample | null {
  if (![t0, t1, t2, t3].every(Number.isFinite) || t3 < t0 || t2 < t1) return null
  return { offset: (t1 - t0 + (t2 - t3)) / 2, delay: Math.max(0, t3 - t0 - (t2 - t1)), at: t3 }
}

/** Whether two samples can measure one offset: their intervals `offset ± delay / 2` overlap. */
export function samplesAgree(a: ClockSample, b: ClockSample): boolean {
  return Math.abs(a.offset - b.offset) <= (a.delay + b.delay) / 2
}

/**
 * Adds a sample to the estimate. The window keeps the last `size` samples younger than `maxAgeMs`;
 * the offset is the one of the window's sample of least delay (the latest among equals), so it moves
 * only when a sample better than the others arrives or the best ages out. A sample that cannot agree
 * with the current best (intervals disjoint) means the offset itself changed — the device's clock was
 * set — and restarts the window from it.
 *
 * `accepted`: the estimate's offset now comes from this sample.
 */
export function addClockSample(estimate: OffsetEstimate, sample: ClockSample, options: ClockFilterOptions = CLOCK_FILTER_DEFAULTS): { estimate: OffsetEstimate; accepted: boolean } {
  const best = bestSample(estimate.samples)
  const stepped = best !== null && !samplesAgree(best, sample)
  const kept = stepped ? [] : estimate.samples.filter((s) => sample.at - s.at <= options.maxAgeMs && s.at <= sample.at)
  const samples = [...kept, sample].slice(-Math.max(1, options.size))
  const chosen = bestSample(samples) as ClockSample
  return { estimate: { samples, offset: chosen.offset, delay: chosen.delay }, accepted: chosen === sample }
}

/** Restarts the estimate from one sample (after the server refused the clock: the old samples are suspect). */
export function restartEstimate(sample: ClockSample): OffsetEstimate {
  return { samples: [sample], offset: sample.offset, delay: sample.delay }
}

/** The sample of least delay, the latest among equals; `null` for none. */
export function bestSample(samples: readonly ClockSample[]): ClockSample | null {
  let best: ClockSample | null = null
  for (const s of samples) if (best === null || s.delay <= best.delay) best = s
  return best
}
