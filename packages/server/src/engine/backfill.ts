/**
 * The backfill (ARCHITECTURE.md, "Capture"): rows of a captured table that lastword holds no live
 * metadata for — written before the first `migrate()`, before the table was synced or captured, or while
 * its triggers were disabled — get their metadata and a rev, as if the database had just written them
 * (stamps by core's `nextDatabaseStamp`, node `DATABASE_NODE`), so clients receive them like any write.
 *
 * In batches, each its own write transaction, in the order of the table's key: an interrupted backfill,
 * run again, writes exactly the rows still without metadata (the others it reads by key and leaves), and
 * a backfill with nothing left writes nothing.
 * The capture triggers are installed first, so a row written while the backfill runs is captured by
 * them; a batch holds the metadata of its uids as the engine's writes do (the dialect's protocol) and
 * leaves out a uid that got live metadata meanwhile.
 */
import { LastwordError, isUid, nextDatabaseStamp, versionOf, type Stamp } from '@lastword/core'
import { sql } from 'drizzle-orm'
import type { BackfillOptions, BackfillReport, Logger } from '../types.js'
import type { Driver, MetaWrite } from './dialect/types.js'
import { readMeta } from './store.js'
import { decodeRow, type SyncedTable } from './tables.js'
import { all, type Tx } from './tx.js'

/** Rows per batch unless told otherwise. */
export const DEFAULT_BACKFILL_BATCH = 1_000

/** A seam for tests: called before each batch (a throw interrupts the backfill there). */
export type BackfillHook = (info: { table: string; batch: number; rows: number }) => void

/** What one batch did: the rows it read (`last`: the greatest uid), and how many it gave metadata. */
interface BatchResult {
  read: number
  written: number
  last: string | null
  /** Rows left out because their uid is not one lastword can sync. */
  invalid: number
}

/** One batch: up to `size` rows after `after` without live metadata, written in one transaction. */
function* backfillBatch(driver: Driver, table: SyncedTable, size: number, after: string | null, nowMs: number): Tx<BatchResult> {
  const { dialect } = driver
  const columns = table.columns.map((c, i) => sql`, ${c.column} AS ${sql.identifier(`c${i}`)}`)
  // The next rows in the order of the table's own key (a range of its index, whatever the table's size);
  // those lastword already holds live are left out below, by key. A filter on the metadata here would
  // make the database look at every remaining row for each batch.
  const from = after === null ? sql`` : sql` WHERE ${table.uid} > ${after}`
  const rows = yield* all(sql`SELECT ${table.uid} AS lw_uid${sql.join(columns)} FROM ${table.table}${from}
    ORDER BY ${table.uid} LIMIT ${size}${dialect.backfillLock}`)
  const last = rows.length === 0 ? null : String(rows[rows.length - 1]?.['lw_uid'])
  const valid = rows.filter((row) => isUid(String(row['lw_uid'])))
  const uids = valid.map((row) => String(row['lw_uid']))
  if (uids.length === 0) return { read: rows.length, written: 0, last, invalid: rows.length }
  // Held until commit as the engine's writes hold theirs; a uid written meanwhile (now live) is left out.
  const held = yield* dialect.holdStored(table.name, new Map(uids.map((uid) => [uid, 0])))
  const stored = held.stored ?? (yield* readMeta(dialect, table.name, uids))
  const writes: MetaWrite[] = []
  const skipped: string[] = []
  for (const row of valid) {
    const uid = String(row['lw_uid'])
    const known = stored.get(uid)
    if (known !== undefined && known.deleted_at === null) {
      skipped.push(uid)
      continue
    }
    const stamp: Stamp = nextDatabaseStamp(known === undefined ? null : versionOf(known), nowMs)
    // A field-merge record brought back keeps its least creation (section 3a); a row table's takes the new stamp (R5).
    const created = known !== undefined && table.descriptor.merge === 'field' ? known.created_at : stamp
    writes.push({ uid, created_at: created, updated_at: stamp, deleted_at: null, image: JSON.stringify(decodeRow(table, row)), before: null, fields: null })
  }
  yield* dialect.releaseUnwritten(table.name, skipped.filter((uid) => !stored.has(uid)))
  if (writes.length > 0) yield* dialect.commitChanges(table.name, writes, nowMs)
  return { read: rows.length, written: writes.length, last, invalid: rows.length - valid.length }
}

/** Backfills every captured table of `tables`, batch by batch; progress goes to the logger. */
export async function backfill(
  deps: { driver: Driver; logger: Logger; now: () => number; hook?: BackfillHook | undefined },
  tables: Iterable<SyncedTable>,
  options: BackfillOptions = {},
): Promise<BackfillReport> {
  const size = options.batchSize ?? DEFAULT_BACKFILL_BATCH
  if (!Number.isSafeInteger(size) || size < 1) throw new LastwordError('BAD_REQUEST', 'backfill needs a batchSize that is a positive integer')
  const report: BackfillReport = { rows: {} }
  for (const table of tables) {
    if (!table.capture) continue
    let rows = 0
    let after: string | null = null
    for (let batch = 1; ; batch++) {
      deps.hook?.({ table: table.name, batch, rows })
      const start: string | null = after
      const result: BatchResult = await deps.driver.write(() => backfillBatch(deps.driver, table, size, start, Math.floor(deps.now())))
      rows += result.written
      if (result.invalid > 0) {
        deps.logger.warn({ table: table.name, rows: result.invalid }, 'lastword: backfill left out rows whose uid lastword cannot sync (1–64 of A–Z a–z 0–9 _ -)')
      }
      if (result.read === 0) break
      deps.logger.info({ table: table.name, batch, rows }, 'lastword: backfill progress')
      after = result.last
      if (result.read < size) break
    }
    if (rows > 0) deps.logger.info({ table: table.name, rows }, 'lastword: backfill done')
    report.rows[table.name] = rows
  }
  return report
}
