import { describe, expect, it } from 'vitest'
import type { ColumnDescriptor, TableDescriptor } from './descriptor.js'
import { LastwordError } from './errors.js'
import {
  compareCodePoints,
  compareValues,
  intersectScopes,
  isSatisfiable,
  matches,
  matchesCondition,
  scopeKey,
  scopesOverlap,
  validateWhere,
  type Condition,
  type Scope,
} from './where.js'

function caught(fn: () => unknown): LastwordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return error as LastwordError
  }
  throw new Error('expected a LastwordError, nothing was thrown')
}

const col = (name: string, type: ColumnDescriptor['type'], nullable = true): ColumnDescriptor => ({ name, type, nullable, writable: true })
const table: TableDescriptor = {
  name: 'todos',
  columns: [col('title', 'text'), col('done', 'boolean'), col('n', 'integer'), col('x', 'real'), col('due', 'timestamp'), col('meta', 'json')],
}
const v = (where: unknown): Scope => validateWhere(where, table)
const key = (where: unknown): string => scopeKey('todos', v(where))

describe('validateWhere: the canonical form', () => {
  it('{} is the empty scope: it matches every row', () => {
    expect(v({})).toEqual([])
    expect(matches({ title: 'a' }, v({}))).toBe(true)
  })

  it('reads shorthand equality, null, and operator objects', () => {
    expect(v({ done: false, title: null, n: { gte: 2, lt: 5 }, x: { in: [2, 1] } })).toEqual([
      { column: 'done', op: 'eq', value: false },
      { column: 'n', op: 'gte', value: 2 },
      { column: 'n', op: 'lt', value: 5 },
      { column: 'title', op: 'null' },
      { column: 'x', op: 'in', values: [1, 2] },
    ])
  })

  it('normalises timestamps (string with offset or Date) to ISO instants', () => {
    const expected = [{ column: 'due', op: 'gt', value: '2024-01-01T00:00:00.000Z' }]
    expect(v({ due: { gt: '2024-01-01T01:00:00+01:00' } })).toEqual(expected)
    expect(v({ due: { gt: new Date(Date.UTC(2024, 0, 1)) } })).toEqual(expected)
    expect(v({ due: new Date(Date.UTC(2024, 0, 1)) })).toEqual([{ column: 'due', op: 'eq', value: '2024-01-01T00:00:00.000Z' }])
  })

  it('treats -0 as 0', () => {
    expect(Object.is((v({ n: -0 })[0] as { value: number }).value, 0)).toBe(true)
  })

  it('dedupes and sorts `in`', () => {
    expect(v({ title: { in: ['b', 'a', 'b', 'a'] } })).toEqual([{ column: 'title', op: 'in', values: ['a', 'b'] }])
    expect(v({ n: { in: [3, 1, 3, -0, 0] } })).toEqual([{ column: 'n', op: 'in', values: [0, 1, 3] }])
    expect(v({ done: { in: [true, false, true] } })).toEqual([{ column: 'done', op: 'in', values: [false, true] }])
  })

  it('sorts `in` strings by code point', () => {
    expect(v({ title: { in: ['\u{1F600}', '\uFFFF'] } })).toEqual([{ column: 'title', op: 'in', values: ['\uFFFF', '\u{1F600}'] }])
  })

  it('an empty `in` is kept and matches nothing (never widened)', () => {
    const scope = v({ title: { in: [] } })
    expect(scope).toEqual([{ column: 'title', op: 'in', values: [] }])
    expect(matches({ title: 'a' }, scope)).toBe(false)
    expect(matches({ title: null }, scope)).toBe(false)
  })

  it('gives equal keys to equal filters written differently', () => {
    const same = [
      { n: { gte: 1, lt: 5 }, done: true, title: { in: ['b', 'a'] }, due: { lt: '2024-01-01T00:00:00Z' } },
      { title: { in: ['a', 'b', 'a'] }, due: { lt: new Date(Date.UTC(2024, 0, 1)) }, done: { eq: true }, n: { lt: 5, gte: 1 } },
      { due: { lt: '2024-01-01T02:00:00.000+02:00' }, done: true, n: { lt: 5, gte: 1 }, title: { in: ['b', 'b', 'a'] } },
    ]
    const keys = same.map(key)
    expect(new Set(keys).size).toBe(1)
  })

  it('gives different keys to different filters', () => {
    expect(key({ n: 1 })).not.toBe(key({ n: { gte: 1 } }))
    expect(key({ title: '1' })).not.toBe(key({ n: 1 }))
    expect(key({ done: true })).not.toBe(key({ done: false }))
    expect(scopeKey('a', v({}))).not.toBe(scopeKey('b', v({})))
  })
})

