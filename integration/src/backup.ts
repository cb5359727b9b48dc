/**
 * A backup of the server's database as an operator would take one, and its restore, for the restore rows
 * (T20): every table of the database — the app's and lastword's — copied row by row through the side
 * connection, and written back after emptying them. lastword keeps no state outside its tables (no
 * sequences: revs live in `lastword_state`), so a table copy is a faithful backup on both dialects.
 * The engine must not be writing while a backup is restored: close it first, and start a new one after.
 */
import { dropCapture } from '@lastword/server'
import type { Dialect, TestDatabase } from './databases.js'

/** Every table's rows at the moment of the backup. */
export type Backup = ReadonlyMap<string, ReadonlyArray<Record<string, unknown>>>

const TABLES: Record<Dialect, string> = {
  sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
  postgres: `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
}

const placeholders: Record<Dialect, (i: number) => string> = {
  sqlite: () => '?',
  postgres: (i) => `$${i + 1}`,
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** Copies every table of `database`. */
export async function takeBackup(database: TestDatabase): Promise<Backup> {
  const out = new Map<string, Array<Record<string, unknown>>>()
  for (const { name } of (await database.raw(TABLES[database.dialect])) as Array<{ name: string }>) {
    out.set(name, await database.raw(`SELECT * FROM ${quote(name)}`))
  }
  return out
}

/** Puts `database` back to `backup`: every table emptied, its rows at the backup written back. */
export async function restoreBackup(database: TestDatabase, backup: Backup): Promise<void> {
  // A restore puts rows back as they were, lastword's included: no capture trigger may see it (the
  // server's next migrate() installs them again).
  await dropCapture(database.db)
  const mark = placeholders[database.dialect]
  for (const [table, rows] of backup) {
    await database.raw(`DELETE FROM ${quote(table)}`)
    for (const row of rows) {
      const columns = Object.keys(row)
      await database.raw(
        `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map((_, i) => mark(i)).join(', ')})`,
        columns.map((c) => row[c]),
      )
    }
  }
}
