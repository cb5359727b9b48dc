import { describe, expect, it } from 'vitest'
import { fromWireError, isErrorCode, isLastwordError, LastwordError, toLastwordError, type ErrorCode } from './errors.js'

const CODES: ErrorCode[] = [
  'BAD_REQUEST',
  'PROTOCOL_MISMATCH',
  'UNKNOWN_TABLE',
  'UNKNOWN_COLUMN',
  'INVALID_WHERE',
  'INVALID_VALUE',
  'INVALID_UID',
  'INVALID_STAMP',
  'CLOCK_AHEAD',
  'FORBIDDEN_KEY',
  'READ_ONLY_COLUMN',
  'TOO_LARGE',
  'RATE_LIMITED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'CHECKPOINT_INVALID',
  'NOT_FOUND',
  'TRANSIENT',
  'QUOTA_EXCEEDED',
  'CLOSED',
  'INTERNAL',
]

describe('LastwordError', () => {
  it('carries code, message, details and cause', () => {
    const cause = new Error('disk')
    const error = new LastwordError('TRANSIENT', 'retry later', { attempt: 3 }, { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('LastwordError')
    expect(error.code).toBe('TRANSIENT')
    expect(error.message).toBe('retry later')
    expect(error.details).toEqual({ attempt: 3 })
    expect(error.cause).toBe(cause)
  })

  it('toWire is plain data, without details when there are none, never the cause or stack', () => {
    expect(new LastwordError('NOT_FOUND', 'no such todo').toWire()).toEqual({ code: 'NOT_FOUND', message: 'no such todo' })
    const wire = new LastwordError('CLOCK_AHEAD', 'ahead', { now: 5 }, { cause: new Error('x') }).toWire()
    expect(wire).toEqual({ code: 'CLOCK_AHEAD', message: 'ahead', details: { now: 5 } })
    expect(Object.getPrototypeOf(wire)).toBe(Object.prototype)
    expect(JSON.parse(JSON.stringify(wire))).toEqual(wire)
  })
})

describe('isErrorCode / isLastwordError', () => {
  it.each(CODES)('%s is a code', (code) => {
    expect(isErrorCode(code)).toBe(true)
  })

  it.each(['', 'bad_request', 'NOPE', 'toString', '__proto__', 1, null, undefined])('%j is not a code', (code) => {
    expect(isErrorCode(code)).toBe(false)
  })

  it('checks the class and optionally the code', () => {
    const error = new LastwordError('FORBIDDEN', 'no')
    expect(isLastwordError(error)).toBe(true)
    expect(isLastwordError(error, 'FORBIDDEN')).toBe(true)
    expect(isLastwordError(error, 'INTERNAL')).toBe(false)
    expect(isLastwordError(new Error('no'))).toBe(false)
    expect(isLastwordError({ code: 'FORBIDDEN', message: 'no' })).toBe(false)
  })
})

describe('toWire / fromWireError round trip', () => {
  it.each(CODES)('%s survives the wire (JSON) with message and details', (code) => {
    const error = new LastwordError(code, `failed: ${code}`, { column: 'title', nested: { n: 1 } })
    const back = fromWireError(JSON.parse(JSON.stringify(error.toWire())))
    expect(back).toBeInstanceOf(LastwordError)
    expect(back.toWire()).toEqual(error.toWire())
  })

  it('survives without details', () => {
    const back = fromWireError(new LastwordError('CLOSED', 'closed').toWire())
    expect(back.details).toBeUndefined()
    expect(back.toWire()).toEqual({ code: 'CLOSED', message: 'closed' })
  })

  it('falls back to the code as message when the message is missing', () => {
    expect(fromWireError({ code: 'FORBIDDEN' }).message).toBe('FORBIDDEN')
  })

  it('drops details that are not an object', () => {
    expect(fromWireError({ code: 'FORBIDDEN', message: 'm', details: 'x' }).details).toBeUndefined()
    expect(fromWireError({ code: 'FORBIDDEN', message: 'm', details: [1, 2] }).details).toBeUndefined()
  })
})

describe('fromWireError on junk → INTERNAL, never a throw', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'boom'],
    ['a number', 42],
    ['an array', ['BAD_REQUEST']],
    ['an unknown code', { code: 'NOPE', message: 'x' }],
    ['a lowercase code', { code: 'bad_request', message: 'x' }],
    ['a code that is not a string', { code: 1, message: 'x' }],
    ['a prototype-chain code', { code: 'toString' }],
    ['an object whose toString is not a function', JSON.parse('{"toString":1}') as unknown],
    ['an object without a prototype', Object.create(null) as unknown],
  ])('%s', (_, data) => {
    const error = fromWireError(data)
    expect(error).toBeInstanceOf(LastwordError)
    expect(error.code).toBe('INTERNAL')
    expect(typeof error.details?.['received']).toBe('string')
  })

  it('does not keep a huge payload in details', () => {
    expect(String(fromWireError('x'.repeat(100_000)).details?.['received']).length).toBeLessThanOrEqual(200)
  })
})

describe('toLastwordError', () => {
  it('keeps a LastwordError as is', () => {
    const error = new LastwordError('FORBIDDEN', 'no')
    expect(toLastwordError(error)).toBe(error)
  })

  it('wraps an Error as INTERNAL, keeping the message and the cause', () => {
    const cause = new TypeError('x is undefined')
    const error = toLastwordError(cause)
    expect(error.code).toBe('INTERNAL')
    expect(error.message).toBe('x is undefined')
    expect(error.cause).toBe(cause)
  })

  it('wraps anything thrown, even values String() cannot convert', () => {
    expect(toLastwordError('plain').message).toBe('plain')
    expect(toLastwordError(undefined).code).toBe('INTERNAL')
    expect(toLastwordError(Object.create(null)).code).toBe('INTERNAL')
    expect(toLastwordError({ toString: 1 }).code).toBe('INTERNAL')
  })
})