describe('validateWhere: refusals (a filter is never widened to {})', () => {
  it.each([
    ['not an object', 'done'],
    ['null', null],
    ['an array', [{ done: true }]],
    ['a Date', new Date()],
    ['an empty operator object', { n: {} }],
    ['an unknown operator', { n: { ne: 1 } }],
    ['a misspelt operator', { n: { gte: 1, lessThan: 5 } }],
    ['an undefined value', { n: undefined }],
    ['an undefined operator value', { n: { gt: undefined } }],
    ['NaN', { n: Number.NaN }],
    ['NaN in an operator', { x: { lt: Number.NaN } }],
    ['NaN in `in`', { x: { in: [1, Number.NaN] } }],
    ['null inside an operator', { n: { eq: null } }],
    ['null inside `in`', { title: { in: ['a', null] } }],
    ['`in` without an array', { title: { in: 'a' } }],
    ['a json column', { meta: { eq: 'x' } }],
  ])('refuses %s with INVALID_WHERE', (_, where) => {
    expect(caught(() => v(where)).code).toBe('INVALID_WHERE')
  })

  it('accepts integer bounds up to 2^53 - 1, fractions included, and real columns beyond', () => {
    expect(() => v({ n: { gte: -Number.MAX_SAFE_INTEGER, lt: Number.MAX_SAFE_INTEGER } })).not.toThrow()
    expect(() => v({ n: { gt: 2.5 } })).not.toThrow()
    expect(() => v({ x: { lt: 1e300 } })).not.toThrow()
  })

  it('names the column of an empty operator object', () => {
    const error = caught(() => v({ n: {} }))
    expect(error.details).toEqual({ column: 'n' })
    expect(error.message).toMatch(/remove the column/)
  })

  it('refuses an unknown column with UNKNOWN_COLUMN', () => {
    expect(caught(() => v({ titel: 'a' })).code).toBe('UNKNOWN_COLUMN')
    expect(caught(() => v({ toString: 'a' })).code).toBe('UNKNOWN_COLUMN')
  })

  it.each([
    ['a number for text', { title: 1 }],
    ['a string for an integer', { n: '1' }],
    ['Infinity', { x: { gt: Number.POSITIVE_INFINITY } }],
    ['0/1 for a boolean', { done: 1 }],
    ['a string for a boolean', { done: 'true' }],
    ['a bad timestamp', { due: '2024-02-30T00:00:00Z' }],
    ['an array as a value', { title: ['a'] }],
    ['a wrong type inside `in`', { n: { in: [1, '2'] } }],
    ['an integer bound of 1e21 (exponent notation)', { n: { lt: 1e21 } }],
    ['an integer value of 1e300', { n: 1e300 }],
    ['an integer value just past 2^53 - 1', { n: -(Number.MAX_SAFE_INTEGER + 2) }],
    ['a huge integer inside `in`', { n: { in: [1, 2 ** 60] } }],
  ])('refuses %s with INVALID_VALUE', (_, where) => {
    expect(caught(() => v(where)).code).toBe('INVALID_VALUE')
  })

  it.each([
    ['a __proto__ column', '{"__proto__":{"eq":1}}'],
    ['a __proto__ operator', '{"n":{"__proto__":1}}'],
    ['a constructor column', '{"constructor":1}'],
  ])('refuses %s with FORBIDDEN_KEY', (_, json) => {
    expect(caught(() => v(JSON.parse(json))).code).toBe('FORBIDDEN_KEY')
  })

  it('enforces limits with TOO_LARGE', () => {
    const limits = { maxConditions: 2, maxInValues: 2, maxValueLength: 3 }
    expect(caught(() => validateWhere({ n: { gt: 1, lt: 5, gte: 2 } }, table, limits)).code).toBe('TOO_LARGE')
    expect(caught(() => validateWhere({ n: { in: [1, 2, 3] } }, table, limits)).code).toBe('TOO_LARGE')
    expect(caught(() => validateWhere({ title: 'abcd' }, table, limits)).code).toBe('TOO_LARGE')
    expect(validateWhere({ n: { gt: 1, lt: 5 } }, table, limits)).toHaveLength(2)
  })
})

