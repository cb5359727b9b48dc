/**
 * SQLite through drizzle-orm/better-sqlite3: one synchronous connection, one writer per database file.
 *
 * Transactions run synchronously between `BEGIN IMMEDIATE` (or `BEGIN` for a snapshot) and `COMMIT`,
 * so no other work of this process slips into them through the one shared connection; the write lock
 * `BEGIN IMMEDIATE` takes is held until commit, so what a write reads stays current — a rev that moved
 * since authorization makes the write start over (authorize is asynchronous and cannot run inside).
 * lastword changes no setting of the app's connection: `checkSettings` refuses one without WAL and
 * synchronous=FULL (packages/server/README.md, "The database").
 */
import { LastwordError, type ScalarValue } from '@lastword/core'
import { is, sql, type SQL } from 'drizzle-orm'
import { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import { all, run, runSync, RestartError, type Op, type Tx } from '../tx.js'
import type { SyncedColumn, SyncedTable } from '../tables.js'
import { captureOff, captureOn, dropCapture, installCapture } from './sqlite-capture.js'
import { checkForeignKeysNow } from './sqlite-deferred.js'
import {
  casingOf,
  codeOf,
  rootCause,
  sleep,
  standardSavepoint,
  toEngineError,
  type CommitWatch,
  type CommitWatchOptions,
  type Dialect,
  type Driver,
  type DriverOptions,
  type MetaWrite,
} from './types.js'

/** What lastword uses of a better-sqlite3 `Database` (its public API). */
interface SqliteClient {
  prepare: (...args: unknown[]) => unknown
  pragma: (source: string, options?: { simple?: boolean }) => unknown
  inTransaction: boolean
  /** An in-memory or temporary database: nothing to make durable. */
  memory: boolean
}

interface SqliteDb {
  all(query: SQL): unknown
  run(query: SQL): unknown
  $client: SqliteClient
}

const RETRYABLE = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED'])
/** `PRAGMA synchronous` values: 2 = FULL, 3 = EXTRA. */
const DURABLE_SYNCHRONOUS = 2

function open(input: unknown, options: DriverOptions): Driver {
  const db = input as SqliteDb
  const client = db.$client
  if (client === undefined || typeof client.prepare !== 'function' || typeof client.pragma !== 'function') {
    throw new LastwordError('BAD_REQUEST', 'lastword supports SQLite through drizzle-orm/better-sqlite3; pass drizzle(new Database(file))')
  }
  const maxAttempts = options.maxAttempts ?? 5

  const exec = (op: Op): unknown => {
    switch (op.kind) {
      case 'all':
        return db.all(op.query)
      case 'run':
        return (db.run(op.query) as { changes: number }).changes
      case 'call': {
        const result = op.fn()
        if (typeof (result as { then?: unknown } | null)?.then === 'function') {
          throw new LastwordError('INTERNAL', 'Asynchronous work inside a SQLite transaction is not possible')
        }
        return result
      }
    }
  }

  const transact = <T>(begin: string, body: () => Tx<T>): T => {
    db.run(sql.raw(begin))
    try {
      const result = runSync(body(), exec)
      db.run(sql.raw('COMMIT'))
      return result
    } catch (error) {
      if (client.inTransaction) db.run(sql.raw('ROLLBACK'))
      throw error
    }
  }

  const withRetries = async <T>(fn: () => T): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return fn()
      } catch (error) {
        if (error instanceof RestartError) throw error
        if (!sqliteDialect.isRetryable(error) || attempt >= maxAttempts) throw toEngineError(sqliteDialect, error, options.logger)
        await sleep(Math.random() * 20 * attempt)
      }
    }
  }

  const driver: Driver = {
    dialect: sqliteDialect,
    casing: casingOf(db),
    write: (body) => withRetries(() => transact('BEGIN IMMEDIATE', body)),
    read: (body) => withRetries(() => transact('BEGIN', body)),
    once: (body) => withRetries(() => runSync(body(), exec)),
    async checkSettings() {
      // In memory there is nothing to make durable (and no WAL to have).
      if (client.memory) return
      const journal = String(client.pragma('journal_mode', { simple: true })).toLowerCase()
      const synchronous = Number(client.pragma('synchronous', { simple: true }))
      if (journal !== 'wal' || synchronous < DURABLE_SYNCHRONOUS) {
        throw new LastwordError(
          'BAD_REQUEST',
          `lastword needs the SQLite database in WAL mode with synchronous=FULL (found journal_mode=${journal}, synchronous=${synchronous}); ` +
            `after opening it run db.pragma('journal_mode = WAL') and db.pragma('synchronous = FULL') (packages/server/README.md, "The database")`,
          { journalMode: journal, synchronous },
        )
      }
    },
    script: (statements) =>
      withRetries(() =>
        transact('BEGIN IMMEDIATE', function* () {
          for (const statement of statements) yield* run(sql.raw(statement))
          // Column stamps of field-merge tables (SPEC.md section 3a): a database made before them gains the
          // column (SQLite has no ADD COLUMN IF NOT EXISTS); existing records read as "every column at updated_at".
          const columns = yield* all(sql`SELECT name FROM pragma_table_info('lastword_meta')`)
          if (columns.length > 0 && !columns.some((c) => c['name'] === 'fields')) yield* run(sql`ALTER TABLE lastword_meta ADD COLUMN fields TEXT`)
        }),
      ),
    close: () => undefined,
    // One writer per database file (BEGIN IMMEDIATE) and one process serving it: the in-process lock is enough.
    lease: () => null,
    watchCommits: (watch) => (client.memory ? null : watchDataVersion(client, watch)),
    // One process serves a database file (packages/server/README.md, "Change hooks").
    tryExclusive: async () => ({ release: async () => undefined }),
  }
  return driver
}

