import { describe, expect, it } from 'vitest'
import { assertWritableColumns, normalizeClientWrite, type TableDescriptor } from './descriptor.js'
import { LastwordError } from './errors.js'

const todos: TableDescriptor = {
  name: 'todos',
  columns: [
    { name: 'title', type: 'text', nullable: false, writable: true },
    { name: 'done', type: 'boolean', nullable: true, writable: true },
    { name: 'tenant', type: 'text', nullable: true, writable: false },
  ],
}

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return (error as LastwordError).code
  }
  throw new Error('expected a LastwordError')
}

describe('server-owned columns: one rule for client and server (V3)', () => {
  it('refuses a server-owned column with READ_ONLY_COLUMN, and names the column, not its value', () => {
    let error: LastwordError | undefined
    try {
      assertWritableColumns(todos, { title: 'a', tenant: 'secret-value' })
    } catch (e) {
      error = e as LastwordError
    }
    expect(error?.code).toBe('READ_ONLY_COLUMN')
    expect(error?.details).toEqual({ table: 'todos', column: 'tenant' })
    expect(JSON.stringify(error?.message)).not.toContain('secret-value')
  })

  it('accepts writable columns and the uid', () => {
    expect(() => assertWritableColumns(todos, { uid: 'x', title: 'a', done: true })).not.toThrow()
  })

  it('refuses unknown and polluting keys before anything else', () => {
    expect(codeOf(() => assertWritableColumns(todos, { nope: 1 }))).toBe('UNKNOWN_COLUMN')
    expect(codeOf(() => assertWritableColumns(todos, JSON.parse('{"__proto__": 1}') as Record<string, unknown>))).toBe('FORBIDDEN_KEY')
  })
})

describe('normalizeClientWrite', () => {
  it('fills a create: server-owned columns null, required writable ones checked', () => {
    expect(normalizeClientWrite(todos, { title: 'a' }, null)).toEqual({ title: 'a', done: null, tenant: null })
    expect(codeOf(() => normalizeClientWrite(todos, { done: true }, null))).toBe('INVALID_VALUE')
  })

  it('merges an update into its base, keeping the server-owned values', () => {
    const base = { title: 'a', done: false, tenant: 't1' }
    expect(normalizeClientWrite(todos, { done: true }, base)).toEqual({ title: 'a', done: true, tenant: 't1' })
  })

  it('checks only the keys present with keysOnly', () => {
    expect(normalizeClientWrite(todos, { done: true }, null, true)).toEqual({ done: true })
    expect(codeOf(() => normalizeClientWrite(todos, { done: 'yes' }, null, true))).toBe('INVALID_VALUE')
    expect(codeOf(() => normalizeClientWrite(todos, { tenant: 't2' }, null, true))).toBe('READ_ONLY_COLUMN')
  })

  it('refuses a non-object', () => {
    expect(codeOf(() => normalizeClientWrite(todos, [1], null))).toBe('INVALID_VALUE')
  })
})