describe('matching: SQL semantics', () => {
  it('equality, null and ranges never match null (or a missing column)', () => {
    for (const where of [{ n: 1 }, { n: { gt: 0 } }, { n: { lte: 9 } }, { n: { in: [1] } }, { n: { gte: 0, lte: 9 } }]) {
      expect(matches({ n: null }, v(where)), JSON.stringify(where)).toBe(false)
      expect(matches({}, v(where)), JSON.stringify(where)).toBe(false)
    }
    expect(matches({ n: null }, v({ n: null }))).toBe(true)
    expect(matches({}, v({ n: null }))).toBe(true)
    expect(matches({ n: 0 }, v({ n: null }))).toBe(false)
  })

  it('ranges combine on one column, bounds inclusive or not', () => {
    const scope = v({ n: { gt: 1, lte: 3 } })
    expect([0, 1, 2, 3, 4].map((n) => matches({ n }, scope))).toEqual([false, false, true, true, false])
  })

  it('conditions on several columns are AND-ed', () => {
    const scope = v({ done: false, n: { gte: 2 } })
    expect(matches({ done: false, n: 2 }, scope)).toBe(true)
    expect(matches({ done: true, n: 2 }, scope)).toBe(false)
    expect(matches({ done: false, n: 1 }, scope)).toBe(false)
  })

  it('booleans compare as booleans, false < true, never as 0/1', () => {
    expect(matches({ done: true }, v({ done: { gt: false } }))).toBe(true)
    expect(matches({ done: false }, v({ done: { gt: false } }))).toBe(false)
    expect(matches({ done: false }, v({ done: { lt: true } }))).toBe(true)
    expect(matches({ done: 1 }, v({ done: true }))).toBe(false)
    expect(matches({ done: 0 }, v({ done: false }))).toBe(false)
  })

  it('integers and reals compare as numbers', () => {
    expect(matches({ x: 1 }, v({ x: { gte: 1.0 } }))).toBe(true)
    expect(matches({ n: 2 }, v({ n: { lt: 2.5 } }))).toBe(true)
  })

  it('values of another type never match', () => {
    expect(matches({ n: '1' }, v({ n: 1 }))).toBe(false)
    expect(compareValues('1', 1)).toBeUndefined()
    expect(compareValues(true, 1)).toBeUndefined()
    expect(compareValues(null, null)).toBeUndefined()
  })

  it('timestamps compare as instants (normalised ISO strings)', () => {
    const scope = v({ due: { gte: '2024-01-01T00:00:00+01:00' } }) // 2023-12-31T23:00Z
    expect(matches({ due: '2023-12-31T23:30:00.000Z' }, scope)).toBe(true)
    expect(matches({ due: '2023-12-31T22:59:59.999Z' }, scope)).toBe(false)
  })

  it('strings compare by code point, not by UTF-16 code unit', () => {
    // JavaScript: '\uFFFF' > '\u{1F600}' (0xFFFF > 0xD83D). Code points: U+FFFF < U+1F600.
    expect('\uFFFF' > '\u{1F600}').toBe(true)
    expect(compareCodePoints('\uFFFF', '\u{1F600}')).toBeLessThan(0)
    expect(compareCodePoints('\u{1F600}', '\uFFFF')).toBeGreaterThan(0)
    expect(compareCodePoints('\uE000', '\u{10000}')).toBeLessThan(0)
    expect(matches({ title: '\u{1F600}' }, v({ title: { gt: '\uFFFF' } }))).toBe(true)
    expect(matches({ title: '\uFFFF' }, v({ title: { lt: '\u{1F600}' } }))).toBe(true)
    expect(matches({ title: 'B' }, v({ title: { lt: 'a' } }))).toBe(true) // binary: uppercase first
  })

  it('compareCodePoints orders prefixes first and equal strings as 0', () => {
    expect(compareCodePoints('', 'a')).toBeLessThan(0)
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0)
    expect(compareCodePoints('\u{1F600}x', '\u{1F600}x')).toBe(0)
    expect(compareCodePoints('\u{1F600}', '\u{1F601}')).toBeLessThan(0)
  })

  it('compareCodePoints orders a lone surrogate by its own value (D800–DFFF, below E000)', () => {
    expect(compareCodePoints('\uD800', '\uE000')).toBeLessThan(0)
    expect(compareCodePoints('\uDC00', '\u{10000}')).toBeLessThan(0)
    expect(compareCodePoints('\uD800a', '\uD800\uDC00')).toBeLessThan(0) // lone D800 then 'a' < U+10000
    expect(compareCodePoints('\uD800a', '\uD800\uD801')).toBeLessThan(0) // lone D800 both, then 'a' < D801
  })

  it('matches reads own properties only', () => {
    const tbl: TableDescriptor = { name: 't', columns: [col('valueOf', 'text')] }
    expect(matches({}, validateWhere({ valueOf: null }, tbl))).toBe(true)
  })

  it('matchesCondition on each operator', () => {
    const c = (op: Condition['op'], value?: number): Condition =>
      op === 'null' ? { column: 'n', op } : op === 'in' ? { column: 'n', op, values: [value as number] } : { column: 'n', op, value: value as number }
    expect(matchesCondition(undefined, c('null'))).toBe(true)
    expect(matchesCondition(2, c('eq', 2))).toBe(true)
    expect(matchesCondition(2, c('in', 2))).toBe(true)
    expect(matchesCondition(2, c('gt', 2))).toBe(false)
    expect(matchesCondition(2, c('gte', 2))).toBe(true)
    expect(matchesCondition(2, c('lt', 2))).toBe(false)
    expect(matchesCondition(2, c('lte', 2))).toBe(true)
  })
})

