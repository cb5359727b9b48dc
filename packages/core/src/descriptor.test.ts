import { describe, expect, it } from 'vitest'
import {
  arrayToRow,
  assertSafeJson,
  assertSafeKey,
  assertTableDescriptor,
  findColumn,
  getColumn,
  normalizeRow,
  normalizeTimestamp,
  normalizeValue,
  rowToArray,
  type ColumnDescriptor,
  type TableDescriptor,
} from './descriptor.js'
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

const col = (name: string, type: ColumnDescriptor['type'], nullable = true, writable = true): ColumnDescriptor => ({ name, type, nullable, writable })

const todos: TableDescriptor = {
  name: 'todos',
  columns: [
    col('title', 'text', false),
    col('done', 'boolean', false),
    col('priority', 'integer'),
    col('score', 'real'),
    col('due', 'timestamp'),
    col('meta', 'json'),
    col('tenant', 'text', true, false),
  ],
}

const row = { title: 'milk', done: false, priority: 2, score: 1.5, due: '2024-05-01T10:00:00Z', meta: { tags: ['a'] }, tenant: 't1' }

describe('assertTableDescriptor', () => {
  it('accepts a well-formed table', () => {
    expect(assertTableDescriptor(todos)).toBe(todos)
  })

  it.each([
    ['a bad table name', { name: 'to dos', columns: [] }],
    ['a bad column name', { name: 't', columns: [col('1x', 'text')] }],
    ['a pollution column name', { name: 't', columns: [col('constructor', 'text')] }],
    ['a reserved column', { name: 't', columns: [col('updated_at', 'text')] }],
    ['uid as a column', { name: 't', columns: [col('uid', 'text')] }],
    ['an unknown type', { name: 't', columns: [{ name: 'a', type: 'blob', nullable: true, writable: true }] }],
    ['a duplicate column', { name: 't', columns: [col('a', 'text'), col('a', 'integer')] }],
  ])('refuses %s', (_, table) => {
    expect(caught(() => assertTableDescriptor(table as TableDescriptor)).code).toBe('BAD_REQUEST')
  })
})

describe('findColumn / getColumn', () => {
  it('finds own columns only, never through the prototype chain', () => {
    expect(findColumn(todos, 'title')?.type).toBe('text')
    expect(findColumn(todos, 'toString')).toBeUndefined()
    expect(caught(() => getColumn(todos, 'toString')).code).toBe('UNKNOWN_COLUMN')
  })

  it('names the known columns in UNKNOWN_COLUMN', () => {
    const error = caught(() => getColumn(todos, 'titel'))
    expect(error.code).toBe('UNKNOWN_COLUMN')
    expect(error.message).toContain('known: title, done')
    expect(error.details).toEqual({ table: 'todos', column: 'titel' })
  })

  it('answers FORBIDDEN_KEY for pollution keys', () => {
    expect(caught(() => getColumn(todos, '__proto__')).code).toBe('FORBIDDEN_KEY')
  })
})

describe('assertSafeKey / assertSafeJson', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s', (key) => {
    expect(caught(() => assertSafeKey(key, 'test')).code).toBe('FORBIDDEN_KEY')
  })

  it('finds pollution keys at any depth, in arrays too', () => {
    expect(caught(() => assertSafeJson(JSON.parse('{"a":[{"b":{"__proto__":{"x":1}}}]}'), 'test')).code).toBe('FORBIDDEN_KEY')
    expect(() => assertSafeJson({ a: [1, 'x', null, { b: true }] }, 'test')).not.toThrow()
  })

  it('refuses nesting deeper than 64 levels with TOO_LARGE', () => {
    let deep: unknown = 1
    for (let i = 0; i < 70; i++) deep = [deep]
    expect(caught(() => assertSafeJson(deep, 'test')).code).toBe('TOO_LARGE')
  })
})

