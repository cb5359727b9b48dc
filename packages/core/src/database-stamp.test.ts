import { describe, expect, it } from 'vitest'
import { DATABASE_NODE, isDatabaseStamp, nextDatabaseStamp } from './database-stamp.js'
import { formatStamp, MAX_COUNTER, type Stamp } from './stamp.js'

const s = (ms: number, counter: number, node = 'abcdef0123456789'): Stamp => formatStamp({ ms, counter, node })

describe('nextDatabaseStamp (SPEC.md section 1a)', () => {
  it('stamps an unknown record at the database clock, counter 0, with the database node', () => {
    expect(nextDatabaseStamp(null, 1_000)).toBe(s(1_000, 0, DATABASE_NODE))
  })

  it('takes the database clock when it is ahead of the previous version', () => {
    expect(nextDatabaseStamp(s(999, 7), 1_000)).toBe(s(1_000, 0, DATABASE_NODE))
  })

  it('bumps the counter of the previous version when the clock is not ahead (equal or behind)', () => {
    expect(nextDatabaseStamp(s(1_000, 7), 1_000)).toBe(s(1_000, 8, DATABASE_NODE))
    expect(nextDatabaseStamp(s(5_000, 0), 1_000)).toBe(s(5_000, 1, DATABASE_NODE))
  })

  it('moves to the next millisecond when the counter would overflow', () => {
    expect(nextDatabaseStamp(s(1_000, MAX_COUNTER), 1_000)).toBe(s(1_001, 0, DATABASE_NODE))
  })

  it('is always strictly greater than the previous version, whoever made it', () => {
    for (const prev of [s(1_000, 0, 'ffffffffffffffff'), s(1_000, 0, DATABASE_NODE), s(2_000, 3), s(1_000, MAX_COUNTER, 'ffffffffffffffff')]) {
      for (const now of [0, 999, 1_000, 1_001, 3_000]) expect(nextDatabaseStamp(prev, now) > prev).toBe(true)
    }
  })

  it('refuses a clock reading that is not a time (typed error)', () => {
    expect(() => nextDatabaseStamp(null, -1)).toThrow(expect.objectContaining({ code: 'INVALID_STAMP' }))
    expect(() => nextDatabaseStamp(null, 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_STAMP' }))
  })

  it('tells a database stamp from a device stamp', () => {
    expect(isDatabaseStamp(nextDatabaseStamp(null, 1))).toBe(true)
    expect(isDatabaseStamp(s(1, 0))).toBe(false)
  })
})
