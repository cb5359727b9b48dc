/**
 * lastword's own tables and the statements on them that every dialect shares (what differs — the DDL,
 * holding rows for a write, the commit of the version row — is the dialect's, `dialect/`).
 *
 * - `lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image, fields)`: one row per record and
 *   table; `image` is the JSON of the record's last row image, kept with tombstones so that scopes and
 *   authorization can still be applied to a deletion (trap 2, docs/guarantees.md); `fields` the JSON of
 *   each column's stamp on a table declared `merge: 'field'` (`NULL`: every column at `updated_at`, which
 *   is what a record written before the column existed, or under `merge: 'row'`, holds: core's
 *   `defaultFieldStamps`).
 * - `lastword_changes (rev, tbl, uid, before, at)`: one entry per change with the image before it
 *   (`null` when there was no live row) and the server time of the commit, which is how `purge` turns
 *   "older than" into a horizon rev.
 * - `lastword_state (id = 1, rev, horizon_rev)`: the version row every write transaction takes last
 *   (trap 1, docs/guarantees.md), and the retention horizon.
 */
import { LastwordError, assertStamp, formatLineagePoint, isStamp, type FieldStamps, type Lineage, type Stamp } from '@lastword/core'
import { sql } from 'drizzle-orm'
import type { CommittedChange } from '../types.js'
import type { Dialect } from './dialect/types.js'
import { all, run, type Tx } from './tx.js'

/** A record's stored metadata and last image. */
export interface ServerRecord {
  uid: string
  created_at: Stamp
  updated_at: Stamp
  deleted_at: Stamp | null
  rev: number
  /** The last row image (for a tombstone: the row before its deletion; `null` if it never had one). */
  image: Record<string, unknown> | null
  /** Each column's stamp (tables declared `merge: 'field'`); `null`: every column at `updated_at`. */
  fields: FieldStamps | null
}

/**
 * A committed state as commit listeners and the change feed get it: `after` the live row, `lastImage` a
 * tombstone's last row, `knownAt` the point of the history at `rev` (left out where none is known).
 */
export function committedChange(table: string, state: Omit<ServerRecord, 'rev'>, rev: number, before: Record<string, unknown> | null, lineage: Lineage | undefined): CommittedChange {
  const deleted = state.deleted_at !== null
  return {
    table,
    uid: state.uid,
    rev,
    meta: { uid: state.uid, created_at: state.created_at, updated_at: state.updated_at, deleted_at: state.deleted_at },
    before,
    after: deleted ? null : state.image,
    lastImage: deleted ? state.image : null,
    ...(state.fields === null ? {} : { fields: state.fields }),
    ...(lineage === undefined ? {} : { knownAt: formatLineagePoint({ ...lineage, rev }) }),
  }
}

/** The columns of `lastword_meta m` that {@link decodeMeta} reads. */
export const META_COLUMNS = sql.raw('m.uid AS uid, m.created_at AS created_at, m.updated_at AS updated_at, m.deleted_at AS deleted_at, m.rev AS rev, m.image AS image, m.fields AS fields')

/** Parses a stored row of `lastword_meta` (aliased as in {@link META_COLUMNS}). */
export function decodeMeta(raw: Record<string, unknown>): ServerRecord {
  const deleted = raw['deleted_at']
  const image = raw['image']
  return {
    uid: String(raw['uid']),
    created_at: assertStamp(raw['created_at']),
    updated_at: assertStamp(raw['updated_at']),
    deleted_at: deleted === null || deleted === undefined ? null : assertStamp(deleted),
    rev: Number(raw['rev']),
    image: typeof image === 'string' ? (JSON.parse(image) as Record<string, unknown>) : null,
    fields: decodeFields(raw['fields']),
  }
}

/** The stored column stamps (written by the engine only; a malformed value is refused as the database's fault). */
function decodeFields(raw: unknown): FieldStamps | null {
  if (typeof raw !== 'string') return null
  const parsed = JSON.parse(raw) as unknown
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every(isStamp)) {
    throw new LastwordError('INTERNAL', 'lastword_meta.fields holds something other than column stamps')
  }
  return parsed as FieldStamps
}

