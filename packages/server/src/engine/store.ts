/**
 * lastword's own tables and the statements on them, per dialect.
 *
 * - `lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image)`: one row per record and
 *   table; `image` is the JSON of the record's last row image, kept with tombstones so that scopes and
 *   authorization can still be applied to a deletion (design.md trap 2).
 * - `lastword_changes (rev, tbl, uid, before, at)`: one entry per change with the image before it
 *   (`null` when there was no live row) and the server time of the commit, which is how `purge` turns
 *   "older than" into a horizon rev.
 * - `lastword_state (id = 1, rev, horizon_rev)`: the version row every write transaction takes last
 *   (design.md trap 1), and the retention horizon.
 */
import { assertStamp, type Stamp } from '@lastword/core'
import { sql, type SQL } from 'drizzle-orm'
import { all, run, type Dialect, type Tx } from './driver.js'

/** A record's stored metadata and last image. */
export interface StoredRecord {
  uid: string
  created_at: Stamp
  updated_at: Stamp
  deleted_at: Stamp | null
  rev: number
  /** The last row image (for a tombstone: the row before its deletion; `null` if it never had one). */
  image: Record<string, unknown> | null
}

/** The statements of `migrate()`; idempotent. */
export function migrationStatements(dialect: Dialect): string[] {
  if (dialect === 'sqlite') {
    return [
      `CREATE TABLE IF NOT EXISTS lastword_meta (tbl TEXT NOT NULL, uid TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, rev INTEGER NOT NULL, image TEXT, PRIMARY KEY (tbl, uid)) WITHOUT ROWID`,
      `CREATE INDEX IF NOT EXISTS lastword_meta_rev ON lastword_meta (tbl, rev)`,
      `CREATE TABLE IF NOT EXISTS lastword_changes (rev INTEGER PRIMARY KEY, tbl TEXT NOT NULL, uid TEXT NOT NULL, before TEXT, at INTEGER NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS lastword_changes_uid ON lastword_changes (tbl, uid, rev)`,
      `CREATE INDEX IF NOT EXISTS lastword_changes_at ON lastword_changes (at)`,
      `CREATE TABLE IF NOT EXISTS lastword_state (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL, horizon_rev INTEGER NOT NULL)`,
      `INSERT OR IGNORE INTO lastword_state (id, rev, horizon_rev) VALUES (1, 0, 0)`,
    ]
  }
  return [
    // uid in "C" collation: pages are cut in code-point order, the order clients list their uids in.
    `CREATE TABLE IF NOT EXISTS lastword_meta (tbl text NOT NULL, uid text COLLATE "C" NOT NULL, created_at text NOT NULL, updated_at text NOT NULL, deleted_at text, rev bigint NOT NULL, image text, PRIMARY KEY (tbl, uid))`,
    `CREATE INDEX IF NOT EXISTS lastword_meta_rev ON lastword_meta (tbl, rev)`,
    `CREATE TABLE IF NOT EXISTS lastword_changes (rev bigint PRIMARY KEY, tbl text NOT NULL, uid text COLLATE "C" NOT NULL, before text, at bigint NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS lastword_changes_uid ON lastword_changes (tbl, uid, rev)`,
    `CREATE INDEX IF NOT EXISTS lastword_changes_at ON lastword_changes (at)`,
    `CREATE TABLE IF NOT EXISTS lastword_state (id integer PRIMARY KEY CHECK (id = 1), rev bigint NOT NULL, horizon_rev bigint NOT NULL)`,
    `INSERT INTO lastword_state (id, rev, horizon_rev) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING`,
  ]
}

/**
 * `column` is one of `uids`, with the whole set as ONE parameter (never one statement or one
 * placeholder per uid). PostgreSQL: `= ANY(array)`, which plans as index lookups or a hashed filter
 * even on tables without statistics (an `IN (SELECT unnest(…))` can degrade to a nested loop there).
 */
