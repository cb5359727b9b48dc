/**
 * PostgreSQL through drizzle-orm/node-postgres (a `pg.Pool` for concurrency).
 *
 * Writes run READ COMMITTED and hold what they decide on with row locks: absent uids first get a
 * placeholder row (`rev = 0`, never committed), then every row is locked in uid order. A rev that
 * moved since authorization is authorized again inside the transaction. Revs follow commit order
 * because the version row is taken in the statement that writes the metadata, as the last one before
 * commit (trap 1). Strings compare in the "C" collation, the code-point order core uses.
 */
import { hasUuidKey, type ScalarValue } from '@lastword/core'
import { is, sql, type SQL } from 'drizzle-orm'
import { PgDatabase } from 'drizzle-orm/pg-core'
import { decodeMeta, META_COLUMNS, type ServerRecord } from '../store.js'
import type { SyncedColumn } from '../tables.js'
import { all, run, type Tx } from '../tx.js'
import { openPostgres } from './postgres-driver.js'
import { NOTIFY_STATEMENTS } from './postgres-listen.js'
import { captureOff, captureOn, dropCapture, installCapture } from './postgres-capture.js'
import { codeOf, rootCause, standardSavepoint, type Dialect, type HeldStored, type MetaWrite } from './types.js'

const RETRYABLE = new Set(['40001', '40P01'])
const CONNECTION_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE'])
const CONNECTION_MESSAGES = /Connection terminated|Client has encountered a connection error|connection is closed|timeout exceeded when trying to connect/i

function isConnectionLoss(error: unknown): boolean {
  const root = rootCause(error)
  const code = typeof root.code === 'string' ? root.code : undefined
  if (code !== undefined && (code.startsWith('08') || CONNECTION_CODES.has(code))) return true
  const message = typeof root.message === 'string' ? root.message : error instanceof Error ? error.message : ''
  return CONNECTION_MESSAGES.test(message)
}

/**
 * An untyped parameter would take the column's type: 1.5 fails as int4, 3e9 overflows it, and float4
 * would round the bound. bigint and double precision compare exactly with every width.
 */
function scopeValue(column: SyncedColumn, value: ScalarValue): SQL {
  const type = column.descriptor.type
  if (type === 'integer' || type === 'real') {
    const n = value as number
    return type === 'integer' && Number.isInteger(n) ? sql`CAST(${n} AS bigint)` : sql`CAST(${n} AS double precision)`
  }
  return sql`${value}`
}

/**
 * Holds the metadata of some uids for a write. PostgreSQL cannot lock a row that does not exist yet,
 * so absent uids first get a placeholder (`rev = 0`, never committed: every absent uid of a write is
 * written or the transaction rolls back), and then every row is locked in uid order, so two writers
 * meet in the same order and a deadlock is rare (and retried when it happens).
 */
function* holdStored(table: string, expected: ReadonlyMap<string, number>): Tx<HeldStored> {
  const uids = [...expected.keys()]
  const list = sql.param([...uids].sort())
  yield* run(sql`INSERT INTO lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image)
    SELECT CAST(${table} AS text), u, '', '', NULL, 0, NULL FROM unnest(CAST(${list} AS text[])) AS u ORDER BY u
    ON CONFLICT (tbl, uid) DO NOTHING`)
  const rows = yield* all(
    sql`SELECT ${META_COLUMNS} FROM lastword_meta m WHERE m.tbl = ${table} AND m.uid = ANY(CAST(${list} AS text[])) ORDER BY m.uid FOR UPDATE`,
  )
  const stored = new Map<string, ServerRecord>()
  for (const row of rows) if (Number(row['rev']) > 0) stored.set(String(row['uid']), decodeMeta(row))
  return { stored, moved: uids.some((uid) => (stored.get(uid)?.rev ?? 0) !== expected.get(uid)) }
}

