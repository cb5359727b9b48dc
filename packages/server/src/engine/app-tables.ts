/**
 * The first-run check of the app's own tables: `migrate()` refuses to serve a synced table the
 * database does not have (or that lacks a column of its Drizzle schema) with a `BAD_REQUEST` naming it
 * and saying how to create it, instead of failing the first write with an `INTERNAL` error. lastword
 * creates only its own tables; the app's come from the app's migrations.
 */
import { LastwordError } from '@lastword/core'
import { getTableName, sql } from 'drizzle-orm'
import type { Driver } from './dialect/types.js'
import type { SyncedTable } from './tables.js'
import { all } from './tx.js'

/** Refuses the first synced table that is missing from the database, or lacks one of its columns. */
export async function checkAppTables(driver: Driver, tables: Iterable<SyncedTable>): Promise<void> {
  for (const table of tables) {
    const columns = [table.uidSqlName, ...table.columns.map((c) => c.sqlName)].map((name) => sql.identifier(name))
    try {
      // Reads no row: only resolves the table and its columns.
      await driver.once(() => all(sql`SELECT ${sql.join(columns, sql`, `)} FROM ${table.table} WHERE 1 = 0`))
    } catch (error) {
      const missing = driver.dialect.missingObject(error)
      if (missing === undefined) throw error
      const sqlName = getTableName(table.table)
      const what =
        missing === 'table'
          ? `The database has no table "${sqlName}" (synced table "${table.name}")`
          : `The table "${sqlName}" (synced table "${table.name}") lacks a column of its Drizzle schema`
      throw new LastwordError(
        'BAD_REQUEST',
        `${what}: lastword creates only its own tables. Create the app's tables first (run your Drizzle migrations, or \`drizzle-kit push\`), then call migrate()`,
        { table: table.name },
      )
    }
  }
}
