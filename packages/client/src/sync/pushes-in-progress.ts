/**
 * The pushes awaiting their outcome: a record version sent by one `lw:push` (pusher.ts) is not sent
 * again until its answer (or failure) releases it, so no version is pushed twice at once; `client.inspect()`
 * lists them as in flight. Keyed by table and uid; the value is the version sent.
 */
import { compareStamps, versionOf, type Stamp } from '@lastword/core'
import type { StoredRecord } from '../store/types.js'

/** The set of record versions being pushed. */
export interface PushesInProgress {
  /** Whether this version of the record is being pushed now. */
  has(record: StoredRecord): boolean
  /** Marks records as being pushed (at their current versions). */
  take(records: Iterable<StoredRecord>): void
  /** Releases records taken earlier, unless another push took a newer version of them since. */
  release(records: Iterable<StoredRecord>): void
  /** The records being pushed now, as `[table, uid]` (for `client.inspect()`). */
  list(): [table: string, uid: string][]
}

const keyOf = (record: StoredRecord): string => `${record.table}\u0000${record.uid}`

/** Creates an empty set of pushes in progress. */
export function createPushesInProgress(): PushesInProgress {
  const sent = new Map<string, Stamp>()
  const isSent = (record: StoredRecord): boolean => {
    const version = sent.get(keyOf(record))
    return version !== undefined && compareStamps(version, versionOf(record)) === 0
  }
  return {
    has: isSent,
    take(records) {
      for (const r of records) sent.set(keyOf(r), versionOf(r))
    },
    release(records) {
      for (const r of records) if (isSent(r)) sent.delete(keyOf(r))
    },
    list: () => [...sent.keys()].map((key) => key.split('\u0000') as [string, string]),
  }
}