/** One statement: the version row is taken in the same statement that writes what it numbers. */
function* commitChanges(table: string, writes: readonly MetaWrite[], at: number): Tx<number> {
  const n = writes.length
  const data = JSON.stringify(writes.map((w, i) => ({ o: i + 1, ...w })))
  const rows = yield* all(sql`WITH v AS (UPDATE lastword_state SET rev = rev + CAST(${n} AS bigint) WHERE id = 1 RETURNING rev),
      d AS (SELECT * FROM json_to_recordset(CAST(${data} AS json)) AS x(o bigint, uid text, created_at text, updated_at text, deleted_at text, image text, before text, fields text)),
      m AS (INSERT INTO lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image, fields)
        SELECT CAST(${table} AS text), d.uid, d.created_at, d.updated_at, d.deleted_at, v.rev - CAST(${n} AS bigint) + d.o, d.image, d.fields FROM d CROSS JOIN v
        ON CONFLICT (tbl, uid) DO UPDATE SET created_at = excluded.created_at, updated_at = excluded.updated_at,
          deleted_at = excluded.deleted_at, rev = excluded.rev, image = excluded.image, fields = excluded.fields),
      c AS (INSERT INTO lastword_changes (rev, tbl, uid, before, at)
        SELECT v.rev - CAST(${n} AS bigint) + d.o, CAST(${table} AS text), d.uid, d.before, CAST(${at} AS bigint) FROM d CROSS JOIN v)
      SELECT rev FROM v`)
  return Number(rows[0]?.['rev'])
}