export function inUids(dialect: Dialect, column: SQL, uids: readonly string[]): SQL {
  return dialect === 'sqlite'
    ? sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(uids)}))`
    : sql`${column} = ANY(CAST(${sql.param([...uids])} AS text[]))`
}

const META_COLUMNS = sql.raw('m.uid AS uid, m.created_at AS created_at, m.updated_at AS updated_at, m.deleted_at AS deleted_at, m.rev AS rev, m.image AS image')

/** Parses a stored row of `lastword_meta` (aliased as in {@link META_COLUMNS}). */
export function decodeMeta(raw: Record<string, unknown>): StoredRecord {
  const deleted = raw['deleted_at']
  const image = raw['image']
  return {
    uid: String(raw['uid']),
    created_at: assertStamp(raw['created_at']),
    updated_at: assertStamp(raw['updated_at']),
    deleted_at: deleted === null || deleted === undefined ? null : assertStamp(deleted),
    rev: Number(raw['rev']),
    image: typeof image === 'string' ? (JSON.parse(image) as Record<string, unknown>) : null,
  }
}

/** The rev the database stands at and the retention horizon. */
export function* readState(): Tx<{ rev: number; horizonRev: number }> {
  const rows = yield* all(sql`SELECT rev, horizon_rev FROM lastword_state WHERE id = 1`)
  const row = rows[0]
  if (row === undefined) throw new Error('lastword_state is empty: run migrate() first')
  return { rev: Number(row['rev']), horizonRev: Number(row['horizon_rev']) }
}

/** Reads the stored metadata of some uids of a table, in one statement. */
export function* readMeta(dialect: Dialect, table: string, uids: readonly string[]): Tx<Map<string, StoredRecord>> {
  const out = new Map<string, StoredRecord>()
  if (uids.length === 0) return out
  const rows = yield* all(
    // By primary key: `+m.rev` keeps the `rev > 0` condition off every index (a plain `m.rev > 0` makes
    // SQLite walk the `(tbl, rev)` index over every record of the table, so each push grew with it).
    sql`SELECT ${META_COLUMNS} FROM lastword_meta m WHERE m.tbl = ${table} AND +m.rev > 0 AND ${inUids(dialect, sql`m.uid`, uids)}`,
  )
  for (const row of rows) out.set(String(row['uid']), decodeMeta(row))
  return out
}

/**
 * Reads and locks the metadata of some uids for a write (inside a write transaction).
 *
 * PostgreSQL cannot lock a row that does not exist yet, so absent uids first get a placeholder
 * (`rev = 0`, never committed: every absent uid of a write is written or the transaction rolls back),
 * and then every row is locked in uid order, so two writers meet in the same order and a deadlock is
 * rare (and retried when it happens). SQLite's `BEGIN IMMEDIATE` already holds the only write lock.
 */
export function* lockMeta(dialect: Dialect, table: string, uids: readonly string[]): Tx<Map<string, StoredRecord>> {
  if (dialect === 'sqlite') return yield* readMeta(dialect, table, uids)
  const sorted = [...uids].sort()
  const list = sql.param(sorted)
  yield* run(sql`INSERT INTO lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image)
    SELECT CAST(${table} AS text), u, '', '', NULL, 0, NULL FROM unnest(CAST(${list} AS text[])) AS u ORDER BY u
    ON CONFLICT (tbl, uid) DO NOTHING`)
  const rows = yield* all(
    sql`SELECT ${META_COLUMNS} FROM lastword_meta m WHERE m.tbl = ${table} AND m.uid = ANY(CAST(${list} AS text[])) ORDER BY m.uid FOR UPDATE`,
  )
  const out = new Map<string, StoredRecord>()
  for (const row of rows) if (Number(row['rev']) > 0) out.set(String(row['uid']), decodeMeta(row))
  return out
}

/** Drops the placeholders of uids a write ended up not writing (PostgreSQL). */
export function* dropPlaceholders(dialect: Dialect, table: string, uids: readonly string[]): Tx<void> {
  if (dialect === 'sqlite' || uids.length === 0) return
  yield* run(sql`DELETE FROM lastword_meta WHERE tbl = ${table} AND rev = 0 AND uid = ANY(CAST(${sql.param([...uids])} AS text[]))`)
}

/** One record's new metadata, as written by {@link commitChanges}. */
export interface MetaWrite {
  uid: string
  created_at: Stamp
  updated_at: Stamp
  deleted_at: Stamp | null
  /** JSON of the last row image, or `null`. */
  image: string | null
  /** JSON of the live row before this transaction, or `null`. */
  before: string | null
}

/**
 * Writes the metadata and the change log of a transaction's records and takes the version row, as
 * the last statement(s) before commit: the records get revs `last - n + 1 … last` in the given order.
 * Returns `last`.
 */
export function* commitChanges(dialect: Dialect, table: string, writes: readonly MetaWrite[], at: number): Tx<number> {
  const n = writes.length
  const data = JSON.stringify(writes.map((w, i) => ({ o: i + 1, ...w })))
  if (dialect === 'postgres') {
    // One statement: the version row is taken in the same statement that writes what it numbers.
    const rows = yield* all(sql`WITH v AS (UPDATE lastword_state SET rev = rev + CAST(${n} AS bigint) WHERE id = 1 RETURNING rev),
      d AS (SELECT * FROM json_to_recordset(CAST(${data} AS json)) AS x(o bigint, uid text, created_at text, updated_at text, deleted_at text, image text, before text)),
      m AS (INSERT INTO lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image)
        SELECT CAST(${table} AS text), d.uid, d.created_at, d.updated_at, d.deleted_at, v.rev - CAST(${n} AS bigint) + d.o, d.image FROM d CROSS JOIN v
        ON CONFLICT (tbl, uid) DO UPDATE SET created_at = excluded.created_at, updated_at = excluded.updated_at,
          deleted_at = excluded.deleted_at, rev = excluded.rev, image = excluded.image),
      c AS (INSERT INTO lastword_changes (rev, tbl, uid, before, at)
        SELECT v.rev - CAST(${n} AS bigint) + d.o, CAST(${table} AS text), d.uid, d.before, CAST(${at} AS bigint) FROM d CROSS JOIN v)
      SELECT rev FROM v`)
    return Number(rows[0]?.['rev'])
  }
  // SQLite: BEGIN IMMEDIATE serialises writers, so the state row read here cannot move before commit.
  yield* run(sql`INSERT INTO lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image)
    SELECT ${table}, json_extract(value, '$.uid'), json_extract(value, '$.created_at'), json_extract(value, '$.updated_at'),
      json_extract(value, '$.deleted_at'), (SELECT rev FROM lastword_state WHERE id = 1) + json_extract(value, '$.o'), json_extract(value, '$.image')
    FROM json_each(${data}) WHERE true
    ON CONFLICT (tbl, uid) DO UPDATE SET created_at = excluded.created_at, updated_at = excluded.updated_at,
      deleted_at = excluded.deleted_at, rev = excluded.rev, image = excluded.image`)
  yield* run(sql`INSERT INTO lastword_changes (rev, tbl, uid, before, at)
    SELECT (SELECT rev FROM lastword_state WHERE id = 1) + json_extract(value, '$.o'), ${table}, json_extract(value, '$.uid'), json_extract(value, '$.before'), ${at}
    FROM json_each(${data})`)
  const rows = yield* all(sql`UPDATE lastword_state SET rev = rev + ${n} WHERE id = 1 RETURNING rev`)
  return Number(rows[0]?.['rev'])
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
  current: StoredRecord
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
