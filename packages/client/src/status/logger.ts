/**
 * The client's logger (`logger` option): four levels, each optional. The default writes warnings and
 * errors to the console and drops debug and info; `false` silences the client. Messages never carry
 * row data (an error's code and message only, which never echo input).
 */
import type { LastwordError } from '@lastword/core'

/** The levels of {@link ClientLogger}. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** What the client logs to: any of the four levels (a missing one drops its messages). */
export type ClientLogger = Partial<Record<LogLevel, (message: string, details?: Record<string, unknown>) => void>>

/** A logger with every level present. */
export type Log = Record<LogLevel, (message: string, details?: Record<string, unknown>) => void>

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/**
 * The logger the client uses: the app's, the console's warn/error (`undefined`, the default), or none
 * (`false`). A throwing logger never breaks the client.
 */
export function createLog(option: ClientLogger | false | undefined, console: Pick<Console, 'warn' | 'error'> | undefined = globalThis.console): Log {
  const given: ClientLogger =
    option === false ? {} : (option ?? { warn: (m, d) => console?.warn(`[lastword] ${m}`, ...(d ? [d] : [])), error: (m, d) => console?.error(`[lastword] ${m}`, ...(d ? [d] : [])) })
  const log = {} as Log
  for (const level of LEVELS) {
    log[level] = (message, details) => {
      try {
        given[level]?.call(given, message, details)
      } catch {
        // A logger's failure is not the client's.
      }
    }
  }
  return log
}

/** Codes the app can act on (`error`); the rest (offline, retried, closed) are warnings. */
const WARNINGS = new Set(['TRANSIENT', 'CLOSED', 'RATE_LIMITED', 'OFFLINE'])

/** Logs an error the client emits as `error`: its code and message, at warn or error. */
export function logError(log: Log, error: LastwordError): void {
  const details = { code: error.code }
  if (WARNINGS.has(error.code)) log.warn(error.message, details)
  else log.error(error.message, details)
}
