import { describe, expect, it } from 'vitest'
import { LastwordError } from './errors.js'
import {
  assertStamp,
  assertWithinDrift,
  compareStamps,
  createHlc,
  formatStamp,
  isNodeId,
  isStamp,
  MAX_COUNTER,
  MAX_MS,
  maxStamp,
  nodeIdFromBytes,
  parseStamp,
  STAMP_LENGTH,
  stampMs,
  stampToDate,
  type Stamp,
} from './stamp.js'

const NODE = '0123456789abcdef'
const OTHER = 'fedcba9876543210'

/** Runs `fn` and returns the LastwordError it throws (fails the test if it throws anything else). */
function caught(fn: () => unknown): LastwordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return error as LastwordError
  }
  throw new Error('expected a LastwordError, nothing was thrown')
}

function expectStrictlyIncreasing(stamps: readonly Stamp[]): void {
  for (let i = 1; i < stamps.length; i++) {
    if (!((stamps[i - 1] as Stamp) < (stamps[i] as Stamp))) {
      throw new Error(`stamp ${i} (${stamps[i]}) is not after stamp ${i - 1} (${stamps[i - 1]})`)
    }
  }
}

describe('formatStamp / parseStamp', () => {
  it('writes the fixed-width form and reads it back', () => {
    const stamp = formatStamp({ ms: 1_700_000_000_000, counter: 5, node: NODE })
    expect(stamp).toBe('018bcfe56800-0005-0123456789abcdef')
    expect(stamp).toHaveLength(STAMP_LENGTH)
    expect(parseStamp(stamp)).toEqual({ ms: 1_700_000_000_000, counter: 5, node: NODE })
  })

  it('round-trips the extremes', () => {
    for (const parts of [
      { ms: 0, counter: 0, node: '0000000000000000' },
      { ms: MAX_MS, counter: MAX_COUNTER, node: 'ffffffffffffffff' },
    ]) {
      expect(parseStamp(formatStamp(parts))).toEqual(parts)
    }
  })

  it.each([
    ['negative ms', { ms: -1, counter: 0, node: NODE }],
    ['NaN ms', { ms: Number.NaN, counter: 0, node: NODE }],
    ['fractional ms', { ms: 1.5, counter: 0, node: NODE }],
    ['Infinity ms', { ms: Number.POSITIVE_INFINITY, counter: 0, node: NODE }],
    ['ms past MAX_MS', { ms: MAX_MS + 1, counter: 0, node: NODE }],
    ['negative counter', { ms: 0, counter: -1, node: NODE }],
    ['NaN counter', { ms: 0, counter: Number.NaN, node: NODE }],
    ['counter past MAX_COUNTER', { ms: 0, counter: MAX_COUNTER + 1, node: NODE }],
    ['short node', { ms: 0, counter: 0, node: '0123' }],
    ['uppercase node', { ms: 0, counter: 0, node: '0123456789ABCDEF' }],
    ['non-hex node', { ms: 0, counter: 0, node: '0123456789abcdeg' }],
  ])('formatStamp refuses %s with INVALID_STAMP', (_, parts) => {
    expect(caught(() => formatStamp(parts)).code).toBe('INVALID_STAMP')
  })

  it.each([
    ['empty', ''],
    ['too short', '018bcfe56800-0005-0123456789abcde'],
    ['too long', '018bcfe56800-0005-0123456789abcdef0'],
    ['uppercase', '018BCFE56800-0005-0123456789abcdef'],
    ['wrong separator', '018bcfe56800_0005_0123456789abcdef'],
    ['minus sign', '-18bcfe56800-0005-0123456789abcdef'],
    ['NaN', 'NaN'],
    ['spaces', ' 018bcfe56800-0005-0123456789abcdef'],
    ['trailing newline', '018bcfe56800-0005-0123456789abcdef\n'],
    ['an ISO date', '2024-01-01T00:00:00.000Z'],
    ['a number', 1_700_000_000_000],
    ['null', null],
    ['undefined', undefined],
    ['an object', { ms: 0, counter: 0, node: NODE }],
  ])('parseStamp refuses %s with INVALID_STAMP', (_, value) => {
    const error = caught(() => parseStamp(value))
    expect(error.code).toBe('INVALID_STAMP')
    expect(isStamp(value)).toBe(false)
    expect(caught(() => assertStamp(value)).code).toBe('INVALID_STAMP')
  })

  it('parseStamp does not echo huge input into details', () => {
    const error = caught(() => parseStamp('x'.repeat(10_000)))
    expect(String(error.details?.['stamp']).length).toBeLessThanOrEqual(64)
  })

  it('isNodeId accepts exactly 16 lowercase hex digits', () => {
    expect(isNodeId(NODE)).toBe(true)
    expect(isNodeId(NODE.toUpperCase())).toBe(false)
    expect(isNodeId(NODE.slice(1))).toBe(false)
    expect(isNodeId(123)).toBe(false)
  })
})

