/**
 * The main entry's names are a decision: this list changes only on purpose. Test seams live in
 * @lastword/server/testing, and the error class, its guard, the codes and `Where` come from here so an
 * app need not depend on @lastword/core.
 */
import { ERROR_CODES as CORE_CODES, LastwordError as CoreError } from '@lastword/core'
import { describe, expect, it } from 'vitest'
import * as server from '../src/index.js'
import type { ErrorCode, WireError, Where } from '../src/index.js'
import * as testing from '../src/testing/index.js'

describe('public surface', () => {
  it('the main entry exports exactly these values', () => {
    expect(Object.keys(server).sort()).toEqual(
      ['COMMITTED_EVENT', 'DEFAULT_ATTACHMENTS_TABLE', 'DEFAULT_LIMITS', 'ERROR_CODES', 'LastwordError', 'createSyncServer', 'describeTables', 'dropCapture', 'isLastwordError', 'preparePostgresAdapter'].sort(),
    )
  })

  it("re-exports core's error class, guard and codes (the same objects)", () => {
    expect(server.LastwordError).toBe(CoreError)
    expect(server.ERROR_CODES).toBe(CORE_CODES)
    const error = new server.LastwordError('FORBIDDEN', 'no')
    expect(server.isLastwordError(error, 'FORBIDDEN')).toBe(true)
    const code: ErrorCode = error.code
    const wire: WireError = error.toWire()
    const where: Where = { done: false }
    expect([code, wire.code, where]).toEqual(['FORBIDDEN', 'FORBIDDEN', { done: false }])
  })

  it('test seams are in the testing entry, not the main one', () => {
    expect(Object.keys(testing).sort()).toEqual(['createChangeFeed', 'createEngine', 'createTransport', 'resolveLimits'])
    for (const name of Object.keys(testing)) expect(Object.keys(server)).not.toContain(name)
  })
})
