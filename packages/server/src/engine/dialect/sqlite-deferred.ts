/**
 * SQLite's half of `Dialect.checkDeferredNow` (write-unit.ts, the isolated retry of a push unit, SPEC.md
 * section 12 U4): the foreign keys of the row just written, checked at once. SQLite has no way to make a
 * key declared `DEFERRABLE INITIALLY DEFERRED` immediate (`PRAGMA defer_foreign_keys = OFF` only stops
 * deferring the others), so such a key would be checked only at COMMIT, where no savepoint can single out
 * the row. Each key of the table (`pragma_foreign_key_list`, a composite one as one key) is checked for
 * that row alone, by its uid: as SQLite does, a key with a NULL column is not checked, and a key naming
 * no parent column means the parent's primary key.
 */
import { getTableName, sql, type SQL } from 'drizzle-orm'
import { all, type Tx } from '../tx.js'
import type { SyncedTable } from '../tables.js'

interface KeyColumn {
  id: number
  parent: string
  from: string
  to: string | null
}

/** Throws a row error (`SQLITE_CONSTRAINT_FOREIGNKEY`, as the statement would have) when the row of `uid` breaks a foreign key of `table`. */
export function* checkForeignKeysNow(table: SyncedTable, uid: string): Tx<void> {
  const child = getTableName(table.table)
  const columns = yield* all<KeyColumn>(sql`SELECT id, "table" AS parent, "from", "to" FROM pragma_foreign_key_list(${child}) ORDER BY id, seq`)
  const keys = new Map<number, KeyColumn[]>()
  for (const column of columns) keys.set(column.id, [...(keys.get(column.id) ?? []), column])
  for (const key of keys.values()) {
    const parent = (key[0] as KeyColumn).parent
    let to = key.map((c) => c.to)
    if (to.some((name) => name === null)) {
      const primary = yield* all<{ name: string }>(sql`SELECT name FROM pragma_table_info(${parent}) WHERE pk > 0 ORDER BY pk`)
      to = primary.map((p) => p.name)
    }
    const set: SQL[] = key.map((c) => sql`c.${sql.identifier(c.from)} IS NOT NULL`)
    const match: SQL[] = key.map((c, i) => sql`p.${sql.identifier(to[i] ?? c.from)} = c.${sql.identifier(c.from)}`)
    const broken = yield* all(
      sql`SELECT 1 FROM ${sql.identifier(child)} c WHERE c.${sql.identifier(table.uidSqlName)} = ${uid} AND ${sql.join(set, sql` AND `)} AND NOT EXISTS (SELECT 1 FROM ${sql.identifier(parent)} p WHERE ${sql.join(match, sql` AND `)})`,
    )
    if (broken.length > 0) throw Object.assign(new Error('FOREIGN KEY constraint failed'), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' })
  }
}
