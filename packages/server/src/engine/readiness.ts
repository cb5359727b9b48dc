/**
 * The readiness check (`sync.ready()`): the database answers, and lastword's tables are as `migrate()`
 * makes them — every table with every column the engine reads, the version row, an open segment of the
 * database's history. Read-only, a constant number of statements, each `LIMIT 0` or one row.
 */
import { performance } from 'node:perf_hooks'
import { LastwordError, toLastwordError } from '@lastword/core'
import { sql } from 'drizzle-orm'
import type { Driver } from './dialect/types.js'
import { readLineageState } from './lineage.js'
import { all, type Tx } from './tx.js'

/** What {@link checkReadiness} found. */
export type ReadyResult =
  | {
      ready: true
      dialect: 'sqlite' | 'postgres'
      /** The rev the database stands at. */
      rev: number
      /** How long the check took, ms. */
      durationMs: number
    }
  | {
      ready: false
      /**
       * `closed`: the server was closed; `database-unreachable`: no answer, or an error, to a trivial
       * query (or none within the timeout); `migrations-pending`: a lastword table, column, the version
       * row or the history's open segment is missing — run `migrate()`.
       */
      reason: 'closed' | 'database-unreachable' | 'migrations-pending'
      /** A description for operators (an error code, the missing object); never row data. */
      message: string
      durationMs: number
    }

/** lastword's tables and the columns the engine reads of each (the migration statements' columns). */
export const LASTWORD_SCHEMA: Readonly<Record<string, readonly string[]>> = {
  lastword_meta: ['tbl', 'uid', 'created_at', 'updated_at', 'deleted_at', 'rev', 'image'],
  lastword_changes: ['rev', 'tbl', 'uid', 'before', 'at'],
  lastword_state: ['id', 'rev', 'horizon_rev'],
  lastword_clients: ['client_id', 'principal', 'expires_at'],
  lastword_lineage: ['segment', 'db_id', 'from_rev', 'to_rev'],
  lastword_erasures: ['rev', 'tbl', 'uid'],
  lastword_hooks: ['name', 'rev'],
}

function* ping(): Tx<void> {
  yield* all(sql`SELECT 1 AS one`)
}

function* schemaProbe(table: string): Tx<void> {
  const columns = (LASTWORD_SCHEMA[table] ?? []).map((c) => sql.identifier(c))
  yield* all(sql`SELECT ${sql.join(columns, sql`, `)} FROM ${sql.identifier(table)} LIMIT 0`)
}

function* stateProbe(): Tx<number> {
  const rows = yield* all(sql`SELECT rev FROM lastword_state WHERE id = 1`)
  if (rows[0] === undefined) throw new LastwordError('INTERNAL', 'lastword_state has no version row')
  // Throws when no segment of the history is open (migrate() opens one).
  yield* readLineageState()
  return Number(rows[0]['rev'])
}

/** Runs the check on `driver`, giving up after `timeoutMs` (`database-unreachable`). */
export async function checkReadiness(driver: Driver, timeoutMs: number): Promise<ReadyResult> {
  const started = performance.now()
  const elapsed = (): number => Math.max(0, performance.now() - started)
  const fail = (reason: 'database-unreachable' | 'migrations-pending', message: string): ReadyResult => ({ ready: false, reason, message, durationMs: elapsed() })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<ReadyResult>((resolve) => {
    timer = setTimeout(() => resolve(fail('database-unreachable', `No answer within ${timeoutMs} ms`)), timeoutMs)
    timer.unref()
  })
  const check = async (): Promise<ReadyResult> => {
    try {
      await driver.read(() => ping())
    } catch (error) {
      return fail('database-unreachable', `The database refused a trivial query (${toLastwordError(error).code})`)
    }
    for (const table of Object.keys(LASTWORD_SCHEMA)) {
      try {
        await driver.read(() => schemaProbe(table))
      } catch {
        return fail('migrations-pending', `${table} is missing or lacks a column: run migrate()`)
      }
    }
    try {
      const rev = await driver.read(() => stateProbe())
      return { ready: true, dialect: driver.dialect.name, rev, durationMs: elapsed() }
    } catch {
      return fail('migrations-pending', 'The version row or an open segment of the history is missing: run migrate()')
    }
  }
  try {
    return await Promise.race([check(), timeout])
  } finally {
    clearTimeout(timer)
  }
}
