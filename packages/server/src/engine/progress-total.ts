/**
 * `progress.total` of a pull's pages: how many records the pull will send, counted once, on its first
 * page, in the snapshot that page is read in, by one `COUNT` bounded by {@link TOTAL_COUNT_CAP} (a
 * larger count is reported as unknown, `null`, rather than paid for).
 *
 * - **Full reconciliation**: the live records of the effective scope (a range of the primary key
 *   filtered by the scope, as the pages read it). Exact for a client that holds nothing; an upper
 *   bound of the rows sent to one that already holds some (it is only sent what differs), to which
 *   the tombstones, evictions and purges of its own uids add.
 * - **Incremental**: the records changed since the checkpoint (the `(tbl, rev)` index's range) that
 *   are live and in the effective scope now: an estimate — records that left the scope or were deleted
 *   since are sent too (as evictions and tombstones) and not counted, because their past images are
 *   judged in JavaScript, not SQL. Only records the client may read are counted: a count of every
 *   change would disclose other scopes' activity.
 *
 * The client keeps the first page's total for the run, never shows one below what it received, and
 * ends the run with `total === received`.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { PullScope } from './pull.js'
import { scopeSql } from './scope-sql.js'
import { all, type Tx } from './tx.js'

/** Counts above this are not finished: `total` is then `null`. */
export const TOTAL_COUNT_CAP = 100_000

function* boundedCount(inner: SQL): Tx<number | null> {
  const rows = yield* all(sql`SELECT COUNT(*) AS n FROM (${inner} LIMIT ${TOTAL_COUNT_CAP + 1}) lw_total`)
  const n = Number(rows[0]?.['n'] ?? 0)
  return n > TOTAL_COUNT_CAP ? null : n
}

/**
 * The live records of the scope: what a full reconciliation of an empty replica sends. It reads the
 * table's metadata once, joined to the app rows by their key (`+m.rev` keeps `rev > 0` from making the
 * `(tbl, rev)` index look selective, as in pull.ts).
 */
export function* fullTotal(p: PullScope): Tx<number | null> {
  const { table } = p
  return yield* boundedCount(sql`SELECT 1 FROM lastword_meta m JOIN ${table.table} ON ${p.dialect.appRowJoin(table)}
    WHERE m.tbl = ${table.name} AND +m.rev > 0 AND m.deleted_at IS NULL AND ${scopeSql(p.dialect, table, p.scope)}`)
}

/** The records changed in (`fromRev`, `toRev`] that are live and in the scope now. */
export function* incrementalTotal(p: PullScope, fromRev: number, toRev: number): Tx<number | null> {
  const { table } = p
  return yield* boundedCount(sql`SELECT 1 FROM lastword_meta m JOIN ${table.table} ON ${p.dialect.appRowJoin(table)}
    WHERE m.tbl = ${table.name} AND m.rev > ${fromRev} AND m.rev <= ${toRev} AND m.deleted_at IS NULL
      AND ${scopeSql(p.dialect, table, p.scope)}`)
}
