import { describe, expect, it } from 'vitest'
import { LastwordError } from './errors.js'
import { assertMetaOrder, assertUid, isTombstone, isUid, versionOf } from './metadata.js'
import { formatStamp } from './stamp.js'

const NODE = '0123456789abcdef'
const s = (ms: number, counter = 0) => formatStamp({ ms, counter, node: NODE })

function caught(fn: () => unknown): LastwordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return error as LastwordError
  }
  throw new Error('expected a LastwordError, nothing was thrown')
}

describe('versionOf / isTombstone', () => {
  it('the version of a live record is updated_at', () => {
    expect(versionOf({ updated_at: s(2), deleted_at: null })).toBe(s(2))
    expect(isTombstone({ deleted_at: null })).toBe(false)
  })

  it('the version of a tombstone is deleted_at', () => {
    expect(versionOf({ updated_at: s(2), deleted_at: s(3) })).toBe(s(3))
    expect(isTombstone({ deleted_at: s(3) })).toBe(true)
  })
})

describe('isUid / assertUid', () => {
  it.each(['018f2b6c-7d1e-7a4b-9c3d-2e1f0a9b8c7d', 'a', 'A_b-9', 'x'.repeat(64), 'constructor', '__proto__', 'toString', 'prototype', 'hasOwnProperty'])(
    'accepts %s',
    (uid) => {
      expect(isUid(uid)).toBe(true)
      expect(assertUid(uid)).toBe(uid)
    },
  )

  it.each(['', 'x'.repeat(65), 'a b', 'a/b', 'a.b', 'é', '../etc', 'a\n', 42, null, undefined, {}])('refuses %j with INVALID_UID', (uid) => {
    expect(isUid(uid)).toBe(false)
    expect(caught(() => assertUid(uid)).code).toBe('INVALID_UID')
  })

  it('does not echo a huge uid in full', () => {
    expect(caught(() => assertUid('!'.repeat(10_000))).message.length).toBeLessThan(200)
  })
})

describe('assertMetaOrder', () => {
  it('accepts created <= updated < deleted', () => {
    expect(() => assertMetaOrder({ created_at: s(1), updated_at: s(1), deleted_at: null })).not.toThrow()
    expect(() => assertMetaOrder({ created_at: s(1), updated_at: s(2), deleted_at: null })).not.toThrow()
    expect(() => assertMetaOrder({ created_at: s(1), updated_at: s(2), deleted_at: s(3) })).not.toThrow()
  })

  it('refuses a tombstone sharing its version with a live write (deleted_at == updated_at)', () => {
    // Otherwise R6 would make the second of the two a no-op and replicas could diverge by arrival order.
    const error = caught(() => assertMetaOrder({ created_at: s(1), updated_at: s(2), deleted_at: s(2) }))
    expect(error.code).toBe('INVALID_STAMP')
  })

  it('refuses updated_at older than created_at', () => {
    const error = caught(() => assertMetaOrder({ created_at: s(2), updated_at: s(1), deleted_at: null }))
    expect(error.code).toBe('INVALID_STAMP')
    expect(error.details).toEqual({ created_at: s(2), updated_at: s(1) })
  })

  it('refuses deleted_at older than updated_at (by counter too)', () => {
    expect(caught(() => assertMetaOrder({ created_at: s(1), updated_at: s(2, 5), deleted_at: s(2, 4) })).code).toBe('INVALID_STAMP')
  })

  it.each([
    ['created_at', { created_at: 'x', updated_at: s(1), deleted_at: null }],
    ['updated_at', { created_at: s(1), updated_at: 5, deleted_at: null }],
    ['deleted_at', { created_at: s(1), updated_at: s(1), deleted_at: '' }],
    ['deleted_at undefined (must be null, not missing)', { created_at: s(1), updated_at: s(1), deleted_at: undefined }],
  ])('refuses a malformed %s', (_, meta) => {
    expect(caught(() => assertMetaOrder(meta)).code).toBe('INVALID_STAMP')
  })
})
