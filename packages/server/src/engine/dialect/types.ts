/**
 * What a dialect is: every difference between the databases lastword serves, in one object per
 * dialect (`sqlite.ts`, `postgres.ts`). Engine code asks the dialect and never names one; a third
 * dialect is one more implementation of {@link Dialect} and one more entry in `../driver.ts`.
 *
 * A dialect owns: recognising the app's Drizzle database and checking the settings lastword needs of
 * it; running transactions on it (isolation, retries, the cross-node table lock); classifying database
 * failures (retry, connection lost, the row's fault); the SQL that differs (lastword's own tables, uid
 * sets, scope values and collations, the set-based row write, the commit of metadata and the version
 * row); and the write protocol inside a transaction (how the stored metadata is held until commit).
 */
import { LastwordError, type ScalarValue } from '@lastword/core'
import { sql, type SQL } from 'drizzle-orm'
import type { FeedTimers } from '../../feed/timers.js'
import type { Logger } from '../../types.js'
import type { SyncedColumn, SyncedTable } from '../tables.js'
import type { ServerRecord } from '../store.js'
import type { Tx } from '../tx.js'

/** The name of a dialect, as `SyncEngine.dialect` reports it. */
export type DialectName = 'sqlite' | 'postgres'

/** How a sync holds its table's cross-node lock: `exclusive` when it writes, `shared` when it only reads. */
export type TableLockMode = 'shared' | 'exclusive'

/** Options of {@link Dialect.open}. */
export interface DriverOptions {
  logger: Logger
  /** Attempts for a transaction that fails transiently (serialization failure, deadlock, busy). */
  maxAttempts?: number
}

/** Transactions on the app's database, as the dialect runs them. */
export interface Driver {
  readonly dialect: Dialect
  /** The db's casing rule for column names, if it has one. */
  readonly casing: { getColumnCasing(column: never): string } | undefined
  /** A write transaction (SQLite IMMEDIATE, PostgreSQL READ COMMITTED), retried on transient failures. */
  write<T>(body: () => Tx<T>): Promise<T>
  /** A read-only snapshot (SQLite read transaction, PostgreSQL REPEATABLE READ READ ONLY). */
  read<T>(body: () => Tx<T>): Promise<T>
  /** Statements outside any transaction (each on its own). */
  once<T>(body: () => Tx<T>): Promise<T>
  /** Refuses a database without the settings lastword needs (`migrate()` calls it), saying how to fix it. */
  checkSettings(): Promise<void>
  /** Runs a multi-statement DDL script in one transaction (migrations). */
  script(statements: readonly string[]): Promise<void>
  /** Lets go of what the driver holds of its own; the app's database stays open and as it was. */
  close(): void
  /**
   * The cross-node lock of a table (or of several, taken in name order: a push unit spanning tables,
   * never a deadlock) for one sync's critical section (`table-lock.ts`), or `null` where
   * the dialect needs none (SQLite: one writer per file, one process serving it). The lease's driver
   * runs `write` and `read` holding the lock, taken at the first of them (so what runs before — reading
   * the stored metadata, authorizing — stays outside it); `once` runs unlocked. `release` must be
   * called once the section is over.
   */
  lease(table: string | readonly string[], mode: TableLockMode): Lease | null
  /**
   * Tells the change feed (`feed/`) when another connection committed: PostgreSQL LISTENs on a
   * connection of its own for the notification the version row's trigger sends at commit (re-established
   * after a loss, then `onResumed`); SQLite polls `PRAGMA data_version`, which changes when another
   * connection commits. `null`: the database gives no such signal here (an in-memory SQLite database, a
   * single `pg.Client`, `listen: false`); the feed's backstop check carries other processes' commits.
   */
  watchCommits(options: CommitWatchOptions): CommitWatch | null
  /**
   * An exclusive lock named `key` across every process on the database, held until released, or `null`
   * at once if another holder has it (PostgreSQL: a session advisory lock on a connection checked out for
   * as long as it is held; SQLite: one process serves a database file, so it is always granted). The
   * change hooks take one per delivery (`hooks/`).
   */
  tryExclusive(key: string): Promise<ExclusiveLock | null>
}

/** What {@link Driver.watchCommits} is told and calls. */
export interface CommitWatchOptions {
  /** Another connection committed; `rev` is the version row after it when the signal carries it. */
  onCommit(rev?: number): void
  /** The signal was lost and is back: what was committed meanwhile is unknown. */
  onResumed(): void
  timers: FeedTimers
  /** SQLite: how often the data version is read, ms. */
  pollIntervalMs: number
  /** PostgreSQL: whether to LISTEN at all. */
  listen: boolean
  logger: Logger
}

