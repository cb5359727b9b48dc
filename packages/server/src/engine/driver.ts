/**
 * The dialects lastword serves, and the one place that picks the dialect of the app's database. Each
 * dialect (`dialect/`) owns every difference between the databases; the engine only asks it.
 */
import { LastwordError } from '@lastword/core'
import { postgresDialect } from './dialect/postgres.js'
import { sqliteDialect } from './dialect/sqlite.js'
import type { Dialect, Driver, DriverOptions } from './dialect/types.js'

export type { Dialect, DialectName, Driver, DriverOptions, Lease, TableLockMode } from './dialect/types.js'

/** Every dialect lastword serves; a new one is one more implementation of {@link Dialect} here. */
const DIALECTS: readonly Dialect[] = [sqliteDialect, postgresDialect]

/** Detects the dialect of a Drizzle database and opens its driver. */
export function createDriver(db: unknown, options: DriverOptions): Driver {
  const match = DIALECTS.find((d) => d.accepts(db))
  if (match === undefined) {
    throw new LastwordError('BAD_REQUEST', 'db must be a Drizzle database from drizzle-orm/better-sqlite3 or drizzle-orm/node-postgres')
  }
  return match.open(db, options)
}
