/**
 * Asking the app's `authorize` and reading its answer, the same way for a read and for a write.
 *
 * An answer is `true`, `false` or a filter. A throw is not an answer: the request fails and nothing is
 * written — a thrown `LastwordError` keeps its code (the app chose it), anything else is `INTERNAL`,
 * logged with its cause and answered with a message that never echoes the request.
 */
import { LastwordError, matches, validateWhere, type Scope } from '@lastword/core'
import type { Authorize, AuthorizeRequest, Logger, Row } from '../types.js'
import type { SyncedTable } from './tables.js'

/** Filters `authorize` returns are the app's own, so they get generous limits. */
const AUTH_FILTER_LIMITS = { maxConditions: 1_000, maxInValues: 100_000, maxValueLength: 100_000 }

/** The failure of a request whose `authorize` threw: it ends the request, never one record alone. */
export class AuthorizeFailure extends LastwordError {}

/** Calls `authorize`; a throw becomes an {@link AuthorizeFailure} (see the module comment). */
export async function callAuthorize(authorize: Authorize, request: AuthorizeRequest, logger: Logger): Promise<unknown> {
  try {
    return await authorize(request)
  } catch (error) {
    if (error instanceof LastwordError) throw new AuthorizeFailure(error.code, error.message, error.details, { cause: error })
    logger.error({ err: error, table: request.table, op: request.op }, 'lastword: authorize threw')
    throw new AuthorizeFailure('INTERNAL', 'Authorization failed on the server', undefined, { cause: error })
  }
}

/** A read's answer as the scope it allows: `null` = everything; FORBIDDEN when refused. */
export function readScopeFrom(result: unknown, table: SyncedTable, logger: Logger): Scope | null {
  if (result === true) return null
  if (typeof result !== 'object' || result === null) {
    throw new LastwordError('FORBIDDEN', `Not allowed to read "${table.name}"`, { table: table.name })
  }
  try {
    return validateWhere(result, table.descriptor, AUTH_FILTER_LIMITS)
  } catch (error) {
    logger.error({ err: error, table: table.name }, 'lastword: authorize returned an invalid filter')
    throw new LastwordError('INTERNAL', 'Authorization failed on the server')
  }
}

/** Whether a write's answer allows it; a filter must hold the row before and after (nothing moves out of it). */
export function isWriteAllowed(result: unknown, table: SyncedTable, before: Row | null, after: Row | null, logger: Logger): boolean {
  if (result === true) return true
  if (typeof result !== 'object' || result === null) return false
  let scope: Scope
  try {
    scope = validateWhere(result, table.descriptor, AUTH_FILTER_LIMITS)
  } catch (error) {
    logger.error({ err: error, table: table.name }, 'lastword: authorize returned an invalid filter')
    return false
  }
  return (before === null || matches(before, scope)) && (after === null || matches(after, scope))
}