/** The rev the database stands at and the retention horizon. */
export function* readState(): Tx<{ rev: number; horizonRev: number }> {
  const rows = yield* all(sql`SELECT rev, horizon_rev FROM lastword_state WHERE id = 1`)
  const row = rows[0]
  if (row === undefined) throw new LastwordError('INTERNAL', 'lastword_state is empty: run migrate() first')
  return { rev: Number(row['rev']), horizonRev: Number(row['horizon_rev']) }
}

/** Reads the stored metadata of some uids of a table, in one statement. */
export function* readMeta(dialect: Dialect, table: string, uids: readonly string[]): Tx<Map<string, ServerRecord>> {
  const out = new Map<string, ServerRecord>()
  if (uids.length === 0) return out
  const rows = yield* all(
    // By primary key: `+m.rev` keeps the `rev > 0` condition off every index (a plain `m.rev > 0` makes
    // SQLite walk the `(tbl, rev)` index over every record of the table, so each push grew with it).
    sql`SELECT ${META_COLUMNS} FROM lastword_meta m WHERE m.tbl = ${table} AND +m.rev > 0 AND ${dialect.inUids(sql`m.uid`, uids)}`,
  )
  for (const row of rows) out.set(String(row['uid']), decodeMeta(row))
  return out
}

/** Compacts tombstones and the change log up to the rev of the last change committed before `cutoff`. */
export function* purgeUpTo(cutoff: number): Tx<{ horizonRev: number; tombstones: number; changes: number }> {
  const state = yield* readState()
  const rows = yield* all(sql`SELECT MAX(rev) AS h FROM lastword_changes WHERE at < ${cutoff}`)
  const found = rows[0]?.['h']
  const horizonRev = Math.max(state.horizonRev, found === null || found === undefined ? 0 : Number(found))
  if (horizonRev === state.horizonRev) return { horizonRev, tombstones: 0, changes: 0 }
  const tombstones = yield* run(sql`DELETE FROM lastword_meta WHERE deleted_at IS NOT NULL AND rev > 0 AND rev <= ${horizonRev}`)
  const changes = yield* run(sql`DELETE FROM lastword_changes WHERE rev <= ${horizonRev}`)
  // Clients behind the horizon reconcile in full, where an erased uid answers as purged (R12).
  yield* run(sql`DELETE FROM lastword_erasures WHERE rev <= ${horizonRev}`)
  yield* run(sql`UPDATE lastword_state SET horizon_rev = ${horizonRev} WHERE id = 1`)
  return { horizonRev, tombstones, changes }
}

/** One entry of the change log with the record's current metadata (see {@link readChangeLog}). */
export interface LoggedChange {
  /** The rev of the logged change. */
  rev: number
  tbl: string
  /** The live row before that change (`null` if there was none). */
  before: Record<string, unknown> | null
  /** The record as it stands now (its rev may be later than the logged one). */
  current: ServerRecord
}

/**
 * The change log's entries with rev in (`after`, `upTo`], in rev order, at most `limit`, each with the
 * record's current metadata and last image — enough to rebuild what realtime publishes after a commit,
 * for a node that missed the publication. Entries whose record was purged since are left out.
 */
export function* readChangeLog(after: number, upTo: number, limit: number): Tx<LoggedChange[]> {
  const rows = yield* all(sql`SELECT c.rev AS lw_crev, c.tbl AS lw_tbl, c.before AS lw_before, ${META_COLUMNS}
    FROM lastword_changes c JOIN lastword_meta m ON m.tbl = c.tbl AND m.uid = c.uid
    WHERE c.rev > ${after} AND c.rev <= ${upTo} AND m.rev > 0
    ORDER BY c.rev LIMIT ${limit}`)
  return rows.map((row) => {
    const before = row['lw_before']
    return {
      rev: Number(row['lw_crev']),
      tbl: String(row['lw_tbl']),
      before: typeof before === 'string' ? (JSON.parse(before) as Record<string, unknown>) : null,
      current: decodeMeta(row),
    }
  })
}
