/**
 * The app-row half of a write transaction: the rows of the records a push changes, written set-based
 * (one upsert, one delete, whatever their number), and — when the database refuses the batch — found
 * one by one under savepoints, so a poison record is rejected and the rest still apply (attack V10).
 */
import { LastwordError } from '@lastword/core'
import { sql, type SQL } from 'drizzle-orm'
import { codeOf, type Dialect } from './dialect/types.js'
import type { ServerRecord } from './store.js'
import type { SyncedTable } from './tables.js'
import { RestartError, run, type Tx } from './tx.js'

/** A record's state before the transaction and the state it writes. */
export interface RowWrite {
  uid: string
  initial: ServerRecord | undefined
  state: ServerRecord
}

/**
 * Thrown out of a write transaction when the database refused the batched row write: the transaction
 * is rolled back and run again with {@link writeRowsIsolated} finding the rows it refuses. (A savepoint
 * around every batch would cost two statements — two round trips on PostgreSQL — on every push, for a
 * failure that is rare.)
 */
export class RowsRefusedError extends RestartError {}

/** Runs `body`, a batched row write without a savepoint: a row the database refuses becomes {@link RowsRefusedError}. */
export function* optimistically<T>(dialect: Dialect, body: Tx<T>): Tx<T> {
  try {
    return yield* body
  } catch (error) {
    if (!dialect.isRowError(error)) throw error
    throw new RowsRefusedError()
  }
}

/** Whether a stored state is a live row. */
export function isLive(record: ServerRecord | undefined): boolean {
  return record !== undefined && record.deleted_at === null
}

function ident(name: string): SQL {
  return sql`${sql.identifier(name)}`
}

/**
 * Writes the app rows of `finals`: one upsert and one delete, whatever their number. The rows travel as
 * ONE JSON parameter (the dialect's `rowsSource`), so neither statement count nor parameter count grows
 * with the push.
 */
export function* writeRows(dialect: Dialect, table: SyncedTable, finals: readonly RowWrite[]): Tx<void> {
  const upserts = finals.filter((f) => f.state.deleted_at === null)
  const deletes = finals.filter((f) => f.state.deleted_at !== null && isLive(f.initial)).map((f) => f.uid)
  if (upserts.length > 0) {
    const targets = [ident(table.uidSqlName), ...table.columns.map((c) => ident(c.sqlName))]
    const set = table.columns.map((c) => sql`${ident(c.sqlName)} = excluded.${ident(c.sqlName)}`)
    const onConflict = set.length === 0 ? sql`DO NOTHING` : sql`DO UPDATE SET ${sql.join(set, sql`, `)}`
    const rows = upserts.map((f) => {
      const image = f.state.image ?? {}
      const values = table.columns.map((c) => {
        const value = image[c.descriptor.name]
        return value === null || value === undefined ? null : dialect.payloadValue(c, value)
      })
      return [f.uid, ...values]
    })
    const source = dialect.rowsSource(table, rows)
    yield* run(sql`INSERT INTO ${table.table} (${sql.join(targets, sql`, `)}) ${source} ON CONFLICT (${ident(table.uidSqlName)}) ${onConflict}`)
  }
  if (deletes.length > 0) {
    yield* run(sql`DELETE FROM ${table.table} WHERE ${dialect.keyIn(table, deletes)}`)
  }
}

/**
 * Writes the app rows. Optimistically (`isolate` false) as one batch: a row the database refuses ends
 * the transaction with {@link RowsRefusedError} (one a constraint declared deferred refuses fails its
 * COMMIT; the caller isolates then too). Isolated: the batch under a savepoint, its deferred checks run
 * at once (`Dialect.checkDeferredNow`), then, if the database refuses one row (a constraint of the app's
 * table), each row under its own. Returns the refused rows by uid.
 */
export function* writeRowsIsolated(dialect: Dialect, table: SyncedTable, finals: readonly RowWrite[], isolate: boolean): Tx<Map<string, LastwordError>> {
  const failed = new Map<string, LastwordError>()
  if (finals.every((f) => f.state.deleted_at !== null && !isLive(f.initial))) return failed
  if (!isolate) {
    yield* optimistically(dialect, writeRows(dialect, table, finals))
    return failed
  }
  const batch = dialect.savepoint('lw_rows')
  const single = dialect.savepoint('lw_row')
  yield* run(batch.begin)
  try {
    yield* writeRows(dialect, table, finals)
    // A constraint declared deferred, checked now rather than at COMMIT (`Dialect.checkDeferredNow`).
    for (const final of finals) yield* dialect.checkDeferredNow(table, final.uid)
  } catch (error) {
    if (!dialect.isRowError(error)) throw error
    yield* run(batch.rollback)
    for (const final of finals) {
      yield* run(single.begin)
      try {
        yield* writeRows(dialect, table, [final])
        yield* dialect.checkDeferredNow(table, final.uid)
        yield* run(single.release)
      } catch (rowError) {
        if (!dialect.isRowError(rowError)) throw rowError
        yield* run(single.rollback)
        yield* run(single.release)
        const reason = String(codeOf(rowError))
        failed.set(final.uid, new LastwordError('INVALID_VALUE', `The database refused this row of "${table.name}" (a constraint of the table)`, { reason }))
      }
    }
  }
  yield* run(batch.release)
  return failed
}
