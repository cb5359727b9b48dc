/**
 * A synced table's key: its primary key column is the record's uid (core's table-key.ts, SPEC.md
 * section 4 "The key"), under whatever Drizzle key and SQL name the app gave it. A client creates
 * records offline, so it makes their ids itself with no round trip to the server: the key must be a
 * column that takes such an id — text, varchar (long enough for a UUID) or PostgreSQL uuid. Integer
 * keys (serial, identity, an integer or bigint the app numbers), composite keys and tables without a
 * primary key are refused when the server is created (and by `describeTables`), saying how to adapt.
 */
import { LastwordError } from '@lastword/core'
import { Column, Table, is } from 'drizzle-orm'
import { PrimaryKeyBuilder as PgPrimaryKeyBuilder } from 'drizzle-orm/pg-core'
import { PrimaryKeyBuilder as SQLitePrimaryKeyBuilder } from 'drizzle-orm/sqlite-core'

/** Column kinds a key may be, and whether its uids are UUIDs. */
const KEY_KINDS: Readonly<Record<string, 'text' | 'uuid'>> = { SQLiteText: 'text', PgText: 'text', PgVarchar: 'text', PgUUID: 'uuid' }

/** Integer kinds, named in the refusal of an integer key (their values come from a sequence or the app). */
const INTEGER_KINDS = /Integer|Serial|SmallInt|BigInt/

/** The length of a UUID, what the client makes a uid of: a varchar key shorter than this cannot hold one. */
const UUID_LENGTH = 36

// Drizzle keeps a table's extra config (composite keys, indexes) under these registered symbols, in both
// dialects; `getTableConfig` reads them the same way, one import per dialect.
const EXTRA_CONFIG_BUILDER = Symbol.for('drizzle:ExtraConfigBuilder')
const EXTRA_CONFIG_COLUMNS = Symbol.for('drizzle:ExtraConfigColumns')

const HOW =
  "lastword needs one text, varchar or uuid primary key: clients create records offline and make their ids themselves (UUIDs), without asking the server. Declare it as, e.g., id: uuid('id').primaryKey().defaultRandom() (PostgreSQL) or id: text('id').primaryKey(); any name will do"

/** The columns of the table's composite primary keys (`primaryKey({ columns })` in its extra config). */
function compositeKeyColumns(table: Table): string[][] {
  const holder = table as unknown as Record<symbol, unknown>
  const build = holder[EXTRA_CONFIG_BUILDER]
  if (typeof build !== 'function') return []
  const config = (build as (columns: unknown) => unknown)(holder[EXTRA_CONFIG_COLUMNS]) ?? {}
  const values: unknown[] = Array.isArray(config) ? (config as unknown[]).flat(1) : Object.values(config as object)
  return values
    .filter((b) => is(b, PgPrimaryKeyBuilder) || is(b, SQLitePrimaryKeyBuilder))
    .map((b) => ((b as unknown as { columns?: Column[] }).columns ?? []).map((c) => c.name))
}

/** What {@link keyColumnOf} finds: the key's Drizzle key (the name rows carry the uid under), column and type. */
export interface KeyColumn {
  key: string
  column: Column
  keyType: 'text' | 'uuid'
}

/** The table's key, or `BAD_REQUEST` saying why the table has none lastword can use and how to give it one. */
export function keyColumnOf(name: string, table: Table, columns: Readonly<Record<string, Column>>): KeyColumn {
  let composite = compositeKeyColumns(table)
  let primary = Object.entries(columns).filter(([, column]) => column.primary)
  const single = composite.length === 1 && composite[0]?.length === 1 ? composite[0][0] : undefined
  if (single !== undefined && primary.length === 0) {
    // `primaryKey({ columns: [id] })`: one column, declared apart; the key as if inline.
    primary = Object.entries(columns).filter(([, column]) => column.name === single)
    composite = []
  }
  if (composite.length > 0 || primary.length > 1) {
    const names = composite[0] ?? primary.map(([key]) => key)
    throw new LastwordError(
      'BAD_REQUEST',
      `Table "${name}" has a composite primary key (${names.join(', ')}); ${HOW}. Keep (${names.join(', ')}) unique with a unique index`,
      { table: name, reason: 'composite-key' },
    )
  }
  const entry = primary[0]
  if (entry === undefined) {
    throw new LastwordError('BAD_REQUEST', `Table "${name}" has no primary key; ${HOW}`, { table: name, reason: 'no-key' })
  }
  const [key, column] = entry
  const keyType = KEY_KINDS[column.columnType]
  if (keyType === undefined) {
    const integer = INTEGER_KINDS.test(column.columnType)
    throw new LastwordError(
      'BAD_REQUEST',
      integer
        ? `Table "${name}" has an integer primary key ("${key}"): its values come from the database (a sequence, an identity) or the app's numbering, and a client offline cannot draw one; ${HOW}. An existing table can gain such a column (filled for its rows, then made the primary key), the integer staying an ordinary column`
        : `Table "${name}" has a primary key ("${key}", a ${column.columnType}) lastword cannot use; ${HOW}`,
      { table: name, column: key, reason: integer ? 'integer-key' : 'key-type', columnType: column.columnType },
    )
  }
  const { length } = column as unknown as { length?: unknown }
  if (keyType === 'text' && typeof length === 'number' && length < UUID_LENGTH) {
    throw new LastwordError(
      'BAD_REQUEST',
      `Table "${name}" has a varchar(${length}) primary key ("${key}"), too short for the ${UUID_LENGTH}-character UUIDs clients make; declare it varchar(${UUID_LENGTH}) or longer, text, or uuid`,
      { table: name, column: key, reason: 'key-too-short' },
    )
  }
  return { key, column, keyType }
}