/** A running {@link Driver.watchCommits}. */
export interface CommitWatch {
  close(): Promise<void>
}

/** A held {@link Driver.tryExclusive} lock. */
export interface ExclusiveLock {
  /** Lets it go. Never throws. */
  release(): Promise<void>
}

/** A sync's hold on its table's cross-node lock; see {@link Driver.lease}. */
export interface Lease {
  readonly driver: Driver
  /** Ends the critical section: unlocks and gives the connection back. Never throws. */
  release(): Promise<void>
}

/**
 * What the write transaction learned about the stored metadata of its uids (see
 * {@link Dialect.holdStored}): whether it `moved` since it was read before the transaction, and — when
 * the dialect can authorize again inside the transaction — the state now held until commit.
 */
export interface HeldStored {
  moved: boolean
  /** The stored metadata as held now; `null`: the dialect cannot re-authorize here, start over if `moved`. */
  stored: Map<string, ServerRecord> | null
}

/** One record's new metadata, as written by {@link Dialect.commitChanges}. */
export interface MetaWrite {
  uid: string
  created_at: string
  updated_at: string
  deleted_at: string | null
  /** JSON of the last row image, or `null`. */
  image: string | null
  /** JSON of the live row before this transaction, or `null`. */
  before: string | null
  /** JSON of each column's stamp (tables declared `merge: 'field'`), or `null`. */
  fields: string | null
}

/** Every SQL and protocol difference between the databases lastword serves. */
export interface Dialect {
  readonly name: DialectName
  /** Whether `db` is a Drizzle database of this dialect. */
  accepts(db: unknown): boolean
  /** The driver over the app's database (throws `BAD_REQUEST` for a client lastword cannot use). */
  open(db: unknown, options: DriverOptions): Driver

  /** Whether the failure is transient: the transaction is retried (serialization failure, deadlock, busy). */
  isRetryable(error: unknown): boolean
  /** Whether the failure is a lost connection (answered `TRANSIENT`). */
  isConnectionLoss(error: unknown): boolean
  /** Whether the failure is the row's fault (a constraint, or a value the column refuses). */
  isRowError(error: unknown): boolean
  /** Whether the failure is a missing table or column of the app's schema (`app-tables.ts`). */
  missingObject(error: unknown): 'table' | 'column' | undefined

  /** The idempotent DDL of lastword's own tables (and, PostgreSQL, the version row's notification trigger). */
  migrationStatements(): string[]
  /** `column` is one of `uids`, with the whole set as ONE parameter. */
  inUids(column: SQL, uids: readonly string[]): SQL
  /** A filter value as a parameter of the column's comparison. */
  scopeValue(column: SyncedColumn, value: ScalarValue): SQL
  /** The left side of a filter comparison: the column, in code-point order for text when `ranged`. */
  scopeColumn(column: SyncedColumn, ranged: boolean): SQL
  /** The app table's key is one of `uids` (as {@link inUids}: the set as ONE parameter, of the key's type). */
  keyIn(table: SyncedTable, uids: readonly string[]): SQL
  /** The join condition of a record's metadata (`m`) to its app row (`m.uid` is text; the key may be a uuid). */
  appRowJoin(table: SyncedTable): SQL
  /** The app table's uid in code-point order, for `ORDER BY` (a uuid key: byte order, the same). */
  uidOrder(table: SyncedTable): SQL
  /** A normalised core value (never null) as the JSON value a set-based row write carries. */
  payloadValue(column: SyncedColumn, value: unknown): unknown
  /** A `SELECT` of `rows` (uid first, then the table's columns) from ONE JSON parameter. */
  rowsSource(table: SyncedTable, rows: readonly unknown[][]): SQL
  /**
   * The statement that defers the app's foreign-key checks to commit inside a write transaction, for a
   * push unit spanning tables (SPEC.md section 12): SQLite `PRAGMA defer_foreign_keys = ON` (every
   * foreign key); PostgreSQL `SET CONSTRAINTS ALL DEFERRED` (only constraints declared DEFERRABLE — a
   * Drizzle schema's are not, so there the unit's records land in the client's causal order).
   */
  deferConstraints(): SQL
  /**
   * In a push unit's isolated retry (write-unit.ts, U4), right after one row was written under its
   * savepoint: the checks the database would leave to COMMIT (a constraint declared `DEFERRABLE INITIALLY
   * DEFERRED`), run now for that row, throwing a row error (`isRowError`) when it breaks one, so that its
   * savepoint undoes it rather than the COMMIT failing. PostgreSQL: `SET CONSTRAINTS ALL IMMEDIATE` (every
   * deferred constraint, checked at that statement); SQLite: the row's foreign keys (sqlite-deferred.ts).
   */
  checkDeferredNow(table: SyncedTable, uid: string): Tx<void>
  /** The statements of a savepoint named `name`. */
  savepoint(name: string): { begin: SQL; rollback: SQL; release: SQL }

