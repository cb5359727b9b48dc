import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fcParams } from './fc-config.test-util.js'
import { decodeCheckpoint, encodeCheckpoint, hashString } from './checkpoint.js'
import { LastwordError } from './errors.js'

function caught(fn: () => unknown): LastwordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return error as LastwordError
  }
  throw new Error('expected a LastwordError, nothing was thrown')
}

const hash = hashString('["todos",[["done","eq",false]]]')

describe('encodeCheckpoint / decodeCheckpoint', () => {
  it.each([0, 1, 42, 999_999_999_999_999, 1_000_000_000_000_000, Number.MAX_SAFE_INTEGER])('round-trips rev %s', (rev) => {
    const token = encodeCheckpoint({ rev, scopeHash: hash })
    expect(decodeCheckpoint(token)).toEqual({ rev, scopeHash: hash })
  })

  it('law: every checkpoint encodeCheckpoint accepts decodes to itself', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.maxSafeNat()), fc.string(), (rev, scope) => {
        const checkpoint = { rev, scopeHash: hashString(scope) }
        expect(decodeCheckpoint(encodeCheckpoint(checkpoint))).toEqual(checkpoint)
      }),
      fcParams(1000),
    )
  })

  it('round-trips a between-pages token with since', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.string(), (a, b, scope) => {
        const since = Math.min(a, b)
        const rev = Math.max(a, b) + 1
        const checkpoint = { rev, since, scopeHash: hashString(scope) }
        expect(decodeCheckpoint(encodeCheckpoint(checkpoint))).toEqual(checkpoint)
      }),
      fcParams(1000),
    )
    expect(encodeCheckpoint({ rev: 9, since: 3, scopeHash: '0123456789abcd' })).toBe('lw1.9~3.0123456789abcd')
  })

  it.each([9, 10, -1, 1.5])('refuses since %s with rev 9 (since must be below rev)', (since) => {
    expect(caught(() => encodeCheckpoint({ rev: 9, since, scopeHash: hash })).code).toBe('CHECKPOINT_INVALID')
  })

  it.each([`lw1.9~9.${hash}`, `lw1.9~10.${hash}`, `lw1.9~01.${hash}`, `lw1.9~.${hash}`, `lw1.9~-1.${hash}`, `lw1.~1.${hash}`])('refuses to decode %s', (token) => {
    expect(caught(() => decodeCheckpoint(token)).code).toBe('CHECKPOINT_INVALID')
  })

  it('carries the lineage of its rev (lw2: database id and segment), and reads a token without one (lw1)', () => {
    const lineage = { db: '0123456789abcdef', segment: 'fedcba9876543210' }
    expect(encodeCheckpoint({ rev: 7, scopeHash: '0123456789abcd', lineage })).toBe('lw2.0123456789abcdef.fedcba9876543210.7.0123456789abcd')
    expect(decodeCheckpoint('lw2.0123456789abcdef.fedcba9876543210.9~3.0123456789abcd')).toEqual({ rev: 9, since: 3, scopeHash: '0123456789abcd', lineage })
    expect(decodeCheckpoint('lw1.7.0123456789abcd')).toEqual({ rev: 7, scopeHash: '0123456789abcd' })
    expect(caught(() => encodeCheckpoint({ rev: 7, scopeHash: hash, lineage: { db: 'x', segment: lineage.segment } })).code).toBe('CHECKPOINT_INVALID')
    for (const bad of [`lw2.0123456789abcdef.7.${hash}`, `lw2.0123456789ABCDEF.fedcba9876543210.7.${hash}`, `lw2.0123456789abcdef.fedcba9876543210.07.${hash}`]) {
      expect(caught(() => decodeCheckpoint(bad)).code).toBe('CHECKPOINT_INVALID')
    }
  })

  it('writes a versioned token', () => {
    expect(encodeCheckpoint({ rev: 7, scopeHash: '0123456789abcd' })).toBe('lw1.7.0123456789abcd')
  })

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])('refuses to encode rev %s', (rev) => {
    expect(caught(() => encodeCheckpoint({ rev, scopeHash: hash })).code).toBe('CHECKPOINT_INVALID')
  })

  it.each(['', 'abc', '0123456789ABCD', `${hash}0`, 'x.y'])('refuses to encode scopeHash %j (it could not be decoded)', (scopeHash) => {
    expect(caught(() => encodeCheckpoint({ rev: 1, scopeHash })).code).toBe('CHECKPOINT_INVALID')
  })

  it.each([
    ['empty', ''],
    ['another version', `lw2.1.${hash}`],
    ['no rev', `lw1..${hash}`],
    ['negative rev', `lw1.-1.${hash}`],
    ['fractional rev', `lw1.1.5.${hash}`],
    ['leading zeros', `lw1.01.${hash}`],
    ['rev past MAX_SAFE_INTEGER', `lw1.9007199254740992.${hash}`],
    ['rev of 17 digits', `lw1.10000000000000000.${hash}`],
    ['short hash', 'lw1.1.abc'],
    ['uppercase hash', `lw1.1.${hash.toUpperCase()}`],
    ['trailing junk', `lw1.1.${hash}x`],
    ['a number', 5],
    ['null', null],
    ['an object', { rev: 1, scopeHash: hash }],
  ])('refuses %s with CHECKPOINT_INVALID', (_, token) => {
    const error = caught(() => decodeCheckpoint(token))
    expect(error.code).toBe('CHECKPOINT_INVALID')
    expect(error.message).toMatch(/full reconciliation|range/)
  })

  it('the test hash has letters, so the uppercase case is meaningful', () => {
    expect(hash).toMatch(/[a-f]/)
  })
})

describe('hashString', () => {
  it('is 14 lowercase hex digits, deterministic, and sensitive to every character', () => {
    expect(hashString('')).toMatch(/^[0-9a-f]{14}$/)
    expect(hashString('abc')).toBe(hashString('abc'))
    expect(hashString('abc')).not.toBe(hashString('abd'))
    expect(hashString('abc')).not.toBe(hashString('acb'))
    expect(hashString('\u{1F600}')).toMatch(/^[0-9a-f]{14}$/)
  })

  it('has a stable value (tokens stored by clients must keep meaning the same scope)', () => {
    expect(hashString('')).toBe('0bdcb81aee8d83')
    expect(hashString('lastword')).toBe('0239d5eaa15d46')
  })

  it('spreads: no collision among 10,000 close strings', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) seen.add(hashString(`["todos",[["n","eq",${i}]]]`))
    expect(seen.size).toBe(10_000)
  })
})
