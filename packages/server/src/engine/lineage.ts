/**
 * The database's identity and the segments of its history (SPEC.md section 7, "Lineage"; rule R12),
 * and erasure on request.
 *
 * - `lastword_lineage (segment, db_id, from_rev, to_rev)`: the database's id (drawn at the first
 *   `migrate()`) on every row, and one row per segment of its history: the rev it started at and, once
 *   another opened, the rev it ended at. Exactly one row has `to_rev IS NULL`: the open segment, which
 *   every checkpoint and page names. `migrate()` and `markRestored()` open one ({@link openSegment}).
 *   A restart costs nothing: a point of an earlier segment stays part of the history up to where that
 *   segment ended. A restored backup does not know the segments opened after it was taken, and the
 *   segment it was in ends at its rev: a client's point past it is judged outside the history.
 * - `lastword_erasures (rev, tbl, uid)`: records erased on request ({@link eraseRecord}), with the rev
 *   of the erasure, so an incremental pull tells the clients that may hold them (`erased`). Compacted
 *   with the change log by `purge`.
 */
import { LastwordError, type Lineage, type LineageHistory } from '@lastword/core'
import { sql } from 'drizzle-orm'
import type { Dialect } from './dialect/types.js'
import { randomNodeId } from './ids.js'
import { readState } from './store.js'
import type { SyncedTable } from './tables.js'
import { all, run, type Tx } from './tx.js'

/** The open segment and the database id, with the rev the database stands at and its horizon. */
export interface LineageState extends Lineage {
  rev: number
  horizonRev: number
}

/** The open segment and the database id. */
export function* openLineage(): Tx<Lineage> {
  const rows = yield* all(sql`SELECT db_id, segment FROM lastword_lineage WHERE to_rev IS NULL`)
  const row = rows[0]
  if (row === undefined || rows.length !== 1) throw new LastwordError('INTERNAL', 'lastword_lineage has no open segment: run migrate() first')
  return { db: String(row['db_id']), segment: String(row['segment']) }
}

/** The version row and the open segment, read in one snapshot. */
export function* readLineageState(): Tx<LineageState> {
  const state = yield* readState()
  return { ...state, ...(yield* openLineage()) }
}

/**
 * The history as far as the given segments need it: the open segment and every named one the database
 * knows (a bounded lookup: the ids a request names).
 */
export function* readHistory(dialect: Dialect, state: LineageState, segments: readonly string[]): Tx<LineageHistory> {
  const known = new Map<string, { from: number; to: number | null }>()
  const ids = [...new Set([state.segment, ...segments])]
  const rows = yield* all(sql`SELECT segment, from_rev, to_rev FROM lastword_lineage WHERE ${dialect.inUids(sql`segment`, ids)}`)
  for (const row of rows) {
    const to = row['to_rev']
    known.set(String(row['segment']), { from: Number(row['from_rev']), to: to === null || to === undefined ? null : Number(to) })
  }
  return { db: state.db, rev: state.rev, segments: known }
}

/**
 * Ends the open segment at the current rev and opens a new one (the first: with a fresh database id).
 * Takes the version row first, so no write commits a rev between the two (trap 1).
 */
export function* openSegment(): Tx<Lineage & { from: number }> {
  yield* run(sql`UPDATE lastword_state SET rev = rev WHERE id = 1`)
  const { rev } = yield* readState()
  const open = yield* all(sql`SELECT db_id FROM lastword_lineage WHERE to_rev IS NULL`)
  const any = open[0] ?? (yield* all(sql`SELECT db_id FROM lastword_lineage LIMIT 1`))[0]
  const db = any === undefined ? randomNodeId() : String(any['db_id'])
  yield* run(sql`UPDATE lastword_lineage SET to_rev = ${rev} WHERE to_rev IS NULL`)
  const segment = randomNodeId()
  yield* run(sql`INSERT INTO lastword_lineage (segment, db_id, from_rev, to_rev) VALUES (${segment}, ${db}, ${rev}, NULL)`)
  return { db, segment, from: rev }
}

/**
 * Erases one record for good: its app row, its metadata (a tombstone's last image included) and its
 * change-log history; records the erasure at a rev of its own (taken last, trap 1) for the pulls of
 * the clients that may hold it. `false` when the database does not know the uid.
 */
export function* eraseRecord(dialect: Dialect, table: SyncedTable, uid: string): Tx<{ erased: boolean; rev: number }> {
  const known = yield* all(sql`SELECT uid FROM lastword_meta WHERE tbl = ${table.name} AND uid = ${uid}`)
  const { rev: current } = yield* readState()
  if (known.length === 0) return { erased: false, rev: current }
  // Not a deletion for the capture triggers: an erased record leaves no tombstone.
  if (table.capture) yield* dialect.captureOff(table.name, [uid])
  yield* run(sql`DELETE FROM ${table.table} WHERE ${table.uid} = ${uid}`)
  if (table.capture) yield* dialect.captureOn(table.name)
  yield* run(sql`DELETE FROM lastword_meta WHERE tbl = ${table.name} AND uid = ${uid}`)
  yield* run(sql`DELETE FROM lastword_changes WHERE tbl = ${table.name} AND uid = ${uid}`)
  const rows = yield* all(sql`UPDATE lastword_state SET rev = rev + 1 WHERE id = 1 RETURNING rev`)
  const rev = Number(rows[0]?.['rev'])
  yield* run(sql`INSERT INTO lastword_erasures (rev, tbl, uid) VALUES (${rev}, ${table.name}, ${uid})`)
  return { erased: true, rev }
}

/** The uids of `table` erased with rev in (`after`, `upTo`], in rev order. */
export function* readErasures(table: string, after: number, upTo: number): Tx<string[]> {
  const rows = yield* all(sql`SELECT uid FROM lastword_erasures WHERE tbl = ${table} AND rev > ${after} AND rev <= ${upTo} ORDER BY rev`)
  return rows.map((row) => String(row['uid']))
}
