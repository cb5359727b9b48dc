/**
 * `describeTables`: the table descriptors (core's `TableDescriptor`, SPEC.md section 4) of the app's
 * synced Drizzle tables — what the server sends in its `lw:hello`, computed without a database. An app
 * writes them to a JSON file at build time and passes them to `createSyncClient({ tables })`, so a
 * browser knows its tables before it ever connects, and no Drizzle code reaches the browser.
 */
import type { TableDescriptor } from '@lastword/core'
import { buildSyncedTable, type TableInput } from './engine/tables.js'
import { linkForeignKeys } from './engine/foreign-keys.js'
import type { Principal } from './types.js'

/**
 * The descriptors of `tables` (the object given to `createSyncServer` as `tables`), in its order: the
 * same the server's `lw:hello` gives, server-owned columns (`serverColumns`) marked `writable: false`, and
 * the foreign keys between synced tables (`foreignKeys`, to another synced table's uid).
 * Throws `BAD_REQUEST` for a table lastword cannot sync, as `createSyncServer` does.
 *
 * @example
 * // scripts/lastword-tables.ts — run at build time: npx tsx scripts/lastword-tables.ts
 * import { writeFileSync } from 'node:fs'
 * import { describeTables } from '@lastword/server'
 * import { tables } from '../server/sync-tables.js'
 * writeFileSync('src/lastword-tables.json', `${JSON.stringify(describeTables(tables), null, 2)}\n`)
 */
export function describeTables<P extends Principal = Principal>(tables: Readonly<Record<string, TableInput<P>>>): TableDescriptor[] {
  const synced = Object.entries(tables).map(([name, input]) => buildSyncedTable(name, input as TableInput, undefined))
  // Foreign keys to other synced tables' uid (core's SPEC.md section 4a): known once every table is built.
  linkForeignKeys(synced)
  return synced.map((t) => t.descriptor)
}