/**
 * Polls `PRAGMA data_version` on the app's connection: it changes when another connection (another
 * process, or another connection of this one) commits, never for this connection's own commits. Those
 * are the engine's (delivered from memory) — or the app's own writes through the same connection (its
 * Drizzle handle, raw SQL on the client), which the capture triggers log but nothing else would report
 * before the backstop check. So the poll also reads `total_changes()`, the rows this connection has
 * changed: when it moved (outside a transaction, so only committed writes count), the feed reads the
 * version row — for the engine's own commits that finds nothing new to read. Both reads are a few
 * microseconds, so the poll is cheap.
 */
function watchDataVersion(client: SqliteClient, watch: CommitWatchOptions): CommitWatch {
  const { timers } = watch
  const read = (): number => Number(client.pragma('data_version', { simple: true }))
  const changes = client.prepare('SELECT total_changes()') as { pluck(): { get(): unknown } }
  const readChanges = (): number => Number(changes.pluck().get())
  let last: number | undefined
  let lastChanges: number | undefined
  let failing = false
  let closed = false
  let handle: unknown
  const poll = (): void => {
    if (closed) return
    try {
      const version = read()
      if (failing) watch.onResumed()
      failing = false
      const own = client.inTransaction ? lastChanges : readChanges()
      if ((last !== undefined && version !== last) || (lastChanges !== undefined && own !== lastChanges)) watch.onCommit()
      last = version
      lastChanges = own
    } catch (error) {
      // The app closed its connection, or the file is gone: said once, tried again at every poll.
      if (!failing) watch.logger.warn({ err: error }, 'lastword: could not read the SQLite data version; the change feed polls on')
      failing = true
    }
    handle = timers.set(poll, watch.pollIntervalMs)
  }
  poll()
  return {
    async close() {
      closed = true
      timers.clear(handle)
    },
  }
}

