/**
 * Errors of local storage, normalised to `LastwordError` (one error class per package: core's).
 */
import { LastwordError, isLastwordError } from '@lastword/core'

/** Whether `error` is the browser's "storage full" error, however it is wrapped. */
export function isQuotaError(error: unknown): boolean {
  if (isLastwordError(error, 'QUOTA_EXCEEDED')) return true
  if (typeof error !== 'object' || error === null) return false
  const { name, code, cause } = error as { name?: unknown; code?: unknown; cause?: unknown }
  // Legacy browsers report code 22 (Firefox's NS_ERROR_DOM_QUOTA_REACHED has code 1014).
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22 || code === 1014) return true
  return cause !== undefined && cause !== error && isQuotaError(cause)
}

/** Maps a storage failure to a `LastwordError`: quota → `QUOTA_EXCEEDED`; others → `INTERNAL`, cause kept. */
export function toStoreError(error: unknown): LastwordError {
  if (isLastwordError(error)) return error
  if (isQuotaError(error)) {
    return new LastwordError(
      'QUOTA_EXCEEDED',
      'Local storage is full: nothing was written. Free space (or ask the user to), then retry',
      undefined,
      { cause: error },
    )
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : 'Local storage failed'
  return new LastwordError('INTERNAL', `Local storage failed (${message})`, undefined, { cause: error })
}

/** The error of a store used after `close()`. */
export function closedStoreError(): LastwordError {
  return new LastwordError('CLOSED', 'The local store is closed; create a new client to use it again')
}