describe('stamp order', () => {
  it('string order is (ms, counter, node) order', () => {
    const a = formatStamp({ ms: 1, counter: MAX_COUNTER, node: 'ffffffffffffffff' })
    const b = formatStamp({ ms: 2, counter: 0, node: '0000000000000000' })
    const c = formatStamp({ ms: 2, counter: 1, node: '0000000000000000' })
    const d = formatStamp({ ms: 2, counter: 1, node: '0000000000000001' })
    expectStrictlyIncreasing([a, b, c, d])
    expect(compareStamps(a, b)).toBeLessThan(0)
    expect(compareStamps(d, c)).toBeGreaterThan(0)
    expect(compareStamps(c, c)).toBe(0)
  })

  it('maxStamp treats null as older than every stamp', () => {
    const a = formatStamp({ ms: 1, counter: 0, node: NODE })
    const b = formatStamp({ ms: 2, counter: 0, node: NODE })
    expect(maxStamp(null, null)).toBeNull()
    expect(maxStamp(a, null)).toBe(a)
    expect(maxStamp(null, a)).toBe(a)
    expect(maxStamp(a, b)).toBe(b)
    expect(maxStamp(b, a)).toBe(b)
  })
})

describe('stampToDate / stampMs', () => {
  it('gives the physical part', () => {
    const stamp = formatStamp({ ms: Date.UTC(2024, 0, 2, 3, 4, 5, 6), counter: 9, node: NODE })
    expect(stampToDate(stamp).toISOString()).toBe('2024-01-02T03:04:05.006Z')
    expect(stampMs(stamp)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 6))
  })

  it('refuses a malformed stamp', () => {
    expect(caught(() => stampToDate('nope' as Stamp)).code).toBe('INVALID_STAMP')
  })
})

describe('assertWithinDrift', () => {
  const now = 1_700_000_000_000
  it('accepts stamps up to the allowed drift ahead, and any stamp behind', () => {
    expect(() => assertWithinDrift(formatStamp({ ms: now + 1000, counter: MAX_COUNTER, node: NODE }), now, 1000)).not.toThrow()
    expect(() => assertWithinDrift(formatStamp({ ms: 0, counter: 0, node: NODE }), now, 0)).not.toThrow()
  })

  it('refuses a stamp beyond the drift with CLOCK_AHEAD carrying the refusing side\'s time', () => {
    const stamp = formatStamp({ ms: now + 1001, counter: 0, node: NODE })
    const error = caught(() => assertWithinDrift(stamp, now, 1000))
    expect(error.code).toBe('CLOCK_AHEAD')
    expect(error.details).toMatchObject({ now, stampMs: now + 1001, maxDriftMs: 1000 })
    expect(error.message).toMatch(/ahead/)
  })

  it('refuses year 9999', () => {
    const stamp = formatStamp({ ms: Date.UTC(9999, 0, 1), counter: 0, node: NODE })
    expect(caught(() => assertWithinDrift(stamp, now, 60_000)).details?.['now']).toBe(now)
  })
})

