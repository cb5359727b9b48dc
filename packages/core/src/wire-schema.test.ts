/**
 * The validator seam keeps the wire's rules whatever the library does by default: plain objects only
 * where a record is expected (a library's record may take an array), finite numbers and safe integers,
 * strict tuples, unknown keys refused — `toString` included — and counted without naming them, and a
 * fresh default per parse.
 */
import { describe, expect, it } from 'vitest'
import { LastwordError } from './errors.js'
import { handshakeSchema, helloSchema, realtimeEventSchema, syncPageSchema, syncRequestSchema, wireRecordSchema } from './wire.js'

const STAMP = '018bcfe56800-0005-0123456789abcdef'
const record = { uid: 'abc', created_at: STAMP, updated_at: STAMP, deleted_at: null, row: { title: 'milk' } }
const request = { table: 'todos', where: { done: false }, checkpoint: null, push: [record] }
const page = { mode: 'incremental', receivedAt: 1, answeredAt: 2 }
const event = { subscription: 's', table: 't', serverTime: 0, firstRev: 1, rev: 1, columns: [], rows: [], tombstones: [], evict: [] }

function refusal(fn: () => unknown): LastwordError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LastwordError)
    return error as LastwordError
  }
  throw new Error('expected a LastwordError, nothing was thrown')
}

describe('records (filters, rows, error details) are plain objects', () => {
  it.each([
    ['an array', []],
    ['an array with items', [1, 2]],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['null', null],
    ['a string', 'x'],
  ])('refuses %s as a filter', (_what, where) => {
    const error = refusal(() => syncRequestSchema.parse({ ...request, where }, 'sync request'))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.details).toEqual({ path: 'where' })
    expect(error.message).toBe('Invalid sync request at where: expected record')
  })

  it('accepts a prototype-less object and returns a copy', () => {
    const where = Object.assign(Object.create(null) as Record<string, unknown>, { done: false })
    const parsed = syncRequestSchema.parse({ ...request, where })
    expect(parsed.where).toEqual({ done: false })
    expect(parsed.where).not.toBe(where)
  })

  it('refuses an array as a row', () => {
    expect(wireRecordSchema.safeParse({ ...record, row: ['milk'] }).success).toBe(false)
  })
})

describe('numbers', () => {
  it.each([Infinity, -Infinity, NaN])('refuses %s where a number is expected', (n) => {
    const error = refusal(() => syncPageSchema.parse({ ...page, receivedAt: n }, 'sync page'))
    expect(error.message).toBe('Invalid sync page at receivedAt: expected number')
  })

  it('refuses fractions and unsafe integers where an integer is expected', () => {
    expect(refusal(() => helloSchema.parse({ protocolVersion: 1.5, serverTime: 0, tables: [] }, 'hello')).message).toBe(
      'Invalid hello at protocolVersion: expected int',
    )
    expect(helloSchema.safeParse({ protocolVersion: 2 ** 53, serverTime: 0, tables: [] }).success).toBe(false)
    expect(realtimeEventSchema.safeParse({ ...event, rev: Number.MAX_SAFE_INTEGER }).success).toBe(true)
  })

  it('names a bound of a number by the schema', () => {
    expect(refusal(() => syncRequestSchema.parse({ ...request, pageSize: 0 }, 'sync request')).message).toBe('Invalid sync request at pageSize: too small (at least 1)')
    expect(refusal(() => syncRequestSchema.parse({ ...request, pageSize: 100_001 }, 'sync request')).message).toBe(
      'Invalid sync request at pageSize: too big (at most 100000)',
    )
  })
})

describe('tuples are strict', () => {
  it('refuses an extra item, naming the tuple and its length', () => {
    const error = refusal(() => syncPageSchema.parse({ ...page, tombstones: [['def', STAMP, STAMP, STAMP, 'extra']] }, 'sync page'))
    expect(error.details).toEqual({ path: 'tombstones.0' })
    expect(error.message).toBe('Invalid sync page at tombstones.0: too big (at most 4)')
  })

  it('refuses a missing item', () => {
    expect(syncPageSchema.safeParse({ ...page, evict: [['ghi']] }).success).toBe(false)
  })
})

describe('unknown keys', () => {
  it('are refused at the path of their object, counted and never named', () => {
    const key = `secret_${'x'.repeat(200)}`
    const error = refusal(() => syncRequestSchema.parse({ ...request, push: [{ ...record, [key]: 1, other: 2 }] }, 'sync request'))
    expect(error.details).toEqual({ path: 'push.0' })
    expect(error.message).toBe('Invalid sync request at push.0: 2 unexpected keys')
    expect(error.message).not.toContain('secret')
  })

  it.each(['toString', 'hasOwnProperty', 'valueOf'])('include %s, a key every object inherits', (key) => {
    expect(handshakeSchema.safeParse({ protocolVersion: 1, clientId: '0123456789abcdef', [key]: 1 }).success).toBe(false)
  })

  it('are reported after the known entries, as the first problem of the object', () => {
    const error = refusal(() => syncRequestSchema.parse({ ...request, table: '', extra: 1 }, 'sync request'))
    expect(error.message).toBe('Invalid sync request at table: too small (at least 1)')
  })
})

describe('defaults', () => {
  it('are fresh for every parse', () => {
    const first = syncPageSchema.parse(page)
    first.outcomes.push({ uid: 'a', status: 'applied' })
    first.progress.received = 5
    const second = syncPageSchema.parse(page)
    expect(second.outcomes).toEqual([])
    expect(second.progress).toEqual({ received: 0, total: null })
  })
})

describe('safeParse', () => {
  it('returns the refusal parse would throw', () => {
    const result = syncRequestSchema.safeParse({ ...request, checkpoint: 42 }, 'sync request')
    expect(result.success).toBe(false)
    if (!result.success) {
      expect(result.error.code).toBe('BAD_REQUEST')
      expect(result.error.message).toBe('Invalid sync request at checkpoint: expected string')
    }
  })
})