/** A filter value as SQLite stores it: timestamps as epoch ms, booleans as 0/1. */
function scopeValue(column: SyncedColumn, value: ScalarValue): SQL {
  const type = column.descriptor.type
  if (type === 'timestamp') return sql`${Date.parse(value as string)}`
  if (type === 'boolean') return sql`${value === true ? 1 : 0}`
  return sql`${value}`
}

/**
 * Inside `BEGIN IMMEDIATE`: whether any uid's rev moved since `expected` was read. Only the revs are
 * read (every write of a record gives it a new rev; a purge removes it): on a change the transaction
 * starts over, so the rows themselves are never needed here.
 */
function* holdStored(table: string, expected: ReadonlyMap<string, number>): Tx<{ moved: boolean; stored: null }> {
  const uids = [...expected.keys()]
  const rows = yield* all<{ uid: unknown; rev: unknown }>(
    sql`SELECT m.uid AS uid, m.rev AS rev FROM lastword_meta m WHERE m.tbl = ${table} AND ${inUids(sql`m.uid`, uids)} AND +m.rev > 0`,
  )
  let present = 0
  for (const row of rows) {
    if (expected.get(String(row.uid)) !== Number(row.rev)) return { moved: true, stored: null }
    present++
  }
  // A uid read as stored that is gone now (purged) moved too.
  let stored = 0
  for (const rev of expected.values()) if (rev !== 0) stored++
  return { moved: present !== stored, stored: null }
}