/** PostgreSQL through drizzle-orm/node-postgres. */
export const postgresDialect: Dialect = {
  name: 'postgres',
  accepts: (db) => is(db, PgDatabase),
  open: (db, options) => openPostgres(postgresDialect, db, options),

  isRetryable: (error) => RETRYABLE.has(codeOf(error) ?? ''),
  isConnectionLoss,
  isRowError(error) {
    const code = codeOf(error)
    return code !== undefined && (code.startsWith('23') || code.startsWith('22'))
  },

  missingObject(error) {
    const code = codeOf(error)
    return code === '42P01' ? 'table' : code === '42703' ? 'column' : undefined
  },

  migrationStatements: () => [
    // uid in "C" collation: pages are cut in code-point order, the order clients list their uids in.
    `CREATE TABLE IF NOT EXISTS lastword_meta (tbl text NOT NULL, uid text COLLATE "C" NOT NULL, created_at text NOT NULL, updated_at text NOT NULL, deleted_at text, rev bigint NOT NULL, image text, fields text, PRIMARY KEY (tbl, uid))`,
    // Column stamps of field-merge tables (SPEC.md section 3a); a database made before them gains the
    // column, every existing record reading as "every column at updated_at" (no loss).
    `ALTER TABLE lastword_meta ADD COLUMN IF NOT EXISTS fields text`,
    `CREATE INDEX IF NOT EXISTS lastword_meta_rev ON lastword_meta (tbl, rev)`,
    `CREATE TABLE IF NOT EXISTS lastword_changes (rev bigint PRIMARY KEY, tbl text NOT NULL, uid text COLLATE "C" NOT NULL, before text, at bigint NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS lastword_changes_uid ON lastword_changes (tbl, uid, rev)`,
    `CREATE INDEX IF NOT EXISTS lastword_changes_at ON lastword_changes (at)`,
    `CREATE TABLE IF NOT EXISTS lastword_state (id integer PRIMARY KEY CHECK (id = 1), rev bigint NOT NULL, horizon_rev bigint NOT NULL)`,
    `INSERT INTO lastword_state (id, rev, horizon_rev) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING`,
    // Which principal each handshake clientId belongs to, until when (engine/clients.ts).
    `CREATE TABLE IF NOT EXISTS lastword_clients (client_id text PRIMARY KEY, principal text NOT NULL, expires_at bigint NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS lastword_clients_expiry ON lastword_clients (expires_at)`,
    // The database's id and the segments of its history (engine/lineage.ts, SPEC.md R12).
    `CREATE TABLE IF NOT EXISTS lastword_lineage (segment text PRIMARY KEY, db_id text NOT NULL, from_rev bigint NOT NULL, to_rev bigint)`,
    // Records erased on request, with the rev of their erasure, until retention passes it (engine/lineage.ts).
    `CREATE TABLE IF NOT EXISTS lastword_erasures (rev bigint PRIMARY KEY, tbl text NOT NULL, uid text COLLATE "C" NOT NULL)`,
    // Every distinct schema of each synced table, in order (engine/schema.ts).
    `CREATE TABLE IF NOT EXISTS lastword_schema (tbl text NOT NULL, version integer NOT NULL, descriptor text NOT NULL, PRIMARY KEY (tbl, version))`,
    // Each change hook's durable cursor: every rev up to it was handled (hooks/, engine/hook-store.ts).
    `CREATE TABLE IF NOT EXISTS lastword_hooks (name text PRIMARY KEY, rev bigint NOT NULL)`,
    // The version row notifies at commit (postgres-listen.ts): the change feed of every node wakes up.
    ...NOTIFY_STATEMENTS,
    // Changes of captured tables, from their row triggers until the commit-time trigger logs them (postgres-capture.ts); empty between transactions.
    `CREATE TABLE IF NOT EXISTS lastword_pending (id bigserial PRIMARY KEY, tbl text NOT NULL, uid text COLLATE "C" NOT NULL, before text, image text, fm boolean NOT NULL)`,
  ],
  // `= ANY(array)` plans as index lookups or a hashed filter even on tables without statistics (an
  // `IN (SELECT unnest(…))` can degrade to a nested loop there).
  inUids: (column, uids) => sql`${column} = ANY(CAST(${sql.param([...uids])} AS text[]))`,
  scopeValue,
  scopeColumn(column, ranged) {
    const ref = column.codec.compareExpr(sql`${column.column}`)
    // Equality is the same in every deterministic collation; only order needs "C" (and equality keeps
    // the column's index usable).
    return column.descriptor.type === 'text' && ranged ? sql`${ref} COLLATE "C"` : ref
  },
  // A uuid key compares with uuids, so the key's index serves the comparison: its uids are canonical
  // UUIDs (core's assertTableUid, checked before any write), so their cast never fails.
  keyIn: (table, uids) => sql`${table.uid} = ANY(CAST(${sql.param([...uids])} AS ${sql.raw(hasUuidKey(table.descriptor) ? 'uuid[]' : 'text[]')}))`,
  // `m.uid` is in the "C" collation and the app's text key in its own (the database default):
  // PostgreSQL cannot use that key's index for a comparison in another collation, and would hash the
  // whole app table for every page. Equality is the same in every deterministic collation. A uuid key
  // casts `m.uid`, only on the rows of its own table (the CASE): PostgreSQL evaluates a join's and a
  // WHERE's conditions in any order, and other tables' uids are no UUIDs.
  appRowJoin: (table) =>
    hasUuidKey(table.descriptor)
      ? sql`${table.uid} = CASE WHEN m.tbl = ${table.name} THEN CAST(m.uid AS uuid) END`
      : sql`${table.uid} = m.uid COLLATE "default"`,
  // uuids sort by their bytes: the code-point order of their canonical lowercase text, as core sorts uids.
  uidOrder: (table) => (hasUuidKey(table.descriptor) ? sql`${table.uid}` : sql`${table.uid} COLLATE "C"`),
  // What `json_to_recordset` parses into the column's type: ISO strings, booleans, numbers, JSON as is.
  payloadValue: (_column, value) => value,
  rowsSource(table, rows) {
    // Aliases c0… and the declared types come from the schema, never from the wire.
    const names = ['uid', ...table.columns.map((_, i) => `c${i}`)]
    const types = [table.uidSqlType, ...table.columns.map((c) => c.sqlType)]
    const definition = sql.raw(names.map((n, i) => `${n} ${types[i]}`).join(', '))
    const objects = rows.map((values) => Object.fromEntries(values.map((v, i) => [names[i], v])))
    return sql`SELECT ${sql.raw(names.map((n) => `x.${n}`).join(', '))} FROM json_to_recordset(CAST(${JSON.stringify(objects)} AS json)) AS x(${definition})`
  },
  deferConstraints: () => sql.raw('SET CONSTRAINTS ALL DEFERRED'),
  // Checks every deferred constraint still pending now (only the row just written is), and keeps them immediate.
  checkDeferredNow: function* () {
    yield* run(sql.raw('SET CONSTRAINTS ALL IMMEDIATE'))
  },
  savepoint: standardSavepoint,

  holdStored,
  *releaseUnwritten(table, uids) {
    if (uids.length === 0) return
    yield* run(sql`DELETE FROM lastword_meta WHERE tbl = ${table} AND rev = 0 AND uid = ANY(CAST(${sql.param([...uids])} AS text[]))`)
  },
  commitChanges,

  installCapture,
  dropCapture,
  captureOff,
  captureOn,
  // A row deleted while its batch runs must not come back as a record: its batch holds it until commit.
  backfillLock: sql` FOR SHARE`,
}
