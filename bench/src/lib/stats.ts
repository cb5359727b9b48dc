export interface Summary {
  median: number
  min: number
  max: number
  n: number
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 }
  const mid = Math.floor(s.length / 2)
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length }
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)))
  return s[rank - 1]!
}

export function medianOf<T>(items: readonly T[], key: (t: T) => number): number {
  return summarize(items.map(key)).median
}