describe('createHlc', () => {
  it('refuses a malformed node id', () => {
    expect(caught(() => createHlc({ node: 'tab-1', now: () => 0 })).code).toBe('INVALID_STAMP')
  })

  it('refuses a malformed `last`', () => {
    expect(caught(() => createHlc({ node: NODE, now: () => 0, last: 'garbage' as Stamp })).code).toBe('INVALID_STAMP')
  })

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY])('refuses a physical clock returning %s', (bad) => {
    const clock = createHlc({ node: NODE, now: () => bad })
    expect(caught(() => clock.next()).code).toBe('INVALID_STAMP')
  })

  it('stamps with the wall clock when it moves, counter 0 in a new millisecond', () => {
    let wall = 1000
    const clock = createHlc({ node: NODE, now: () => wall })
    expect(clock.last()).toBeNull()
    const a = clock.next()
    expect(parseStamp(a)).toEqual({ ms: 1000, counter: 0, node: NODE })
    const b = clock.next()
    expect(parseStamp(b)).toEqual({ ms: 1000, counter: 1, node: NODE })
    wall = 1005
    expect(parseStamp(clock.next())).toEqual({ ms: 1005, counter: 0, node: NODE })
    expect(clock.last()).toBe(formatStamp({ ms: 1005, counter: 0, node: NODE }))
    expect(clock.node).toBe(NODE)
  })

  it('truncates fractional wall-clock time', () => {
    const clock = createHlc({ node: NODE, now: () => 1000.9 })
    expect(stampMs(clock.next())).toBe(1000)
  })

  it('70,000 stamps in one frozen millisecond strictly increase: the counter overflows into the physical part, never wraps', () => {
    const clock = createHlc({ node: NODE, now: () => 5000 })
    const stamps: Stamp[] = []
    for (let i = 0; i < 70_000; i++) stamps.push(clock.next())
    expectStrictlyIncreasing(stamps)
    expect(parseStamp(stamps[MAX_COUNTER] as Stamp)).toEqual({ ms: 5000, counter: MAX_COUNTER, node: NODE })
    expect(parseStamp(stamps[MAX_COUNTER + 1] as Stamp)).toEqual({ ms: 5001, counter: 0, node: NODE })
    expect(stampMs(stamps[69_999] as Stamp)).toBe(5001)
  })

  it('never goes back when the wall clock is set back', () => {
    let wall = 10_000
    const clock = createHlc({ node: NODE, now: () => wall })
    const a = clock.next()
    wall = 5_000
    const b = clock.next()
    expect(b > a).toBe(true)
    expect(parseStamp(b)).toEqual({ ms: 10_000, counter: 1, node: NODE })
  })

  describe('receive', () => {
    it('advances past a remote stamp ahead of the local clock', () => {
      const clock = createHlc({ node: NODE, now: () => 1000 })
      clock.next()
      const remote = formatStamp({ ms: 2000, counter: 7, node: OTHER })
      const at = clock.receive(remote)
      expect(parseStamp(at)).toEqual({ ms: 2000, counter: 8, node: NODE })
      expect(clock.last()).toBe(at)
      expect(clock.next() > remote).toBe(true)
    })

    it('takes the greater counter when local and remote share the millisecond', () => {
      const clock = createHlc({ node: NODE, now: () => 1000 })
      clock.next() // (1000, 0)
      expect(parseStamp(clock.receive(formatStamp({ ms: 1000, counter: 9, node: OTHER })))).toMatchObject({ ms: 1000, counter: 10 })
      expect(parseStamp(clock.receive(formatStamp({ ms: 1000, counter: 3, node: OTHER })))).toMatchObject({ ms: 1000, counter: 11 })
    })

    it('bumps its own counter for a remote stamp behind it', () => {
      const clock = createHlc({ node: NODE, now: () => 1000 })
      clock.next()
      expect(parseStamp(clock.receive(formatStamp({ ms: 10, counter: 99, node: OTHER })))).toMatchObject({ ms: 1000, counter: 1 })
    })

    it('uses the wall clock when it is ahead of both', () => {
      let wall = 1000
      const clock = createHlc({ node: NODE, now: () => wall })
      clock.next()
      wall = 3000
      expect(parseStamp(clock.receive(formatStamp({ ms: 2000, counter: 5, node: OTHER })))).toMatchObject({ ms: 3000, counter: 0 })
    })

    it('carries an overflowing remote counter into the physical part', () => {
      const clock = createHlc({ node: NODE, now: () => 0 })
      const at = clock.receive(formatStamp({ ms: 50, counter: MAX_COUNTER, node: OTHER }))
      expect(parseStamp(at)).toMatchObject({ ms: 51, counter: 0 })
    })

    it('refuses a malformed remote stamp and stays where it was', () => {
      const clock = createHlc({ node: NODE, now: () => 1000 })
      const a = clock.next()
      expect(caught(() => clock.receive('2024' as Stamp)).code).toBe('INVALID_STAMP')
      expect(clock.last()).toBe(a)
    })

    it('throws rather than wrap at the largest representable time', () => {
      const clock = createHlc({ node: NODE, now: () => 0 })
      expect(caught(() => clock.receive(formatStamp({ ms: MAX_MS, counter: MAX_COUNTER, node: OTHER }))).code).toBe('INVALID_STAMP')
    })
  })

  describe('restore from `last`', () => {
    it('continues after the last stamp even if the wall clock was set back', () => {
      const before = createHlc({ node: NODE, now: () => 50_000 })
      before.next()
      const last = before.next()
      const after = createHlc({ node: NODE, now: () => 1_000, last })
      expect(after.last()).toBe(last)
      const next = after.next()
      expect(next > last).toBe(true)
      expect(parseStamp(next)).toEqual({ ms: 50_000, counter: 2, node: NODE })
    })

    it('restores at a full counter without wrapping', () => {
      const last = formatStamp({ ms: 50_000, counter: MAX_COUNTER, node: NODE })
      const clock = createHlc({ node: NODE, now: () => 0, last })
      expect(parseStamp(clock.next())).toEqual({ ms: 50_001, counter: 0, node: NODE })
    })

    it('treats `last: null` as a fresh clock', () => {
      const clock = createHlc({ node: NODE, now: () => 7, last: null })
      expect(clock.last()).toBeNull()
      expect(parseStamp(clock.next())).toMatchObject({ ms: 7, counter: 0 })
    })
  })

  describe('rewind', () => {
    it('moves the clock back to corrected time (the one allowed way back)', () => {
      let wall = Date.UTC(2030, 0, 1) // a year fast
      const clock = createHlc({ node: NODE, now: () => wall })
      const refused = clock.next()
      wall = Date.UTC(2029, 0, 1) // offset corrected
      clock.rewind(wall)
      expect(clock.last()).toBeNull()
      const restamped = clock.next()
      expect(restamped < refused).toBe(true)
      expect(parseStamp(restamped)).toEqual({ ms: wall, counter: 0, node: NODE })
      const again = clock.next()
      expect(again > restamped).toBe(true)
    })

    it('next and receive stay strictly monotonic after a rewind', () => {
      const clock = createHlc({ node: NODE, now: () => 100 })
      clock.next()
      clock.rewind(200) // ahead of the wall clock: next must not fall back to the wall
      const a = clock.next()
      expect(parseStamp(a)).toMatchObject({ ms: 200, counter: 0 })
      const b = clock.receive(formatStamp({ ms: 200, counter: 0, node: OTHER }))
      expect(b > a).toBe(true)
    })

    it.each([-1, Number.NaN, 1.5, MAX_MS + 1])('refuses to rewind to %s', (to) => {
      const clock = createHlc({ node: NODE, now: () => 0 })
      expect(caught(() => clock.rewind(to)).code).toBe('INVALID_STAMP')
    })
  })
})

describe('nodeIdFromBytes', () => {
  it('formats 8 bytes as 16 hex digits', () => {
    expect(nodeIdFromBytes([0, 1, 2, 0xab, 0xcd, 0xef, 0x10, 0xff])).toBe('000102abcdef10ff')
    expect(isNodeId(nodeIdFromBytes(new Uint8Array(8).fill(0xff)))).toBe(true)
  })

  it('uses the first 8 bytes and masks each to a byte', () => {
    expect(nodeIdFromBytes([256, 257, 2, 3, 4, 5, 6, 7, 8, 9])).toBe('0001020304050607')
  })

  it('refuses fewer than 8 bytes', () => {
    expect(caught(() => nodeIdFromBytes([1, 2, 3])).code).toBe('INVALID_STAMP')
  })
})