describe('normalizeTimestamp', () => {
  it.each([
    ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:00:00.5Z', '2024-05-01T10:00:00.500Z'],
    ['2024-05-01T12:00:00.123+02:00', '2024-05-01T10:00:00.123Z'],
    ['2024-05-01T05:30:00-04:30', '2024-05-01T10:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('normalises %s', (input, output) => {
    expect(normalizeTimestamp(input)).toBe(output)
  })

  it('normalises a Date', () => {
    expect(normalizeTimestamp(new Date(Date.UTC(2024, 4, 1, 10)))).toBe('2024-05-01T10:00:00.000Z')
  })

  it.each([
    '2024-05-01', // no time
    '2024-05-01 10:00:00Z', // space
    '2024-05-01T10:00:00', // no zone: ambiguous
    '2024-05-01T10:00Z', // no seconds
    '2024-13-01T00:00:00Z',
    '2024-02-30T00:00:00Z', // Date would roll it over to 1 March
    '2023-02-29T00:00:00Z', // not a leap year
    '2024-04-31T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-01-00T00:00:00Z',
    '2024-01-01T25:00:00Z',
    '2024-01-01T23:60:00Z',
    '1969-12-31T23:59:59Z', // before 1970
    'yesterday',
    '',
  ])('refuses %s', (input) => {
    expect(normalizeTimestamp(input)).toBeUndefined()
  })

  it('refuses invalid Dates and non-dates', () => {
    expect(normalizeTimestamp(new Date(Number.NaN))).toBeUndefined()
    expect(normalizeTimestamp(new Date(-1))).toBeUndefined()
    expect(normalizeTimestamp(1_700_000_000_000)).toBeUndefined()
    expect(normalizeTimestamp(null)).toBeUndefined()
  })
})

describe('normalizeValue', () => {
  it.each([
    [col('a', 'text'), 'x', 'x'],
    [col('a', 'integer'), -3, -3],
    [col('a', 'real'), 0.25, 0.25],
    [col('a', 'boolean'), true, true],
    [col('a', 'timestamp'), new Date(0), '1970-01-01T00:00:00.000Z'],
    [col('a', 'json'), { a: [1, { b: null }] }, { a: [1, { b: null }] }],
    [col('a', 'json'), 'just a string', 'just a string'],
    [col('a', 'text'), null, null],
    [col('a', 'text'), undefined, null],
  ])('%j accepts %j', (column, value, expected) => {
    expect(normalizeValue(column, value)).toEqual(expected)
  })

  it.each([
    [col('a', 'text'), 1],
    [col('a', 'text'), ['x']],
    [col('a', 'integer'), 1.5],
    [col('a', 'integer'), '1'],
    [col('a', 'integer'), 2 ** 53],
    [col('a', 'integer'), Number.NaN],
    [col('a', 'real'), Number.NaN],
    [col('a', 'real'), Number.POSITIVE_INFINITY],
    [col('a', 'real'), '1.5'],
    [col('a', 'boolean'), 0],
    [col('a', 'boolean'), 'true'],
    [col('a', 'timestamp'), 'tomorrow'],
    [col('a', 'timestamp'), 0],
    [col('a', 'json'), () => 1],
    [col('a', 'json'), 10n],
    [col('a', 'text', false), null],
    [col('a', 'boolean', false), undefined],
  ])('%j refuses %s with INVALID_VALUE', (column, value) => {
    const error = caught(() => normalizeValue(column, value))
    expect(error.code).toBe('INVALID_VALUE')
    expect(error.details).toMatchObject({ column: 'a' })
  })

  it('refuses a json value with a nested __proto__ key', () => {
    const value = JSON.parse('{"ok":{"__proto__":{"polluted":true}}}') as unknown
    expect(caught(() => normalizeValue(col('a', 'json'), value)).code).toBe('FORBIDDEN_KEY')
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('refuses a cyclic json value', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(['INVALID_VALUE', 'TOO_LARGE']).toContain(caught(() => normalizeValue(col('a', 'json'), cyclic)).code)
  })

  it('returns a json copy, not the caller\'s object', () => {
    const value = { a: [1] }
    const out = normalizeValue(col('a', 'json'), value)
    expect(out).toEqual(value)
    expect(out).not.toBe(value)
  })

  it('applies size limits with TOO_LARGE', () => {
    const limits = { maxTextLength: 3, maxJsonLength: 10 }
    expect(caught(() => normalizeValue(col('a', 'text'), 'abcd', limits)).code).toBe('TOO_LARGE')
    expect(normalizeValue(col('a', 'text'), 'abc', limits)).toBe('abc')
    expect(caught(() => normalizeValue(col('a', 'json'), { long: 'xxxxxx' }, limits)).code).toBe('TOO_LARGE')
  })
})

describe('normalizeRow', () => {
  it('returns a fresh object with exactly the table\'s columns, normalised', () => {
    const input = { ...row, uid: 'abc' }
    const out = normalizeRow(todos, input)
    expect(out).toEqual({ ...row, due: '2024-05-01T10:00:00.000Z' })
    expect(out).not.toBe(input)
    expect(Object.keys(out)).toEqual(todos.columns.map((c) => c.name))
    expect('uid' in out).toBe(false)
  })

  it('fills missing nullable columns with null', () => {
    expect(normalizeRow(todos, { title: 'a', done: true })).toEqual({
      title: 'a',
      done: true,
      priority: null,
      score: null,
      due: null,
      meta: null,
      tenant: null,
    })
  })

  it('refuses a missing required column (either way of asking)', () => {
    expect(caught(() => normalizeRow(todos, { title: 'a' })).code).toBe('INVALID_VALUE')
    const error = caught(() => normalizeRow(todos, { title: 'a' }, { missing: 'error' }))
    expect(error.code).toBe('INVALID_VALUE')
    expect(error.details).toEqual({ column: 'done' })
  })

  it('drops read-only columns on request', () => {
    expect(normalizeRow(todos, row, { dropReadOnly: true })).not.toHaveProperty('tenant')
  })

  it('refuses an unknown column with UNKNOWN_COLUMN', () => {
    expect(caught(() => normalizeRow(todos, { ...row, titel: 'x' })).code).toBe('UNKNOWN_COLUMN')
  })

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a %s key with FORBIDDEN_KEY', (key) => {
    // JSON.parse makes `__proto__` an own key, as a wire payload would.
    const input = JSON.parse(`{"title":"a","done":false,${JSON.stringify(key)}:{"polluted":true}}`) as unknown
    expect(caught(() => normalizeRow(todos, input)).code).toBe('FORBIDDEN_KEY')
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('refuses wrong types with INVALID_VALUE naming the column', () => {
    for (const [key, value] of [
      ['title', 5],
      ['done', 'no'],
      ['priority', 1.5],
      ['score', 'x'],
      ['due', '2024-02-30T00:00:00Z'],
    ] as const) {
      const error = caught(() => normalizeRow(todos, { ...row, [key]: value }))
      expect(error.code, key).toBe('INVALID_VALUE')
      expect(error.details?.['column']).toBe(key)
    }
  })

  it('refuses a json column holding a nested __proto__', () => {
    const input = JSON.parse('{"title":"a","done":false,"meta":{"deep":[{"__proto__":{"polluted":true}}]}}') as unknown
    expect(caught(() => normalizeRow(todos, input)).code).toBe('FORBIDDEN_KEY')
  })

  it.each([null, 'row', 5, [row]])('refuses %j as a row', (input) => {
    expect(caught(() => normalizeRow(todos, input)).code).toBe('INVALID_VALUE')
  })
})

describe('rowToArray / arrayToRow', () => {
  it('round-trips in column order, missing values as null', () => {
    const normal = normalizeRow(todos, row)
    const values = rowToArray(todos, normal)
    expect(values).toEqual(['milk', false, 2, 1.5, '2024-05-01T10:00:00.000Z', { tags: ['a'] }, 't1'])
    expect(arrayToRow(todos, values)).toEqual(normal)
    expect(arrayToRow(todos, ['x'])).toMatchObject({ title: 'x', done: null, tenant: null })
  })
})

describe('text that would not survive storage', () => {
  const column = { name: 'title', type: 'text' as const, nullable: false, writable: true }
  it.each([
    ['a lone high surrogate', 'a\uD800b'],
    ['a lone low surrogate', '\uDC00'],
    ['NUL', 'a\u0000b'],
  ])('refuses %s with INVALID_VALUE', (_what, value) => {
    expect(() => normalizeValue(column, value)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
  })
  it('accepts a well-formed astral character', () => {
    expect(normalizeValue(column, 'ok \u{1F600}')).toBe('ok \u{1F600}')
  })
})

describe('column widths (bits, maxLength)', () => {
  const int4: ColumnDescriptor = { name: 'n', type: 'integer', nullable: true, writable: true, bits: 32 }
  const int2: ColumnDescriptor = { ...int4, bits: 16 }
  const varchar: ColumnDescriptor = { name: 's', type: 'text', nullable: true, writable: true, maxLength: 3 }

  it('refuses an integer outside its width with INVALID_VALUE naming the column', () => {
    expect(normalizeValue(int4, 2 ** 31 - 1)).toBe(2 ** 31 - 1)
    expect(normalizeValue(int4, -(2 ** 31))).toBe(-(2 ** 31))
    for (const value of [2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER]) {
      expect(() => normalizeValue(int4, value)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE', details: { column: 'n', expected: 'integer' } }))
    }
    expect(normalizeValue(int2, 32_767)).toBe(32_767)
    expect(() => normalizeValue(int2, 32_768)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    // Without a width, any safe integer.
    expect(normalizeValue({ ...int4, bits: undefined }, 2 ** 31)).toBe(2 ** 31)
  })

  it('counts a declared text length in code points, as varchar(n) does', () => {
    expect(normalizeValue(varchar, 'abc')).toBe('abc')
    expect(normalizeValue(varchar, '😀😀😀')).toBe('😀😀😀') // six UTF-16 units, three characters
    expect(() => normalizeValue(varchar, 'abcd')).toThrow(expect.objectContaining({ code: 'INVALID_VALUE', details: { column: 's', expected: 'text' } }))
    expect(() => normalizeValue(varchar, '😀😀😀😀')).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
  })

  it('allows bits only on integers and maxLength only on text', () => {
    const table = (column: ColumnDescriptor): TableDescriptor => ({ name: 't', columns: [column] })
    expect(() => assertTableDescriptor(table({ name: 'x', type: 'text', nullable: true, writable: true, bits: 32 }))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    expect(() => assertTableDescriptor(table({ ...int4, bits: 64 as never }))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    expect(() => assertTableDescriptor(table({ ...int4, maxLength: 3 }))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    expect(() => assertTableDescriptor(table({ ...varchar, maxLength: 0 }))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    expect(assertTableDescriptor(table(int4))).toBeTruthy()
    expect(assertTableDescriptor(table(varchar))).toBeTruthy()
  })
})
