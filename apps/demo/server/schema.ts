/**
 * The demo's synced tables, for each dialect: lists, and the todos that belong to them. The web app
 * takes its row types from here through a type-only import (`Todo`, `List`), so no Drizzle code reaches
 * the browser.
 */
import { boolean, pgTable, text as pgText, type AnyPgColumn } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core'

export const sqliteLists = sqliteTable('lists', {
  uid: text('uid').primaryKey(),
  name: text('name').notNull(),
  edited_by: text('edited_by'),
})

export const sqliteTodos = sqliteTable('todos', {
  uid: text('uid').primaryKey(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
  /** Which simulated device wrote the current version (shown as "who won"). */
  edited_by: text('edited_by'),
  /**
   * The list the todo belongs to. Deleting a list deletes its todos (`onDelete: 'cascade'`): lastword
   * carries the key in the descriptors, so a device deletes the todos it holds with the list, and the
   * server refuses an edit of a todo whose list is gone (core's SPEC.md section 4a). Nullable only for
   * todos written before lists existed.
   */
  list_uid: text('list_uid').references((): AnySQLiteColumn => sqliteLists.uid, { onDelete: 'cascade' }),
})

export const pgLists = pgTable('lists', {
  uid: pgText('uid').primaryKey(),
  name: pgText('name').notNull(),
  edited_by: pgText('edited_by'),
})

export const pgTodos = pgTable('todos', {
  uid: pgText('uid').primaryKey(),
  title: pgText('title').notNull(),
  done: boolean('done').notNull().default(false),
  edited_by: pgText('edited_by'),
  list_uid: pgText('list_uid').references((): AnyPgColumn => pgLists.uid, { onDelete: 'cascade' }),
})

/** A todo as the app sees it. */
export type Todo = typeof sqliteTodos.$inferSelect
/** A list as the app sees it. */
export type List = typeof sqliteLists.$inferSelect

/**
 * The synced tables as the web app types its client (`createSyncClient<DemoTables>`, a type-only
 * import). Both dialects' tables have the same columns and keys, so the same descriptors
 * (`src/lastword-tables.json`, written by `describeTables`; the server checks them at start).
 */
export const demoTables = {
  lists: sqliteLists,
  // Column by column (core's SPEC.md section 3a): a rename on one device and a tick on another both survive.
  todos: { table: sqliteTodos, merge: 'field' as const },
}
export type DemoTables = typeof demoTables

/** Raw DDL run at start, before lastword's own `migrate()`; the foreign key is the database's too. */
export const CREATE_SQLITE = [
  `CREATE TABLE IF NOT EXISTS lists (
  uid text PRIMARY KEY NOT NULL,
  name text NOT NULL,
  edited_by text
)`,
  `CREATE TABLE IF NOT EXISTS todos (
  uid text PRIMARY KEY NOT NULL,
  title text NOT NULL,
  done integer NOT NULL DEFAULT 0,
  edited_by text,
  list_uid text REFERENCES lists(uid) ON DELETE CASCADE
)`,
]
/** A database made before lists: its todos gain the column (SQLite has no ADD COLUMN IF NOT EXISTS). */
export const ADD_LIST_UID_SQLITE = 'ALTER TABLE todos ADD COLUMN list_uid text REFERENCES lists(uid) ON DELETE CASCADE'

export const CREATE_PG = [
  `CREATE TABLE IF NOT EXISTS lists (
  uid text PRIMARY KEY NOT NULL,
  name text NOT NULL,
  edited_by text
)`,
  `CREATE TABLE IF NOT EXISTS todos (
  uid text PRIMARY KEY NOT NULL,
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  edited_by text,
  list_uid text REFERENCES lists(uid) ON DELETE CASCADE
)`,
  'ALTER TABLE todos ADD COLUMN IF NOT EXISTS list_uid text REFERENCES lists(uid) ON DELETE CASCADE',
]
