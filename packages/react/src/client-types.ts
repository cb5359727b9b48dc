/** What the bindings use of @lastword/client, in one place. */
import { LastwordError, isLastwordError } from '@lastword/client'

export { argsKey, readSyncStatus, STATUS_EVENTS } from '@lastword/client'

export { LastwordError }
export type { ClientStatus, ClockEvent, QueryOptions, StorageState, SyncClient, SyncReport, SyncStatus, SyncStatusEvent, Where } from '@lastword/client'

/** A thrown value as a `LastwordError` (anything else becomes `INTERNAL`, with the value as its cause). */
export function toLastwordError(error: unknown): LastwordError {
  if (isLastwordError(error)) return error
  return new LastwordError('INTERNAL', error instanceof Error ? error.message : 'Unexpected failure', undefined, { cause: error })
}