  /**
   * Inside the write transaction: holds the stored metadata of `expected`'s uids until commit and says
   * whether any rev moved since `expected` (each uid's rev, 0 when absent) was read.
   */
  holdStored(table: string, expected: ReadonlyMap<string, number>): Tx<HeldStored>
  /** Drops what {@link holdStored} left for uids the write ended up not writing. */
  releaseUnwritten(table: string, uids: readonly string[]): Tx<void>
  /**
   * Writes the metadata and the change log of a transaction's records and takes the version row, as
   * the last statement(s) before commit (trap 1): the records get revs `last - n + 1 … last` in the
   * given order. Returns `last`.
   */
  commitChanges(table: string, writes: readonly MetaWrite[], at: number): Tx<number>

  /**
   * Capture (ARCHITECTURE.md, "Capture"): installs or replaces the triggers of `tables` (the synced
   * tables with `capture` on), generated from their columns, and drops lastword's triggers from every
   * other table. Idempotent; `migrate()` runs it in one transaction after lastword's own tables.
   */
  installCapture(tables: readonly SyncedTable[]): Tx<void>
  /** Drops lastword's triggers from every table but those of `keep` (`[]`: all of them; `dropCapture(db)`). */
  dropCapture(keep: readonly SyncedTable[]): Tx<void>
  /**
   * Marks the rest of this write transaction's writes of `table` as lastword's own, so its triggers skip
   * them (the engine logs them itself, with the writer's stamps). Writes of other tables — an
   * `ON DELETE CASCADE` child — are still captured. What was captured of \`uids\` (the records whose rows
   * the engine writes next) earlier in the transaction — a cascade of a parent another table's part of the
   * unit deleted — is dropped: the engine's write of the row replaces it, and its metadata is the record's
   * (B27: PostgreSQL, whose captures are written at commit, wrote that earlier image over the engine's
   * tombstone).
   */
  captureOff(table: string, uids: readonly string[]): Tx<void>
  /** Ends {@link captureOff}; called before commit (the mark is never seen outside the transaction). */
  captureOn(table: string): Tx<void>
  /**
   * The clause a backfill batch reads the app's rows with: holds them until the batch commits (a row
   * deleted meanwhile must not come back as a record), or nothing where the write lock already does.
   */
  readonly backfillLock: SQL
}

/** Finds the driver error under drizzle's wrapper (`DrizzleQueryError.cause`). */
export function rootCause(error: unknown): { code?: unknown; message?: unknown } {
  let current: unknown = error
  for (let i = 0; i < 5; i++) {
    if (typeof current !== 'object' || current === null) break
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && !(current instanceof LastwordError)) return current as { code?: unknown }
    const cause = (current as { cause?: unknown }).cause
    if (cause === undefined) break
    current = cause
  }
  return (typeof current === 'object' && current !== null ? current : {}) as { code?: unknown }
}

/** The code of the driver error under `error`, if it has a string one. */
export function codeOf(error: unknown): string | undefined {
  const code = rootCause(error).code
  return typeof code === 'string' ? code : undefined
}

/** Turns a database failure into the error the caller sees, never echoing SQL or parameters. */
export function toEngineError(dialect: Dialect, error: unknown, logger: Logger): LastwordError {
  if (error instanceof LastwordError) return error
  if (dialect.isRetryable(error) || dialect.isConnectionLoss(error)) {
    logger.warn({ err: rootCause(error) }, 'lastword: transient database failure')
    return new LastwordError('TRANSIENT', 'The database is busy or the connection was lost; retry the request', undefined, { cause: error })
  }
  logger.error({ err: error }, 'lastword: database failure')
  return new LastwordError('INTERNAL', 'The server failed to apply the request', undefined, { cause: error })
}

/** The casing rule of a Drizzle database (`drizzle(client, { casing })`), if it has one. */
export function casingOf(db: unknown): Driver['casing'] {
  const casing = (db as { dialect?: { casing?: { getColumnCasing?: unknown } } }).dialect?.casing
  return casing !== undefined && typeof casing.getColumnCasing === 'function' ? (casing as Driver['casing']) : undefined
}

/** Waits `ms` before a retry. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The standard SQL of a savepoint (both dialects speak it). */
export function standardSavepoint(name: string): { begin: SQL; rollback: SQL; release: SQL } {
  // `name` is always one of lastword's own constants, never input.
  return { begin: sql.raw(`SAVEPOINT ${name}`), rollback: sql.raw(`ROLLBACK TO SAVEPOINT ${name}`), release: sql.raw(`RELEASE SAVEPOINT ${name}`) }
}
