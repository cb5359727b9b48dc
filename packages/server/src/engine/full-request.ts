/**
 * A full-reconciliation request checked before anything runs: its size against the limit, its cursor,
 * and its entries (each `[uid, version, deleted, acknowledged]`, in ascending uid order after the cursor).
 */
import { LastwordError, assertStamp, assertUid, type SyncRequest } from '@lastword/core'
import type { Limits } from '../types.js'
import type { FullRequest } from './pull.js'

/** Validates `full` (bounded by its size); throws `BAD_REQUEST` or `TOO_LARGE`. */
export function fullRequestOf(full: NonNullable<SyncRequest['full']>, limits: Pick<Limits, 'maxMetaEntries'>): FullRequest {
  const { cursor, entries, complete } = full
  if (!Array.isArray(entries)) throw new LastwordError('BAD_REQUEST', 'full.entries must be an array')
  if (entries.length > limits.maxMetaEntries) {
    throw new LastwordError('TOO_LARGE', `A full-reconciliation request may carry at most ${limits.maxMetaEntries} entries; send the rest in the next page`, {
      limit: limits.maxMetaEntries,
      got: entries.length,
    })
  }
  if (cursor !== null && (typeof cursor !== 'object' || !Number.isSafeInteger(cursor.startRev) || cursor.startRev < 0)) {
    throw new LastwordError('BAD_REQUEST', 'full.cursor must be null or { startRev, after } from the previous page')
  }
  const after = cursor?.after ?? null
  if (after !== null) assertUid(after)
  let previous = after
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 4 || typeof entry[2] !== 'boolean' || typeof entry[3] !== 'boolean') {
      throw new LastwordError('BAD_REQUEST', 'Each full entry is [uid, version, deleted, acknowledged]')
    }
    const uid = assertUid(entry[0])
    assertStamp(entry[1])
    if (previous !== null && uid <= previous) {
      throw new LastwordError('BAD_REQUEST', 'full.entries must be in ascending uid order, after cursor.after, without repeats')
    }
    previous = uid
  }
  if (complete !== true && entries.length === 0) {
    throw new LastwordError('BAD_REQUEST', 'full.complete is false but no entries were sent')
  }
  return { cursor: cursor === null ? null : { startRev: cursor.startRev, after }, entries, complete: complete === true }
}
