/**
 * `dropCapture(db)`: removes lastword's capture triggers from every table of the database, for the app's
 * DDL that a trigger would stand in the way of. SQLite refuses `ALTER TABLE … DROP COLUMN` of a column a
 * trigger names, and lastword's triggers name every synced column; the next `migrate()` installs them
 * again from the tables as they are then, and backfills rows inserted meanwhile (ARCHITECTURE.md,
 * "Capture"). PostgreSQL's triggers read the row as JSON and survive a dropped column, but the call is
 * the same on both.
 */
import type { Logger } from '../types.js'
import { createDriver } from './driver.js'
import type { SyncDatabase } from './engine-types.js'

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

/**
 * Drops lastword's capture triggers from the app's database (both dialects). Writes made between this
 * and the next `migrate()` are not captured: run only the DDL in between.
 *
 * @example
 * await dropCapture(db)                      // before the app's migrations
 * migrate(db, { migrationsFolder: './drizzle' })
 * await sync.migrate()                       // triggers back, from the new columns
 */
export async function dropCapture(db: SyncDatabase): Promise<void> {
  const driver = createDriver(db, { logger: SILENT })
  try {
    await driver.write(() => driver.dialect.dropCapture([]))
  } finally {
    driver.close()
  }
}
