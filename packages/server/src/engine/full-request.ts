/**
 * The client's side of a full-reconciliation page, checked by the engine at a cost bounded by its size
 * (the transport's schema checked its shape; the engine may be called directly).
 */
import { LINEAGE_PATTERN, LINEAGE_POINT_PATTERN, LastwordError, assertStamp, assertUid, type SyncRequest } from '@lastword/core'
import type { FullRequest } from './pull.js'

/** Validates `full`: at most `maxEntries` entries, uids ascending after the cursor, each well-formed. */
export function fullRequestOf(full: NonNullable<SyncRequest['full']>, maxEntries: number): FullRequest {
  const { cursor, entries, complete } = full
  if (!Array.isArray(entries)) throw new LastwordError('BAD_REQUEST', 'full.entries must be an array')
  if (entries.length > maxEntries) {
    throw new LastwordError('TOO_LARGE', `A full-reconciliation request may carry at most ${maxEntries} entries; send the rest in the next page`, {
      limit: maxEntries,
      got: entries.length,
    })
  }
  if (cursor !== null && (typeof cursor !== 'object' || !Number.isSafeInteger(cursor.startRev) || cursor.startRev < 0)) {
    throw new LastwordError('BAD_REQUEST', 'full.cursor must be null or { startRev, after, lineage } from the previous page')
  }
  const lineage = cursor?.lineage
  if (lineage !== undefined && (typeof lineage !== 'string' || !LINEAGE_PATTERN.test(lineage))) {
    throw new LastwordError('BAD_REQUEST', 'full.cursor.lineage must be the one the previous page gave')
  }
  const after = cursor?.after ?? null
  if (after !== null) assertUid(after)
  let previous = after
  for (const entry of entries) {
    const digest: unknown = Array.isArray(entry) ? entry[5] : undefined
    if (
      !Array.isArray(entry) ||
      (entry.length !== 5 && entry.length !== 6) ||
      typeof entry[2] !== 'boolean' ||
      typeof entry[3] !== 'boolean' ||
      (digest !== undefined && (typeof digest !== 'string' || !/^[0-9a-f]{14}$/.test(digest)))
    ) {
      throw new LastwordError('BAD_REQUEST', 'Each full entry is [uid, version, deleted, acknowledged, knownAt, digest?]')
    }
    const knownAt = entry[4]
    if (knownAt !== null && (typeof knownAt !== 'string' || !LINEAGE_POINT_PATTERN.test(knownAt))) {
      throw new LastwordError('BAD_REQUEST', 'A full entry\'s knownAt is null or a point the server gave (<db>.<segment>.<rev>)')
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
  const out: FullRequest['cursor'] = cursor === null ? null : { startRev: cursor.startRev, after, ...(lineage === undefined ? {} : { lineage }) }
  return { cursor: out, entries, complete: complete === true }
}
