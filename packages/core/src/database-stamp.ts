/**
 * Stamps of writes the database makes itself (SPEC.md section 1a, "Writes captured in the database"):
 * a plain Drizzle or raw SQL statement, another process, a migration — anything that changes a synced
 * table without going through lastword's write path is captured by triggers and stamped from the
 * database's clock. Those stamps use the ordinary HLC format with a node id reserved for the database,
 * so a client, a log or the docs can tell a foreign write from a device's.
 *
 * The rule is here once; the trigger SQL of each dialect computes the same function
 * (`packages/server/src/engine/dialect/*-capture.ts`, held against {@link nextDatabaseStamp} by tests).
 */
import { LastwordError } from './errors.js'
import { MAX_COUNTER, MAX_MS, formatStamp, parseStamp, type Stamp } from './stamp.js'

/**
 * The node id of every stamp the database makes (captured foreign writes, backfilled rows). Client node
 * ids are 8 random bytes, so one of them equals this with probability 2^-64; all zeros reads as "no
 * device" in a log.
 */
export const DATABASE_NODE = '0000000000000000'

/** Whether a stamp was made by the database (a captured foreign write or a backfill), not by a device. */
export function isDatabaseStamp(stamp: Stamp): boolean {
  return parseStamp(stamp).node === DATABASE_NODE
}

/**
 * The stamp of a write the database makes at `nowMs` (its own clock) on a record whose version is
 * `previous` (`null`: a record lastword does not know): strictly greater than `previous`, whoever made
 * it. The physical part is the database clock when it is ahead of `previous`; otherwise `previous`'s
 * time with its counter bumped (an overflowing counter moves to the next millisecond).
 */
export function nextDatabaseStamp(previous: Stamp | null, nowMs: number): Stamp {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0 || nowMs > MAX_MS) {
    throw new LastwordError('INVALID_STAMP', `The database clock returned ${String(nowMs)}`, { now: String(nowMs) })
  }
  if (previous === null) return formatStamp({ ms: nowMs, counter: 0, node: DATABASE_NODE })
  const prev = parseStamp(previous)
  if (nowMs > prev.ms) return formatStamp({ ms: nowMs, counter: 0, node: DATABASE_NODE })
  if (prev.counter < MAX_COUNTER) return formatStamp({ ms: prev.ms, counter: prev.counter + 1, node: DATABASE_NODE })
  return formatStamp({ ms: prev.ms + 1, counter: 0, node: DATABASE_NODE })
}
