/**
 * Acknowledgements: every answer is a `Reply<T>`. Errors cross as plain data; an unexpected failure is
 * logged with its stack and reaches the client as a bare `INTERNAL`, never with its message (a driver's
 * message can name tables, paths or SQL).
 */
import { LastwordError, toLastwordError, type Reply } from '@lastword/core'
import type { Logger } from '../types.js'

/** The error a client may see for `error`, logging what it should not see. */
export function toPublicError(error: unknown, logger: Logger, context: Record<string, unknown>): LastwordError {
  const lw = toLastwordError(error)
  if (lw.code === 'INTERNAL') {
    logger.error({ ...context, err: error }, 'lastword: internal error while handling a request')
    return new LastwordError('INTERNAL', 'Internal server error; the server logged it')
  }
  if (lw.code === 'TRANSIENT') logger.warn({ ...context, err: error }, 'lastword: transient failure; the client will retry')
  else logger.debug({ ...context, code: lw.code, message: lw.message }, 'lastword: request refused')
  return lw
}

export function okReply<T>(data: T): Reply<T> {
  return { ok: true, data }
}

export function errorReply(error: unknown, logger: Logger, context: Record<string, unknown>): Reply<never> {
  return { ok: false, error: toPublicError(error, logger, context).toWire() }
}