describe('intersectScopes', () => {
  it('is the AND of both, canonical, with duplicates dropped', () => {
    const both = intersectScopes(v({ done: false, n: { gte: 1 } }), v({ n: { gte: 1 }, title: 't1' }))
    expect(both).toEqual(v({ done: false, n: { gte: 1 }, title: 't1' }))
    expect(intersectScopes([], v({ n: 1 }))).toEqual(v({ n: 1 }))
  })

  it('is order-independent', () => {
    const a = v({ done: false, n: { lt: 3 } })
    const b = v({ title: 'x', n: { gte: 1 } })
    expect(scopeKey('t', intersectScopes(a, b))).toBe(scopeKey('t', intersectScopes(b, a)))
  })

  it('keeps contradictions: AND never widens', () => {
    const both = intersectScopes(v({ n: 1 }), v({ n: 2 }))
    expect(both).toHaveLength(2)
    expect(matches({ n: 1 }, both)).toBe(false)
    expect(matches({ n: 2 }, both)).toBe(false)
  })
})

describe('scopesOverlap / isSatisfiable', () => {
  const overlap = (a: unknown, b: unknown) => scopesOverlap(v(a), v(b))

  it('overlaps when the scopes share a row', () => {
    expect(overlap({}, { done: true })).toBe(true)
    expect(overlap({ done: true }, { n: 5 })).toBe(true) // different columns: { done: true, n: 5 }
    expect(overlap({ n: { gte: 1, lte: 5 } }, { n: { gte: 5 } })).toBe(true)
    expect(overlap({ n: { in: [1, 2] } }, { n: { in: [2, 3] } })).toBe(true)
    expect(overlap({ n: null }, { done: false })).toBe(true)
    expect(overlap({ title: { gt: 'a' } }, { title: { lt: 'b' } })).toBe(true)
  })

  it('is disjoint for different equalities, empty `in` intersections, and null vs value', () => {
    expect(overlap({ n: 1 }, { n: 2 })).toBe(false)
    expect(overlap({ n: { in: [1, 2] } }, { n: { in: [3] } })).toBe(false)
    expect(overlap({ n: null }, { n: 1 })).toBe(false)
    expect(overlap({ n: null }, { n: { gt: 1 } })).toBe(false)
    expect(overlap({ title: { in: [] } }, {})).toBe(false)
  })

  it('is disjoint for ranges that leave no room', () => {
    expect(overlap({ n: { lt: 5 } }, { n: { gte: 5 } })).toBe(false)
    expect(overlap({ n: { lte: 5 } }, { n: { gt: 5 } })).toBe(false)
    expect(overlap({ n: { lt: 5 } }, { n: { gt: 5 } })).toBe(false)
    expect(overlap({ n: { gte: 5, lte: 5 } }, { n: { gte: 5 } })).toBe(true)
    expect(overlap({ n: 3 }, { n: { gt: 3 } })).toBe(false)
    expect(overlap({ n: { in: [1, 9] } }, { n: { gt: 2, lt: 8 } })).toBe(false)
  })

  it('reasons about booleans as a two-value domain', () => {
    expect(overlap({ done: { gt: false } }, { done: { lt: true } })).toBe(false)
    expect(overlap({ done: { gte: false } }, { done: { lt: true } })).toBe(true)
    expect(overlap({ done: { gt: true } }, {})).toBe(false)
  })

  it('orders string ranges by code point', () => {
    // '\uFFFF' < '\u{1F600}' by code point, so [\uFFFF, \u{1F600}] is not empty
    expect(overlap({ title: { gte: '\uFFFF' } }, { title: { lte: '\u{1F600}' } })).toBe(true)
    expect(overlap({ title: { gt: '\u{1F600}' } }, { title: { lt: '\uFFFF' } })).toBe(false)
  })

  it('may answer true for integer ranges with no integer between (only costs parallelism)', () => {
    expect(overlap({ n: { gt: 1 } }, { n: { lt: 2 } })).toBe(true)
  })

  it('answers exactly for the largest `in` lists the limits allow (1,000 values of 1 KB, long shared prefix)', () => {
    // Merged as sorted lists: the quadratic definition took seconds here (row S13).
    const prefix = 'x'.repeat(1_000)
    const values = (from: number) => Array.from({ length: 1_000 }, (_, i) => `${prefix}${String(from + i).padStart(24, '0')}`)
    expect(overlap({ title: { in: values(0) } }, { title: { in: values(1_000) } })).toBe(false)
    expect(overlap({ title: { in: values(0) } }, { title: { in: values(999) } })).toBe(true)
    expect(overlap({ title: { in: values(0) } }, { title: { in: values(0) }, n: 1 })).toBe(true)
    expect(overlap({ title: { in: values(0), gt: values(500)[499] } }, { title: { in: values(0), lt: values(500)[0] } })).toBe(false)
  })

  it('isSatisfiable on one column', () => {
    expect(isSatisfiable([])).toBe(true)
    expect(isSatisfiable(v({ n: null }))).toBe(true)
    expect(isSatisfiable(v({ n: { in: [] } }))).toBe(false)
    expect(isSatisfiable(v({ n: { gt: 3, lt: 3 } }))).toBe(false)
    expect(isSatisfiable(v({ n: { gte: 3, lte: 3 } }))).toBe(true)
    // Hand-built lists need not be sorted or free of repeats.
    expect(isSatisfiable([{ column: 'n', op: 'in', values: [3, 1, 3] }, { column: 'n', op: 'in', values: [2, 3] }])).toBe(true)
    expect(isSatisfiable([{ column: 'n', op: 'in', values: [3, 1, 3] }, { column: 'n', op: 'in', values: [2, '3'] }])).toBe(false)
  })
})