function inUids(column: SQL, uids: readonly string[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(uids)}))`
}

/** BEGIN IMMEDIATE serialises writers, so the state row read here cannot move before commit. */
function* commitChanges(table: string, writes: readonly MetaWrite[], at: number): Tx<number> {
  const n = writes.length
  const data = JSON.stringify(writes.map((w, i) => ({ o: i + 1, ...w })))
  yield* run(sql`INSERT INTO lastword_meta (tbl, uid, created_at, updated_at, deleted_at, rev, image, fields)
    SELECT ${table}, json_extract(value, '$.uid'), json_extract(value, '$.created_at'), json_extract(value, '$.updated_at'),
      json_extract(value, '$.deleted_at'), (SELECT rev FROM lastword_state WHERE id = 1) + json_extract(value, '$.o'), json_extract(value, '$.image'),
      json_extract(value, '$.fields')
    FROM json_each(${data}) WHERE true
    ON CONFLICT (tbl, uid) DO UPDATE SET created_at = excluded.created_at, updated_at = excluded.updated_at,
      deleted_at = excluded.deleted_at, rev = excluded.rev, image = excluded.image, fields = excluded.fields`)
  yield* run(sql`INSERT INTO lastword_changes (rev, tbl, uid, before, at)
    SELECT (SELECT rev FROM lastword_state WHERE id = 1) + json_extract(value, '$.o'), ${table}, json_extract(value, '$.uid'), json_extract(value, '$.before'), ${at}
    FROM json_each(${data})`)
  const rows = yield* all(sql`UPDATE lastword_state SET rev = rev + ${n} WHERE id = 1 RETURNING rev`)
  return Number(rows[0]?.['rev'])
}

/** SQLite through drizzle-orm/better-sqlite3. */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  accepts: (db) => is(db, BaseSQLiteDatabase),
  open,

  isRetryable: (error) => RETRYABLE.has(codeOf(error) ?? ''),
  isConnectionLoss: () => false,
  isRowError(error) {
    const code = codeOf(error)
    return code !== undefined && (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG')
  },

  missingObject(error) {
    const message = rootCause(error).message
    if (typeof message !== 'string') return undefined
    return message.startsWith('no such table') ? 'table' : message.startsWith('no such column') ? 'column' : undefined
  },

  migrationStatements: () => [
    `CREATE TABLE IF NOT EXISTS lastword_meta (tbl TEXT NOT NULL, uid TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT, rev INTEGER NOT NULL, image TEXT, fields TEXT, PRIMARY KEY (tbl, uid)) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS lastword_meta_rev ON lastword_meta (tbl, rev)`,
    `CREATE TABLE IF NOT EXISTS lastword_changes (rev INTEGER PRIMARY KEY, tbl TEXT NOT NULL, uid TEXT NOT NULL, before TEXT, at INTEGER NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS lastword_changes_uid ON lastword_changes (tbl, uid, rev)`,
    `CREATE INDEX IF NOT EXISTS lastword_changes_at ON lastword_changes (at)`,
    `CREATE TABLE IF NOT EXISTS lastword_state (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL, horizon_rev INTEGER NOT NULL)`,
    `INSERT OR IGNORE INTO lastword_state (id, rev, horizon_rev) VALUES (1, 0, 0)`,
    // Which principal each handshake clientId belongs to, until when (engine/clients.ts).
    `CREATE TABLE IF NOT EXISTS lastword_clients (client_id TEXT PRIMARY KEY, principal TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS lastword_clients_expiry ON lastword_clients (expires_at)`,
    // The database's id and the segments of its history (engine/lineage.ts, SPEC.md R12).
    `CREATE TABLE IF NOT EXISTS lastword_lineage (segment TEXT PRIMARY KEY, db_id TEXT NOT NULL, from_rev INTEGER NOT NULL, to_rev INTEGER) WITHOUT ROWID`,
    // Records erased on request, with the rev of their erasure, until retention passes it (engine/lineage.ts).
    `CREATE TABLE IF NOT EXISTS lastword_erasures (rev INTEGER PRIMARY KEY, tbl TEXT NOT NULL, uid TEXT NOT NULL)`,
    // Every distinct schema of each synced table, in order (engine/schema.ts).
    `CREATE TABLE IF NOT EXISTS lastword_schema (tbl TEXT NOT NULL, version INTEGER NOT NULL, descriptor TEXT NOT NULL, PRIMARY KEY (tbl, version)) WITHOUT ROWID`,
    // Each change hook's durable cursor: every rev up to it was handled (hooks/, engine/hook-store.ts).
    `CREATE TABLE IF NOT EXISTS lastword_hooks (name TEXT PRIMARY KEY, rev INTEGER NOT NULL) WITHOUT ROWID`,
    // The engine's mark on its own writes, inside its write transaction only (sqlite-capture.ts); empty between transactions.
    `CREATE TABLE IF NOT EXISTS lastword_capture_off (tbl TEXT PRIMARY KEY) WITHOUT ROWID`,
  ],
  inUids,
  scopeValue,
  // BINARY compares by code point, as core's matcher does.
  scopeColumn: (column) => {
    const ref = column.codec.compareExpr(sql`${column.column}`)
    return column.descriptor.type === 'text' ? sql`${ref} COLLATE BINARY` : ref
  },
  keyIn: (table, uids) => inUids(sql`${table.uid}`, uids),
  appRowJoin: (table) => sql`${table.uid} = m.uid`,
  uidOrder: (table: SyncedTable) => sql`${table.uid}`,
  // The driver value, read back with `json_extract`.
  payloadValue: (column, value) => column.codec.toDriver(value),
  rowsSource(table, rows) {
    const fields = Array.from({ length: table.columns.length + 1 }, (_, i) => sql.raw(`json_extract(value, '$[${i}]')`))
    return sql`SELECT ${sql.join(fields, sql`, `)} FROM json_each(${JSON.stringify(rows)}) WHERE true`
  },
  deferConstraints: () => sql.raw('PRAGMA defer_foreign_keys = ON'),
  checkDeferredNow: checkForeignKeysNow,
  savepoint: standardSavepoint,

  holdStored,
  releaseUnwritten: function* () {
    // BEGIN IMMEDIATE holds the only write lock: nothing was left to hold the uids.
  },
  commitChanges,

  installCapture,
  dropCapture,
  captureOff,
  captureOn,
  // BEGIN IMMEDIATE holds the only write lock until the batch commits.
  backfillLock: sql``,
}
