/**
 * Which revs a node has delivered to its sockets (the change feed's bookkeeping, `feed.ts`). Every committed transaction takes a contiguous block
 * of revs from the version row, and a transaction that rolls back gives its block back, so the
 * committed revs are exactly 1 … the version row's rev: a rev a node has not heard of after a while is a
 * publication it missed (a lost message, a LISTEN connection that was down, a node killed between its
 * commit and its publish, another process writing to the database).
 */
export interface RevTracker {
  /** Every rev up to here is accounted for. */
  readonly watermark: number
  /** Marks revs `first … last` as delivered. */
  add(first: number, last: number): void
  /** Raises the watermark to `rev` (revs up to it are then treated as delivered). */
  skipTo(rev: number): void
  /** The ranges in (watermark, `upTo`] not delivered, in order. */
  gaps(upTo: number): Array<[number, number]>
  /** Whether `rev` was delivered (or is at or under the watermark). */
  has(rev: number): boolean
}

export function createRevTracker(start = 0): RevTracker {
  let watermark = start
  /** Delivered ranges above the watermark: sorted, disjoint, not adjacent to each other. */
  let ranges: Array<[number, number]> = []

  const settle = (): void => {
    while (ranges.length > 0) {
      const first = ranges[0] as [number, number]
      if (first[0] > watermark + 1) break
      watermark = Math.max(watermark, first[1])
      ranges.shift()
    }
  }

  return {
    get watermark() {
      return watermark
    },
    add(first, last) {
      if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) return
      const lo = Math.max(first, watermark + 1)
      if (last < lo) return
      const merged: Array<[number, number]> = []
      let current: [number, number] = [lo, last]
      let placed = false
      for (const range of ranges) {
        if (range[1] + 1 < current[0]) merged.push(range)
        else if (current[1] + 1 < range[0]) {
          if (!placed) merged.push(current)
          placed = true
          merged.push(range)
        } else current = [Math.min(range[0], current[0]), Math.max(range[1], current[1])]
      }
      if (!placed) merged.push(current)
      ranges = merged
      settle()
    },
    skipTo(rev) {
      if (rev <= watermark) return
      watermark = rev
      ranges = ranges.filter((r) => r[1] > watermark).map((r) => [Math.max(r[0], watermark + 1), r[1]] as [number, number])
      settle()
    },
    gaps(upTo) {
      const out: Array<[number, number]> = []
      let next = watermark + 1
      for (const [lo, hi] of ranges) {
        if (lo > upTo) break
        if (lo > next) out.push([next, Math.min(lo - 1, upTo)])
        next = hi + 1
      }
      if (next <= upTo) out.push([next, upTo])
      return out
    },
    has(rev) {
      if (rev <= watermark) return true
      return ranges.some(([lo, hi]) => lo <= rev && rev <= hi)
    },
  }
}
